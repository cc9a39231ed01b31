import RecurBase
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

/// Everything that controls training (saved in checkpoints).
public struct Seq2SeqTrainingConfig: Codable, Equatable, Sendable {
    /// Sentence pairs per batch.
    public var batchSize = 32
    /// Passes over the training pairs (the run stops after this many).
    public var epochs = 10
    /// Adam's learning rate.
    public var learningRate: Float = 1e-3
    /// Clip the global gradient norm to this (0: no clipping).
    public var clip: Float = 1
    /// Probability of feeding the gold previous word (1: always; below 1 the model's own
    /// prediction is fed otherwise, step by step).
    public var teacherForcing: Float = 1
    /// Fraction of the pairs held out for validation (chosen with the seed).
    public var validationFraction = 0.02
    /// Fraction of the pairs held out as a test set (written next to the run, never trained on).
    public var testFraction = 0.0
    /// Keep pairs whose sides have at most this many tokens (0: all).
    public var maxLength = 50
    /// Longest input `translate run` accepts, in tokens.
    public var maxInputLength = 200
    /// Words (or subwords) seen fewer times in training become `<unk>`.
    public var minCount = 1
    /// How sentences are split into tokens.
    public var tokenization: Tokenization = .unicode
    /// Validation pairs translated for BLEU after each epoch (0: all).
    public var validationBLEUPairs = 2000
    /// Steps between progress reports and metrics lines.
    public var logEvery = 50
    /// Seeds the split, initialization, batch order, dropout and teacher forcing.
    public var seed: UInt64 = 1
    /// Byte-pair-encoding merges learned from the training pairs (nil or 0: whole words).
    public var subwordMerges: Int?
    /// Learn one subword model per side instead of one for both (joint).
    public var separateSubwords: Bool?
    /// Label smoothing ε (Szegedy et al., 2016) of the training loss (nil: 0).
    public var labelSmoothing: Float?
    /// Average the weights of the last N epochs into `average/` (checkpoint averaging, as
    /// fairseq's `average_checkpoints.py`; nil or < 2: off).
    public var averageEpochs: Int?

    /// The defaults of `recur translate train`.
    public init() {}
}

/// Where training stands; saved in checkpoints so that a resumed run continues exactly.
public struct Seq2SeqProgress: Codable, Equatable, Sendable {
    /// Updates taken.
    public var step = 0
    /// Completed epochs.
    public var epoch = 0
    /// Batches of the current epoch already trained.
    public var batchInEpoch = 0
    /// Generator state that orders the current epoch's batches.
    public var epochOrderState: [UInt64] = []
    /// The best validation BLEU so far.
    public var bestValidationBLEU: Double?
    /// The epoch of `bestValidationBLEU`.
    public var bestEpoch: Int?
    /// Validation loss of the best model (breaks BLEU ties).
    public var bestValidationLoss: Double?
    /// The most recent validation BLEU.
    public var lastValidationBLEU: Double?
    /// The most recent validation loss per target token.
    public var lastValidationLoss: Double?
    /// Training time so far (excluding evaluation), seconds.
    public var trainingSeconds = 0.0
    /// Training pairs seen so far.
    public var trainedPairs = 0
    /// Steps whose gradients clipping scaled down.
    public var clippedSteps = 0

    /// A run that has not started.
    public init() {}
}

/// The JSON sidecar's `config` of a translation checkpoint.
public struct Seq2SeqCheckpointConfig: Codable, Sendable {
    /// The model's architecture.
    public var architecture: Seq2SeqArchitecture
    /// The source vocabulary (with its subword model, if any).
    public var sourceVocabulary: TranslationVocabulary
    /// The target vocabulary (with its subword model, if any).
    public var targetVocabulary: TranslationVocabulary
    /// The training settings.
    public var training: Seq2SeqTrainingConfig
    /// Where training stood.
    public var progress: Seq2SeqProgress
    /// The parallel file trained on and its number of usable pairs (checked on resume).
    public var dataPath: String
    /// The number of usable pairs in `dataPath`.
    public var dataPairs: Int
    /// How the target language is written (case, spacing), learned from the training targets;
    /// absent in checkpoints written before it existed (then Moses' English rules apply).
    public var targetStyle: TargetStyle?

