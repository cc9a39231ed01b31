import RealModule
import RecurBase
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

/// What the trainer reports while it runs (the CLI decides how to show it).
public enum CharLMEvent: Sendable {
    /// A training step finished.
    case step(CharLMStepReport)
    /// A validation pass finished.
    case evaluation(step: Int, validationBPC: Double, best: Bool)
    /// A checkpoint was written.
    case checkpoint(step: Int, directory: String)
    /// Something the user should know (overfitting, clipping, …).
    case warning(String)
}

/// One step's numbers.
public struct CharLMStepReport: Sendable {
    /// The update just taken (1-based).
    public var step: Int
    /// The step the run stops at.
    public var totalSteps: Int
    /// The step's mean cross-entropy, nats per symbol.
    public var loss: Double
    /// The step's loss in bits per symbol.
    public var bitsPerSymbol: Double { loss / Double.log(2) }
    /// The learning rate the step used.
    public var learningRate: Float
    /// The global L2 norm of the gradients before clipping.
    public var gradientNorm: Float
    /// Whether clipping scaled the gradients down.
    public var clipped: Bool
    /// Training symbols per second, averaged over this run's timed steps.
    public var symbolsPerSecond: Double
    /// Estimated seconds until the last step.
    public var secondsRemaining: Double
}

/// The result of a training run.
public struct CharLMSummary: Sendable {
    /// Updates taken in total (over all resumed parts of the run).
    public var steps: Int
    /// Time in training steps only (no start-up, evaluation or checkpoint writes).
    public var seconds: Double
    /// Training symbols per second over `seconds`.
    public var symbolsPerSecond: Double
    /// Mean loss of the last 50 steps (nats per symbol).
    public var trainLoss: Double
    /// Validation bits per symbol on the whole validation split at the end (nil without one).
    public var validationBPC: Double?
    /// The best validation bits per symbol of the run (its model is in `best/`).
    public var bestValidationBPC: Double?
    /// Whether a stop request (Ctrl-C, SIGTERM) ended the run; a checkpoint was saved.
    public var interrupted: Bool
    /// How many steps clipping scaled the gradients down.
    public var clippedSteps: Int
    /// Whether early stopping (`patience`) ended the run before `steps`.
    public var stoppedEarly: Bool = false
    /// The processes that trained (1 without a group).
    public var processes: Int = 1
    /// Of `seconds`, the time spent averaging gradients over the processes.
    public var communicationSeconds: Double = 0
}

/// Why a char-LM run cannot start (divergence while training is a `TrainingDivergence`).
public enum CharLMTrainingError: Error, CustomStringConvertible {
    /// The training text is shorter than one batch window.
    case textTooShort(symbols: Int, needed: Int, batch: Int, sequence: Int)

    /// One line saying what went wrong and what to do.
    public var description: String {
        switch self {
        case .textTooShort(let symbols, let needed, let batch, let sequence):
            return
                "the training text has \(symbols) symbols, but --batch \(batch) × (--seq \(sequence) + 1) needs at least \(needed); use a longer text or smaller --batch/--seq"
        }
    }
}

/// Trains a `CharLanguageModel` on a `CharCorpus`, with validation, checkpoints (latest and
/// best), a JSON-lines metrics log and exact resume.
///
/// Everything that determines the next step is checkpointed: weights, optimizer state, the
/// random generator, the data position, the carried recurrent state and the schedule, so
/// training 200 steps equals training 100, resuming and training 100 more, bit for bit.
///
/// With a `ProcessGroup` of several processes the training is data-parallel: the batch is the
/// global batch, each process takes a contiguous share of its rows (streams), gradients are
/// averaged before clipping, and rank 0 alone writes the metrics and checkpoints (with every
/// row's carried state, so the run resumes with any number of processes dividing the batch).
public final class CharLMTrainer {
    /// The model being trained (its parameters are updated in place).
    public let model: CharLanguageModel
    /// The training and validation text.
    public let corpus: CharCorpus
    /// The run's training settings (saved in every checkpoint).
    public let config: CharLMTrainingConfig
    /// How the text was split into symbols (saved with the vocabulary).
    public let unit: TextUnit
    /// Where checkpoints, `best/` and `metrics.jsonl` are written.
    public let outputDirectory: String
    /// The training text's path (recorded for `inspect`).
    public let dataPath: String
    /// Where training stands (saved in every checkpoint).
    public private(set) var progress: CharLMProgress
    private var rng: Xoshiro256
    private let optimizer: any Optimizer
    private var carried: RecurrentState?
    private let batcher: ContiguousBatcher?
    private var loop: TrainingLoop?
    private var metrics: MetricsLog?
    /// The processes that share each batch.
    public let group: any ProcessGroup
    private let rows: Range<Int>  // this process's rows of the global batch