    /// The tokenizer the model was trained with.
    public var tokenizer: WordTokenizer { WordTokenizer(training.tokenization) }

    /// The style translations are printed in.
    public var outputStyle: TargetStyle { targetStyle ?? .moses }
}

/// Kinds written into checkpoint sidecars.
public enum Seq2SeqCheckpoint {
    /// The `kind` of a translation checkpoint sidecar.
    public static let kind = "recur translate"
}

/// What the trainer reports while it runs.
public enum Seq2SeqEvent: Sendable {
    /// A training step finished (every `logEvery` steps).
    case step(Seq2SeqStepReport)
    /// Validation after an epoch: mean loss per target token and greedy BLEU.
    case evaluation(epoch: Int, loss: Double, bleu: Double, best: Bool)
    /// A checkpoint was written.
    case checkpoint(step: Int, directory: String)
    /// Something the user should know.
    case warning(String)
}

/// One step's numbers.
public struct Seq2SeqStepReport: Sendable {
    /// The update just taken (1-based).
    public var step: Int
    /// The step the run ends at.
    public var totalSteps: Int
    /// The epoch being trained (1-based).
    public var epoch: Int
    /// The step's mean cross-entropy per target token.
    public var loss: Double
    /// The global L2 norm of the gradients before clipping.
    public var gradientNorm: Float
    /// Training pairs per second over this run's steps.
    public var pairsPerSecond: Double
    /// Estimated seconds until the last step.
    public var secondsRemaining: Double
}

/// The result of a training run.
public struct Seq2SeqSummary: Sendable {
    /// Updates taken in total.
    public var steps: Int
    /// Epochs completed.
    public var epochs: Int
    /// Time in training steps only (no evaluation or checkpoint writes), this run.
    public var seconds: Double
    /// Training pairs per second over `seconds`.
    public var pairsPerSecond: Double
    /// Mean loss per target token of the last 50 steps.
    public var trainLoss: Double
    /// Greedy validation BLEU after the last epoch (nil without validation pairs).
    public var validationBLEU: Double?
    /// The best validation BLEU of the run (its model is in `best/`).
    public var bestValidationBLEU: Double?
    /// Whether a stop request ended the run; a checkpoint was saved.
    public var interrupted: Bool
    /// How many steps clipping scaled the gradients down.
    public var clippedSteps: Int
    /// The processes that trained (1 without a group).
    public var processes: Int = 1
    /// Of `seconds`, the time spent averaging gradients over the processes.
    public var communicationSeconds: Double = 0
}

/// Why training stopped.
public enum Seq2SeqTrainingError: Error, CustomStringConvertible {
    /// Pretrained vectors do not fit the embedding.
    case vectors(String)

    /// One line saying what went wrong and what to do.
    public var description: String {
        switch self {
        case .vectors(let message): return message
        }
    }
}

/// The data of a run: the split pairs and the vocabularies built from the training pairs.
public struct Seq2SeqData: Sendable {
    /// The training pairs.
    public var train: [SentencePair]
    /// The validation pairs.
    public var validation: [SentencePair]
    /// The test pairs (never trained on).
    public var test: [SentencePair]
    /// The source vocabulary, built from the training pairs.
    public var sourceVocabulary: TranslationVocabulary
    /// The target vocabulary, built from the training pairs.
    public var targetVocabulary: TranslationVocabulary
    /// How the training targets are written (case, spacing around punctuation).
    public var targetStyle: TargetStyle

    /// Splits `corpus` with the configuration's seed and builds vocabularies from the training
    /// part (or takes `vocabularies` from a checkpoint).
    public init(
        corpus: ParallelCorpus, config: Seq2SeqTrainingConfig,
        vocabularies: (TranslationVocabulary, TranslationVocabulary)? = nil
    ) {
        let split = corpus.split(
            validation: config.validationFraction, test: config.testFraction, seed: config.seed)
        (train, validation, test) = (split.train, split.validation, split.test)
        if let vocabularies {
            (sourceVocabulary, targetVocabulary) = vocabularies
        } else if let merges = config.subwordMerges, merges > 0 {
            func counts(_ sentences: [[String]]) -> [String: Int] {
                var c: [String: Int] = [:]
                for s in sentences { for w in s { c[w, default: 0] += 1 } }
                return c
            }
            let (sources, targets) = (train.map(\.source), train.map(\.target))
            let sourceModel: BytePairEncoding
            let targetModel: BytePairEncoding
            if config.separateSubwords == true {
                sourceModel = BytePairEncoding(learningFrom: counts(sources), merges: merges)
                targetModel = BytePairEncoding(learningFrom: counts(targets), merges: merges)
            } else {
                sourceModel = BytePairEncoding(
                    learningFrom: counts(sources + targets), merges: merges)
                targetModel = sourceModel
            }
            sourceVocabulary = TranslationVocabulary(
                sentences: sources, minCount: config.minCount, subwords: sourceModel)
            targetVocabulary = TranslationVocabulary(
                sentences: targets, minCount: config.minCount, subwords: targetModel)
        } else {
            sourceVocabulary = TranslationVocabulary(
                sentences: train.map(\.source), minCount: config.minCount)
            targetVocabulary = TranslationVocabulary(
                sentences: train.map(\.target), minCount: config.minCount)
        }
        targetStyle = TargetStyle(
            learningFrom: train.lazy.map(\.targetText),
            tokenizer: WordTokenizer(config.tokenization))
    }
}

/// Trains a `Seq2SeqModel` with Adam, gradient clipping and teacher forcing on length-bucketed
/// batches; validates (loss and greedy BLEU) after every epoch, keeps the best model in
/// `best/`, writes a JSON-lines metrics log and checkpoints that resume exactly (weights,
/// optimizer, generator, and the position inside the epoch).
///
/// With a `ProcessGroup` of several processes the training is data-parallel: each batch (the
/// global batch) is split into contiguous shares of its pairs, each process's gradient counts by
/// its target tokens, rank 0 validates and alone writes the metrics and checkpoints.
public final class Seq2SeqTrainer {
    /// The model being trained (its parameters are updated in place).
    public let model: Seq2SeqModel
    /// The split pairs and vocabularies.
    public let data: Seq2SeqData
    /// The run's training settings (saved in every checkpoint).
    public let config: Seq2SeqTrainingConfig
    /// Where checkpoints, `best/`, `average/` and `metrics.jsonl` are written.
    public let outputDirectory: String
    /// The parallel file trained on (recorded for resume and `inspect`).
    public let dataPath: String
    /// The number of usable pairs in `dataPath` (checked on resume).
    public let dataPairs: Int
    /// Where training stands (saved in every checkpoint).
    public private(set) var progress: Seq2SeqProgress
    private var rng: Xoshiro256
    private let optimizer: Adam
    private var loop: TrainingLoop?
    private var metrics: MetricsLog?
    /// The processes that share each batch.
    public let group: any ProcessGroup

    /// A trainer; with `resume`, training continues exactly where the checkpoint stopped.
    ///
    /// - Throws: when the optimizer state in `resume` does not fit the model's parameters.
    public init(
        model: Seq2SeqModel, data: Seq2SeqData, config: Seq2SeqTrainingConfig,
        outputDirectory: String, dataPath: String,
        dataPairs: Int, resume: Seq2SeqResumeState? = nil,
        group: any ProcessGroup = SingleProcess()
    ) throws {
        self.group = group
        self.model = model
        self.data = data
        self.config = config
        self.outputDirectory = outputDirectory
        self.dataPath = dataPath
        self.dataPairs = dataPairs
        optimizer = Adam(parameters: model.parameters(), learningRate: config.learningRate)
        if let resume {
            progress = resume.progress
            rng = resume.rng
            try optimizer.load(resume.optimizer)
        } else {
            progress = Seq2SeqProgress()
            var seeded = Xoshiro256(seed: config.seed)
            rng = seeded.split(stream: 2)
            progress.epochOrderState = seeded.split(stream: 3).stateWords
        }
        try group.requireEvenShares(of: config.batchSize)
        try group.requireAgreement(on: digest)
        group.broadcastValues(model.parameters().map(\.parameter))
    }