    /// Sets up training (fresh, or resumed from `resume`).
    public init(
        model: CharLanguageModel, corpus: CharCorpus, config: CharLMTrainingConfig, unit: TextUnit,
        outputDirectory: String, dataPath: String, resume: CharLMResumeState? = nil,
        group: any ProcessGroup = SingleProcess()
    ) throws {
        self.group = group
        try group.requireEvenShares(of: config.batchSize)
        rows = group.share(of: config.batchSize)
        self.model = model
        self.corpus = corpus
        self.config = config
        self.unit = unit
        self.outputDirectory = outputDirectory
        self.dataPath = dataPath
        let needed = config.batchSize * (config.sequenceLength + 1)
        if model.architecture.cell == .tcn {
            guard
                corpus.trainIDs.count >= config.sequenceLength + 2
                    && corpus.trainIDs.count >= config.batchSize
            else {
                throw CharLMTrainingError.textTooShort(
                    symbols: corpus.trainIDs.count,
                    needed: max(config.sequenceLength + 2, config.batchSize),
                    batch: config.batchSize, sequence: config.sequenceLength)
            }
            batcher = nil
        } else {
            guard
                let b = ContiguousBatcher(
                    ids: corpus.trainIDs, batch: config.batchSize, sequence: config.sequenceLength)
            else {
                throw CharLMTrainingError.textTooShort(
                    symbols: corpus.trainIDs.count, needed: needed, batch: config.batchSize,
                    sequence: config.sequenceLength)
            }
            batcher = b
        }
        let parameters = model.parameters()
        switch config.optimizer {
        case .adam:
            optimizer = Adam(
                parameters: parameters, learningRate: config.learningRate,
                weightDecay: config.weightDecay)
        case .adamw:
            optimizer = Adam.adamW(
                parameters: parameters, learningRate: config.learningRate,
                weightDecay: config.weightDecay)
        case .sgd:
            optimizer = SGD(
                parameters: parameters, learningRate: config.learningRate, momentum: 0.9,
                weightDecay: config.weightDecay)
        case .rmsprop:
            optimizer = RMSProp(
                parameters: parameters, learningRate: config.learningRate,
                weightDecay: config.weightDecay)
        case .adagrad:
            optimizer = Adagrad(
                parameters: parameters, learningRate: config.learningRate,
                weightDecay: config.weightDecay)
        }
        if let resume {
            progress = resume.progress
            rng = resume.rng
            try optimizer.load(resume.optimizer)
            carried = resume.carried.map { CharLMTrainer.rows(rows, of: $0) }
        } else {
            progress = CharLMProgress()
            progress.schedule = CharLMTrainer.schedule(config)
            var seeded = Xoshiro256(seed: config.seed)
            rng = seeded.split(stream: 1)
        }
        try group.requireAgreement(on: digest)
        group.broadcastValues(parameters.map(\.parameter))
    }

    /// A digest of what every process must share: the text, the settings, the architecture and
    /// where training stands.
    private func digest() -> [UInt8] {
        var sha = SHA256()
        corpus.trainIDs.withUnsafeBytes { sha.update($0) }
        corpus.validationIDs.withUnsafeBytes { sha.update($0) }
        sha.update(
            Array("\(config)|\(model.architecture)|\(progress.step)|\(progress.position)".utf8))
        return Array(sha.finalizeHex().utf8)
    }

    /// Rows `rows` of every layer of a carried state.
    static func rows(_ rows: Range<Int>, of state: RecurrentState) -> RecurrentState {
        func slice(_ t: Tensor) -> Tensor {
            let (layers, batch, width) = (t.shape[0], t.shape[1], t.shape[2])
            if rows == 0..<batch { return t }
            var values = [Float]()
            values.reserveCapacity(layers * rows.count * width)
            let all = t.scalars
            for l in 0..<layers {
                let base = (l * batch + rows.lowerBound) * width
                values += all[base..<(base + rows.count * width)]
            }
            return Tensor(shape: [layers, rows.count, width], scalars: values)
        }
        return RecurrentState(hidden: slice(state.hidden), cell: state.cell.map(slice))
    }