    /// A digest of what every process must share: the pairs, the settings, the architecture and
    /// where training stands.
    private func digest() -> [UInt8] {
        var sha = SHA256()
        for pair in data.train {
            sha.update(
                Array((pair.source + ["\t"] + pair.target + ["\n"]).joined(separator: " ").utf8))
        }
        sha.update(
            Array("\(config)|\(model.architecture)|\(progress.step)|\(data.validation.count)".utf8))
        return Array(sha.finalizeHex().utf8)
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int { (data.train.count + config.batchSize - 1) / config.batchSize }

    /// Runs until `config.epochs` are done or `shouldStop` returns true (then a checkpoint is
    /// written and the summary says `interrupted`).
    ///
    /// In a group, every process reports the same (agreed) events; show rank 0's.
    public func run(
        shouldStop: () -> Bool = { false }, report: (Seq2SeqEvent) -> Void = { _ in }
    ) throws -> Seq2SeqSummary {
        metrics = try group.atRoot {
            try MetricsLog.openRun(directory: outputDirectory, step: progress.step)
        }
        let tape = Tape()
        let totalSteps = batchesPerEpoch * config.epochs
        let loop = TrainingLoop(
            optimizer: optimizer, learningRate: config.learningRate, clip: config.clip,
            totalSteps: totalSteps, step: progress.step,
            clippedSteps: progress.clippedSteps, group: group, directory: outputDirectory)
        self.loop = loop
        model.train()
        epochs: while progress.epoch < config.epochs {
            guard var orderRNG = Xoshiro256(state: progress.epochOrderState) else {
                throw CheckpointError.invalidField(
                    path: outputDirectory, field: "progress.epochOrderState",
                    reason: "not a valid generator state")
            }
            let batches = TranslationBatch.buckets(
                pairs: data.train, batchSize: config.batchSize, rng: &orderRNG)
            while progress.batchInEpoch < batches.count {
                if loop.stopRequested(shouldStop) { break epochs }
                // This process's share of the global batch (all of it for one process).
                let indices = batches[progress.batchInEpoch]
                let own = Array(indices[group.share(of: indices.count)])
                let globalPairs = indices.count
                let update = try loop.update(learningRate: config.learningRate) {
                    () -> (Double, Int, Double) in
                    // A process whose share is empty (a short last batch) joins with zeros.
                    guard !own.isEmpty else { return (0, 0, 0) }
                    let batch = TranslationBatch(
                        pairs: data.train, indices: own,
                        source: data.sourceVocabulary, target: data.targetVocabulary)
                    tape.reset()
                    // Several processes draw their own teacher-forcing coins and dropout masks;
                    // the run's generator stays the same on all.
                    let loss = group.withStepGenerator(&rng, step: progress.step) { generator in
                        var context = ForwardContext.training(tape: tape, generator: generator)
                        defer { generator = context.generator }
                        return model.loss(
                            batch, teacherForcing: config.teacherForcing,
                            labelSmoothing: config.labelSmoothing ?? 0, context: &context)
                    }
                    tape.backward(from: loss)
                    let tokens = batch.targetOutput.reduce(0) {
                        $0 + ($1 == TranslationVocabulary.pad ? 0 : 1)
                    }
                    return (Double(loss.value.scalar), batch.batch, Double(tokens))
                }
                progress.step = update.step
                progress.clippedSteps = loop.clippedSteps
                progress.batchInEpoch += 1
                progress.trainedPairs += globalPairs
                progress.trainingSeconds += update.seconds
                report(
                    .step(
                        Seq2SeqStepReport(
                            step: progress.step, totalSteps: totalSteps, epoch: progress.epoch + 1,
                            loss: update.loss, gradientNorm: update.gradientNorm,
                            pairsPerSecond: update.itemsPerSecond,
                            secondsRemaining: update.secondsRemaining)))
                if progress.step % max(config.logEvery, 1) == 0 {
                    metrics?.write([
                        ("step", .number(Double(progress.step))),
                        ("epoch", .number(Double(progress.epoch + 1))),
                        ("loss", .number(update.loss)),
                        ("grad_norm", .number(Double(update.gradientNorm))),
                        ("pairs_per_s", .number(update.itemsPerSecond)),
                    ])
                }
            }
            progress.epoch += 1
            progress.batchInEpoch = 0
            progress.epochOrderState = orderRNG.stateWords
            try group.atRoot { try saveEpochAverage() }
            try evaluate(report: report)
            try saveCheckpoint(report: report)
        }
        if loop.interrupted { try saveCheckpoint(report: report) }
        return Seq2SeqSummary(
            steps: progress.step, epochs: progress.epoch, seconds: loop.timedSeconds,
            pairsPerSecond: loop.itemsPerSecond, trainLoss: loop.recentLoss,
            validationBLEU: progress.lastValidationBLEU,
            bestValidationBLEU: progress.bestValidationBLEU, interrupted: loop.interrupted,
            clippedSteps: progress.clippedSteps, processes: group.size,
            communicationSeconds: loop.communicationSeconds)
    }

    /// Validation loss and greedy BLEU; keeps the best model by BLEU (ties: lower loss).
    ///
    /// Rank 0 scores; the others wait for its numbers, so every process decides alike.
    private func evaluate(report: (Seq2SeqEvent) -> Void) throws {
        guard !data.validation.isEmpty else { return }
        model.eval()
        defer { model.train() }
        var numbers = [0.0, 0.0, 0.0]  // loss, BLEU, chrF
        if group.isRoot {
            let loss = model.meanLoss(
                pairs: data.validation, source: data.sourceVocabulary,
                target: data.targetVocabulary)
            let pairs =
                config.validationBLEUPairs > 0
                ? Array(data.validation.prefix(config.validationBLEUPairs)) : data.validation
            let scores = TranslationEvaluation.score(
                model: model, pairs: pairs, source: data.sourceVocabulary,
                target: data.targetVocabulary, options: DecodingOptions())
            numbers = [loss, scores.bleu.score, scores.chrF.score]
        }
        numbers.withUnsafeMutableBytes { group.broadcast($0, root: 0) }
        let (loss, bleu, chrF) = (numbers[0], numbers[1], numbers[2])
        let isBest: Bool
        if let best = progress.bestValidationBLEU {
            isBest =
                bleu > best || (bleu == best && loss < (progress.bestValidationLoss ?? .infinity))
        } else {
            isBest = true
        }
        progress.lastValidationBLEU = bleu
        progress.lastValidationLoss = loss
        if isBest {
            progress.bestValidationBLEU = bleu
            progress.bestValidationLoss = loss
            progress.bestEpoch = progress.epoch
        }
        metrics?.write([
            ("step", .number(Double(progress.step))), ("epoch", .number(Double(progress.epoch))),
            ("val_loss", .number(loss)),
            ("val_bleu", .number(bleu)), ("val_chrf", .number(chrF)),
            ("best", .bool(isBest)),
        ])
        report(.evaluation(epoch: progress.epoch, loss: loss, bleu: bleu, best: isBest))
        if isBest {
            try group.atRoot {
                try writeCheckpoint(directory: outputDirectory + "/best", includeTraining: false)
            }
        }
    }

    /// Keeps this epoch's weights as `epoch-<n>.safetensors` (the last `averageEpochs` of them)
    /// and writes their mean to `average/`.
    ///
    /// The files live in the run directory, so a resumed run averages the same epochs as an
    /// uninterrupted one.
    private func saveEpochAverage() throws {
        guard let k = config.averageEpochs, k >= 2 else { return }
        func name(_ epoch: Int) -> String { outputDirectory + "/epoch-\(epoch).safetensors" }
        let current = model.stateDictionary()
        try SafeTensors.write(current, to: name(progress.epoch))
        if progress.epoch > k { unlink(name(progress.epoch - k)) }
        // The current epoch from memory, the earlier ones from their files.
        var sum = current.mapValues(\.scalars)
        var count = 1
        for epoch in max(1, progress.epoch - k + 1)..<progress.epoch {
            guard let (tensors, _) = try? SafeTensors.read(name(epoch), followLinks: false),
                tensors.allSatisfy({ sum[$0.key]?.count == $0.value.count })
            else { continue }
            count += 1
            for (key, t) in tensors {
                let v = t.scalars
                sum[key]?.withUnsafeMutableBufferPointer { s in
                    VectorMath.axpy(1, v, s.start, count: s.count)
                }
            }
        }
        guard count >= 2 else { return }
        let scale = 1 / Float(count)
        var checkpointProgress = progress
        checkpointProgress.bestEpoch = nil
        var mean: [String: Tensor] = [:]
        for (key, t) in current {
            guard let total = sum[key] else { continue }
            mean[key] = Tensor(shape: t.shape, scalars: total.map { $0 * scale })
        }
        try writeCheckpoint(
            directory: outputDirectory + "/average", tensors: mean, includeTraining: false,
            progress: checkpointProgress)
    }

    private func saveCheckpoint(report: (Seq2SeqEvent) -> Void) throws {
        try group.atRoot { try writeCheckpoint(directory: outputDirectory, includeTraining: true) }
        loop?.checkpointWritten()
        report(.checkpoint(step: progress.step, directory: outputDirectory))
    }

    /// Writes a checkpoint of the model's weights (or `tensors`, with `progress` in place of the
    /// run's, for the averaged copy).
    private func writeCheckpoint(
        directory: String, tensors: [String: Tensor]? = nil, includeTraining: Bool,
        progress: Seq2SeqProgress? = nil
    ) throws {
        let checkpointConfig = Seq2SeqCheckpointConfig(
            architecture: model.architecture, sourceVocabulary: data.sourceVocabulary,
            targetVocabulary: data.targetVocabulary,
            training: config, progress: progress ?? self.progress, dataPath: dataPath,
            dataPairs: dataPairs,
            targetStyle: data.targetStyle)
        let sidecar = CheckpointSidecar(
            kind: Seq2SeqCheckpoint.kind, config: checkpointConfig, step: self.progress.step,
            rngState: rng.stateWords)
        try CheckpointDirectory.save(
            directory: directory, tensors: tensors ?? model.stateDictionary(),
            optimizer: includeTraining ? optimizer.state : nil,
            sidecar: sidecar)
    }
}

/// Everything a resumed run restores besides the model's weights.
public struct Seq2SeqResumeState {
    /// Where training stood: step, epoch, position inside it, best validation.
    public var progress: Seq2SeqProgress
    /// The generator's state (dropout, teacher forcing).
    public var rng: Xoshiro256
    /// Adam's moments and step count.
    public var optimizer: OptimizerState
}

/// Loading translation checkpoints.
public enum Seq2SeqStore {
    /// A loaded checkpoint: the model, its configuration and, when present, the state to resume.
    public struct Loaded {
        /// The model, weights loaded, in evaluation mode.
        public var model: Seq2SeqModel
        /// The checkpoint's configuration, every field validated.
        public var config: Seq2SeqCheckpointConfig
        /// Present when the checkpoint holds training state.
        public var resume: Seq2SeqResumeState?
    }