    /// Every process's carried rows, as the state of the whole batch (a collective).
    private func gatheredCarry() -> RecurrentState? {
        guard group.size > 1 else { return carried }
        // Every process must join even when its carry was just reset: agree whether any has one.
        guard group.any(carried != nil) else { return nil }
        let a = model.architecture
        let b = config.batchSize
        func gather(_ local: Tensor?) -> Tensor {
            var full = [Float](repeating: 0, count: a.layers * b * a.hiddenSize)
            if let local {
                let values = local.scalars
                let width = a.hiddenSize
                for l in 0..<a.layers {
                    let target = (l * b + rows.lowerBound) * width
                    let source = l * rows.count * width
                    for i in 0..<(rows.count * width) { full[target + i] = values[source + i] }
                }
            }
            full.withUnsafeMutableBufferPointer { group.allReduceSum($0) }
            return Tensor(shape: [a.layers, b, a.hiddenSize], scalars: full)
        }
        let hidden = gather(carried?.hidden)
        let cell = a.cell == .lstm ? gather(carried?.cell) : nil
        return RecurrentState(hidden: hidden, cell: cell)
    }

    /// The learning-rate schedule a configuration asks for.
    static func schedule(_ c: CharLMTrainingConfig) -> LearningRateSchedule {
        let total = max(c.steps, 1)
        switch c.schedule {
        case .constant: return LearningRateSchedule(.constant, warmupSteps: c.warmupSteps)
        case .step:
            return LearningRateSchedule(
                .step(stepSize: max(total / 3, 1), gamma: 0.1), warmupSteps: c.warmupSteps)
        case .exponential:
            // Decays to 1% of the base rate over the run.
            return LearningRateSchedule(
                .exponential(gamma: Float.pow(0.01, 1 / Float(total))), warmupSteps: c.warmupSteps)
        case .cosine:
            return LearningRateSchedule(
                .cosine(period: total, minimum: c.learningRate * 0.01), warmupSteps: c.warmupSteps)
        case .plateau:
            return LearningRateSchedule(
                .reduceOnPlateau(
                    factor: 0.5, patience: 2, threshold: 1e-3, minimum: c.learningRate * 1e-3),
                warmupSteps: c.warmupSteps)
        }
    }

    /// Runs until `config.steps`, or until `shouldStop` returns true (then a checkpoint is
    /// written and the summary says `interrupted`).
    ///
    /// In a group, every process reports the same (agreed) events; show rank 0's.
    public func run(
        shouldStop: () -> Bool = { false }, report: (CharLMEvent) -> Void = { _ in }
    ) throws -> CharLMSummary {
        metrics = try group.atRoot {
            try MetricsLog.openRun(directory: outputDirectory, step: progress.step)
        }
        model.train()
        let t = config.sequenceLength
        let b = config.batchSize
        let localItems = rows.count * t
        var inputs: [Int32] = []
        var targets: [Int32] = []
        var lossSinceEvaluation = 0.0
        var stepsSinceEvaluation = 0
        var previousEvaluation: (validation: Double, train: Double)?
        var stoppedEarly = false
        // A loss above 10⁴ nats per symbol (probability e^-10000 for the right answer) has
        // exploded as surely as a NaN.
        let loop = TrainingLoop(
            optimizer: optimizer, learningRate: config.learningRate, clip: config.clip,
            totalSteps: config.steps,
            step: progress.step, clippedSteps: progress.clippedSteps,
            warmupUpdates: min(10, max(0, (config.steps - progress.step) / 10)), largestLoss: 1e4,
            group: group, directory: outputDirectory)
        self.loop = loop
        while loop.step < config.steps && !loop.stopRequested(shouldStop) {
            let rate = progress.schedule.rate(base: config.learningRate, step: progress.step)
            let update = try loop.update(learningRate: rate) {
                (loss: nextBatchLoss(inputs: &inputs, targets: &targets), items: localItems)
            }
            progress.step = update.step
            progress.clippedSteps = loop.clippedSteps
            progress.trainedSymbols += b * t
            progress.trainingSeconds += update.seconds
            lossSinceEvaluation += update.loss
            stepsSinceEvaluation += 1
            let stepReport = CharLMStepReport(
                step: update.step, totalSteps: config.steps, loss: update.loss,
                learningRate: rate, gradientNorm: update.gradientNorm, clipped: update.clipped,
                symbolsPerSecond: update.itemsPerSecond, secondsRemaining: update.secondsRemaining)
            report(.step(stepReport))
            if progress.step % max(config.logEvery, 1) == 0 || progress.step == config.steps {
                metrics?.write([
                    ("step", .number(Double(progress.step))), ("loss", .number(update.loss)),
                    ("bpc", .number(stepReport.bitsPerSymbol)),
                    ("lr", .number(Double(rate))),
                    ("grad_norm", .number(Double(update.gradientNorm))),
                    (
                        "clipped_fraction",
                        .number(Double(progress.clippedSteps) / Double(progress.step))
                    ),
                    ("chars_per_s", .number(update.itemsPerSecond)),
                    ("epoch", .number(Double(progress.epochs))),
                ])
            }
            let isLast = progress.step == config.steps
            if !corpus.validationIDs.isEmpty && config.evaluateEvery > 0
                && progress.step % config.evaluateEvery == 0 && !isLast
            {
                let trainMean = lossSinceEvaluation / Double(max(stepsSinceEvaluation, 1))
                try evaluate(report: report, trainLoss: trainMean, previous: &previousEvaluation)
                lossSinceEvaluation = 0
                stepsSinceEvaluation = 0
                if let patience = config.patience, let best = progress.bestStep,
                    (progress.step - best) / config.evaluateEvery >= patience
                {
                    report(
                        .warning(
                            "no better validation bpc in \(patience) evaluations since step \(best): stopping early (the best model is in \(outputDirectory)/best)"
                        ))
                    stoppedEarly = true
                    break
                }
            }
            if config.checkpointEvery > 0 && progress.step % config.checkpointEvery == 0 && !isLast
            {
                try saveCheckpoint(report: report)
            }
        }
        let interrupted = loop.interrupted
        // Early stopping has just validated; otherwise the end of a run validates once more.
        var validation = stoppedEarly ? progress.lastValidationBPC : nil
        if !interrupted && !stoppedEarly && !corpus.validationIDs.isEmpty {
            let trainMean = lossSinceEvaluation / Double(max(stepsSinceEvaluation, 1))
            validation = try evaluate(
                report: report, trainLoss: trainMean, previous: &previousEvaluation)
        }
        try saveCheckpoint(report: report)
        return CharLMSummary(
            steps: progress.step, seconds: loop.timedSeconds,
            symbolsPerSecond: loop.itemsPerSecond, trainLoss: loop.recentLoss,
            validationBPC: validation, bestValidationBPC: progress.bestValidationBPC,
            interrupted: interrupted,
            clippedSteps: progress.clippedSteps, stoppedEarly: stoppedEarly,
            processes: group.size, communicationSeconds: loop.communicationSeconds)
    }

    /// Forward and backward of this process's rows of the next batch (the next window of the
    /// streams for a recurrent model, random windows for a TCN); returns its mean loss in nats
    /// per symbol.
    private func nextBatchLoss(inputs: inout [Int32], targets: inout [Int32]) -> Double {
        let (t, b) = (config.sequenceLength, config.batchSize)
        if let batcher {
            if !batcher.fits(progress.position) {
                progress.position = 0
                progress.epochs += 1
                carried = nil
            }
            batcher.window(at: progress.position, inputs: &inputs, targets: &targets)
            progress.position += t
            let (localInputs, localTargets) = (ownRows(inputs), ownRows(targets))
            let (loss, state) = group.withStepGenerator(&rng, step: progress.step) {
                model.trainingStep(
                    inputs: localInputs, targets: localTargets, timeSteps: t, batch: rows.count,
                    state: carried, rng: &$0)
            }
            if let state {
                if carried == nil { carried = state.copied() } else { carried?.assign(state) }
            }
            return loss
        }
        // A TCN trains on windows at random positions (time-major, like the streams); every
        // process draws the whole batch's positions and keeps its rows.
        let n = corpus.trainIDs.count
        if inputs.count != b * t {
            inputs = Array(repeating: 0, count: b * t)
            targets = inputs
        }
        for row in 0..<b {
            let start = rng.nextInt(below: n - t - 1)
            for k in 0..<t {
                inputs[k * b + row] = corpus.trainIDs[start + k]
                targets[k * b + row] = corpus.trainIDs[start + k + 1]
            }
        }
        progress.epochs = (progress.trainedSymbols + b * t) / max(n, 1)
        let (localInputs, localTargets) = (ownRows(inputs), ownRows(targets))
        return group.withStepGenerator(&rng, step: progress.step) {
            model.trainingStep(
                inputs: localInputs, targets: localTargets, timeSteps: t, batch: rows.count,
                state: nil, rng: &$0
            ).loss
        }
    }