    /// Loads and validates the checkpoint in `directory`.
    public static func load(directory: String) throws -> Loaded {
        let (sidecar, tensors, optimizer, _) = try CheckpointDirectory.load(
            Seq2SeqCheckpointConfig.self, directory: directory)
        guard sidecar.kind == Seq2SeqCheckpoint.kind else {
            throw CheckpointError.mismatch(
                what: "kind", expected: Seq2SeqCheckpoint.kind, found: sidecar.kind)
        }
        let config = sidecar.config
        let a = config.architecture
        let sidecarPath = directory + "/" + CheckpointDirectory.sidecarName
        // Every field is checked before the model is built: a hand-edited or hostile checkpoint
        // is one thrown error, never a trap or a huge allocation.
        try config.validate(path: sidecarPath, modelElements: tensors.totalElements)
        var rng = Xoshiro256(seed: 0)
        let model = Seq2SeqModel(architecture: a, rng: &rng)
        try model.loadStateDictionary(tensors)
        model.eval()
        var resume: Seq2SeqResumeState?
        if let optimizer {
            guard let generator = Xoshiro256(state: sidecar.rngState) else {
                throw CheckpointError.invalidField(
                    path: sidecarPath, field: "rngState", reason: "not a valid generator state")
            }
            guard Xoshiro256(state: config.progress.epochOrderState) != nil else {
                throw CheckpointError.invalidField(
                    path: sidecarPath, field: "progress.epochOrderState",
                    reason: "not a valid generator state")
            }
            resume = Seq2SeqResumeState(
                progress: config.progress, rng: generator, optimizer: optimizer)
        }
        return Loaded(model: model, config: config, resume: resume)
    }
}

/// Initializing embeddings from pretrained word vectors.
extension Embedding {
    /// Copies the pretrained vector of every vocabulary word that `vector` knows into its row;
    /// returns how many rows were set.
    ///
    /// Any source of vectors works; with Recur's word2vec export (text or binary):
    ///
    /// ```swift
    /// let vectors = try KeyedVectors.load(path: "vectors.bin")
    /// try embedding.initialize(
    ///     vocabulary: vocabulary, dimensions: vectors.dimensions, vector: vectors.vector)
    /// ```
    ///
    /// - Parameters:
    ///   - vocabulary: the words of the embedding's rows (the specials are left alone).
    ///   - dimensions: the vectors' size, which must equal `embeddingSize`.
    ///   - vector: the vector of a word (`dimensions` values), or nil when the word is unknown.
    @discardableResult
    public func initialize(
        vocabulary: TranslationVocabulary, dimensions: Int, vector: (String) -> Tensor?
    ) throws -> Int {
        guard dimensions == embeddingSize else {
            throw Seq2SeqTrainingError.vectors(
                "the vectors have \(dimensions) dimensions but the embeddings have \(embeddingSize); pass --embed \(dimensions)"
            )
        }
        var found = 0
        let e = embeddingSize
        var w = weight.value
        w.withUnsafeMutableBufferPointer { dst in
            for (i, word) in vocabulary.words.enumerated()
            where i >= TranslationVocabulary.specials.count {
                guard let row = vector(word), row.count == e else { continue }
                let values = row.scalars
                for j in 0..<e { dst[i * e + j] = values[j] }
                found += 1
            }
        }
        weight.value = w
        return found
    }
}

extension Seq2SeqCheckpointConfig {
    /// Checks every field against its domain, and the architecture against the number of
    /// parameter values the weights file holds (`modelElements`), before anything is built.
    public func validate(path: String, modelElements: Int) throws {
        let check = CheckpointFieldCheck(path: path)
        let a = architecture
        let specials = TranslationVocabulary.specials
        for (vocabulary, size, side) in [
            (sourceVocabulary, a.sourceVocabularySize, "source"),
            (targetVocabulary, a.targetVocabularySize, "target"),
        ] {
            try check.inRange(
                size, (specials.count + 1)...(1 << 24), "architecture.\(side)VocabularySize")
            try check.require(
                vocabulary.count == size, "\(side)Vocabulary",
                "\(vocabulary.count) words for a vocabulary of \(size)")
            try check.require(
                Array(vocabulary.words.prefix(specials.count)) == specials, "\(side)Vocabulary",
                "must start with \(specials)")
            try check.require(
                Set(vocabulary.words).count == vocabulary.count, "\(side)Vocabulary",
                "a word appears twice")
            if let merges = vocabulary.subwords?.merges {
                try check.require(
                    merges.count <= 1 << 22, "\(side)Vocabulary.subwords", "\(merges.count) merges")
                try check.require(
                    merges.allSatisfy { $0.count == 2 && !$0[0].isEmpty && !$0[1].isEmpty },
                    "\(side)Vocabulary.subwords",
                    "each merge must join two non-empty symbols")
            }
        }
        try check.inRange(a.embeddingSize, 1...(1 << 16), "architecture.embeddingSize")
        try check.inRange(a.hiddenSize, 1...(1 << 16), "architecture.hiddenSize")
        try check.inRange(a.layers, 1...64, "architecture.layers")
        try check.finite(a.dropout, 0..<1, "architecture.dropout")
        try check.require(
            !a.tiedEmbeddings || a.embeddingSize == a.hiddenSize, "architecture.tiedEmbeddings",
            "needs embeddingSize = hiddenSize")
        let needed =
            try check.product(
                [a.sourceVocabularySize, a.embeddingSize], limit: Int.max / 8, "architecture")
            + check.product(
                [a.targetVocabularySize, a.hiddenSize], limit: Int.max / 8, "architecture")
            + check.product(
                [a.layers, a.hiddenSize, a.hiddenSize], limit: Int.max / 8, "architecture")
        try check.parameters(atLeast: needed, available: modelElements)

        let t = training
        try check.inRange(t.batchSize, 1...(1 << 20), "training.batchSize")
        try check.inRange(t.epochs, 0...(1 << 30), "training.epochs")
        try check.finite(
            t.learningRate, Float.leastNonzeroMagnitude...Float.greatestFiniteMagnitude,
            "training.learningRate")
        try check.finite(t.clip, 0...Float.greatestFiniteMagnitude, "training.clip")
        try check.finite(t.teacherForcing, 0...1, "training.teacherForcing")
        try check.finite(t.validationFraction, 0..<1, "training.validationFraction")
        try check.finite(t.testFraction, 0..<1, "training.testFraction")
        try check.require(
            t.validationFraction + t.testFraction < 1, "training.testFraction",
            "validation + test fractions must stay below 1")
        try check.inRange(t.maxLength, 0...(1 << 20), "training.maxLength")
        try check.inRange(t.maxInputLength, 1...(1 << 20), "training.maxInputLength")
        try check.inRange(t.minCount, 1...Int.max, "training.minCount")
        try check.inRange(t.validationBLEUPairs, 0...(1 << 30), "training.validationBLEUPairs")
        try check.inRange(t.logEvery, 1...(1 << 48), "training.logEvery")
        if let merges = t.subwordMerges {
            try check.inRange(merges, 0...(1 << 22), "training.subwordMerges")
        }
        if let smoothing = t.labelSmoothing {
            try check.finite(smoothing, 0..<1, "training.labelSmoothing")
        }
        if let k = t.averageEpochs { try check.inRange(k, 0...1000, "training.averageEpochs") }

        let p = progress
        try check.progress(
            step: p.step, clippedSteps: p.clippedSteps, trainingSeconds: p.trainingSeconds)
        try check.inRange(p.epoch, 0...(1 << 30), "progress.epoch")
        try check.inRange(p.batchInEpoch, 0...(1 << 40), "progress.batchInEpoch")
        try check.inRange(p.trainedPairs, 0...(1 << 60), "progress.trainedPairs")
        if let best = p.bestEpoch { try check.inRange(best, 0...p.epoch, "progress.bestEpoch") }
        try check.finite(
            [
                (p.bestValidationBLEU, "progress.bestValidationBLEU"),
                (p.lastValidationBLEU, "progress.lastValidationBLEU"),
            ], 0...100)
        try check.finite(
            [
                (p.bestValidationLoss, "progress.bestValidationLoss"),
                (p.lastValidationLoss, "progress.lastValidationLoss"),
            ], 0...1e9)
        try check.inRange(dataPairs, 0...(1 << 48), "dataPairs")
        if let style = targetStyle {
            let strings =
                Array(style.casing.keys) + Array(style.casing.values) + Array(style.spacing.keys)
                + style.attachLeft + style.attachRight + style.paired
            try check.require(
                !strings.contains(where: \.isEmpty), "targetStyle", "holds an empty token")
        }
    }
}