    /// This process's columns of a time-major `[T, B]` window (the window itself for one process).
    private func ownRows(_ window: [Int32]) -> [Int32] {
        let b = config.batchSize
        if rows.count == b { return window }
        var own = [Int32]()
        own.reserveCapacity(rows.count * config.sequenceLength)
        for k in 0..<config.sequenceLength {
            own += window[(k * b + rows.lowerBound)..<(k * b + rows.upperBound)]
        }
        return own
    }

    /// Scores the whole validation split; keeps the best model; warns about overfitting.
    @discardableResult
    private func evaluate(
        report: (CharLMEvent) -> Void, trainLoss: Double,
        previous: inout (validation: Double, train: Double)?
    ) throws -> Double {
        // Each process scores its share of the validation streams.
        let own = model.evaluate(ids: corpus.validationIDs, part: group.rank, parts: group.size)
        let totals = group.sum([own.nats, Double(own.count)])
        let bpc = totals[0] / totals[1] / Double.log(2)
        model.train()
        progress.lastValidationBPC = bpc
        let isBest = progress.bestValidationBPC.map { bpc < $0 } ?? true
        if isBest {
            progress.bestValidationBPC = bpc
            progress.bestStep = progress.step
        }
        if progress.schedule.observe(validationLoss: bpc) {
            report(.warning("validation bpc stopped improving; learning rate reduced"))
        }
        metrics?.write([
            ("step", .number(Double(progress.step))), ("val_bpc", .number(bpc)),
            ("best", .bool(isBest)),
        ])
        report(.evaluation(step: progress.step, validationBPC: bpc, best: isBest))
        if let previous, bpc > previous.validation, trainLoss < previous.train {
            report(
                .warning(
                    "validation bpc rose (\(String(format2(previous.validation))) → \(String(format2(bpc)))) while training loss fell: the model may be overfitting; consider more --dropout or a smaller model"
                ))
        }
        previous = (bpc, trainLoss)
        if isBest {
            try writeCheckpoint(directory: outputDirectory + "/best", includeTraining: false)
        }
        return bpc
    }

    private func saveCheckpoint(report: (CharLMEvent) -> Void) throws {
        try writeCheckpoint(directory: outputDirectory, includeTraining: true)
        loop?.checkpointWritten()
        report(.checkpoint(step: progress.step, directory: outputDirectory))
    }

    /// Writes a checkpoint from rank 0 (every process calls it: the carried state is gathered).
    private func writeCheckpoint(directory: String, includeTraining: Bool) throws {
        let carried = includeTraining ? gatheredCarry() : nil
        try group.atRoot {
            try writeCheckpoint(
                directory: directory, includeTraining: includeTraining, carried: carried)
        }
    }

    private func writeCheckpoint(
        directory: String, includeTraining: Bool, carried: RecurrentState?
    ) throws {
        let checkpointConfig = CharLMCheckpointConfig(
            architecture: model.architecture, unit: unit,
            symbols: Array(corpus.vocabulary.symbols.dropFirst()),
            training: config, progress: progress, dataPath: dataPath, dataSymbols: corpus.count)
        var sidecar = CheckpointSidecar(
            kind: CharLMCheckpoint.kind, config: checkpointConfig, step: progress.step,
            rngState: rng.stateWords)
        var training: [String: Tensor]?
        if includeTraining {
            let state = optimizer.state
            sidecar.optimizerKind = state.kind
            sidecar.optimizerStep = state.step
            var t = state.packed()
            if let carried {
                t["carry.hidden"] = carried.hidden
                if let c = carried.cell { t["carry.cell"] = c }
            }
            training = t
        }
        try CheckpointDirectory.save(
            directory: directory, model: model.stateDictionary(), training: training,
            sidecar: sidecar,
            keepModels: includeTraining ? config.keepCheckpoints ?? 1 : 1)
    }
}

/// Two decimals, for messages.
func format2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return String(r)
}

/// Everything a resumed run restores besides the model's weights.
public struct CharLMResumeState {
    /// Where training stood: step, data position, best validation, schedule.
    public var progress: CharLMProgress
    /// The generator's state, so dropout masks continue the same sequence.
    public var rng: Xoshiro256
    /// The optimizer's moments and step count.
    public var optimizer: OptimizerState
    /// The recurrent state carried into the next window (nil for a TCN or at an epoch start).
    public var carried: RecurrentState?
}

/// Loading char-LM checkpoints.
public enum CharLMStore {
    /// A loaded checkpoint: the model (weights loaded, evaluation mode), its configuration and,
    /// when the checkpoint has one, the state needed to resume training.
    public struct Loaded {
        /// The model with the checkpoint's weights, in evaluation mode.
        public var model: CharLanguageModel
        /// The checkpoint's configuration, every field validated.
        public var config: CharLMCheckpointConfig
        /// What resuming needs, when the checkpoint has training state (not for `best/`).
        public var resume: CharLMResumeState?
    }

    /// Loads and validates the checkpoint in `directory`, or, when `directory` names a
    /// `model-<step>.safetensors` file of a run directory (kept with `--keep`), that model with
    /// the directory's configuration (no training state then).
    public static func load(directory path: String) throws -> Loaded {
        var directory = path
        var modelFile: String?
        if path.hasSuffix(".safetensors"), (try? SafeRead.regularFileSize(path)) != nil {
            (directory, modelFile) = AtomicFile.split(path)
        }
        let (sidecar, tensors, optimizer, training) = try CheckpointDirectory.load(
            CharLMCheckpointConfig.self, directory: directory, modelFile: modelFile)
        guard sidecar.kind == CharLMCheckpoint.kind else {
            throw CheckpointError.mismatch(
                what: "kind", expected: CharLMCheckpoint.kind, found: sidecar.kind)
        }
        let config = sidecar.config
        let sidecarPath = directory + "/" + CheckpointDirectory.sidecarName
        // Every field is checked before the model is built from it: a hand-edited or hostile
        // checkpoint is one thrown error, never a trap or a huge allocation.
        try config.validate(path: sidecarPath, modelElements: tensors.totalElements)
        var rng = Xoshiro256(seed: 0)
        let model = CharLanguageModel(architecture: config.architecture, rng: &rng)
        try model.loadStateDictionary(tensors)
        model.eval()
        var resume: CharLMResumeState?
        if let optimizer {
            let check = CheckpointFieldCheck(path: sidecarPath)
            guard let generator = Xoshiro256(state: sidecar.rngState) else {
                throw CheckpointError.invalidField(
                    path: sidecarPath, field: "rngState", reason: "not a valid generator state")
            }
            try check.require(
                optimizer.kind == config.training.optimizer.rawValue, "optimizerKind",
                "\(optimizer.kind) does not match training.optimizer \(config.training.optimizer.rawValue)"
            )
            var carried: RecurrentState?
            if let h = training["carry.hidden"] {
                let a = config.architecture
                let expected = [a.layers, config.training.batchSize, a.hiddenSize]
                try check.require(a.cell != .tcn, "carry.hidden", "a TCN carries no state")
                guard h.shape == expected else {
                    throw CheckpointError.shapeMismatch(
                        name: "carry.hidden", expected: expected, found: h.shape)
                }
                let c = training["carry.cell"]
                try check.require(
                    (c != nil) == (a.cell == .lstm), "carry.cell", "present for an LSTM only")
                if let c, c.shape != expected {
                    throw CheckpointError.shapeMismatch(
                        name: "carry.cell", expected: expected, found: c.shape)
                }
                try check.require(
                    h.isFinite && (c?.isFinite ?? true), "carry", "contains NaN or infinity")
                carried = RecurrentState(hidden: h, cell: c)
            }
            resume = CharLMResumeState(
                progress: config.progress, rng: generator, optimizer: optimizer, carried: carried)
        }
        return Loaded(model: model, config: config, resume: resume)
    }
}
