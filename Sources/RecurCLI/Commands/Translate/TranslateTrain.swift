import ArgumentParser
import RecurBase
import RecurNN
import RecurReport
import RecurSeq2Seq
import RecurTensor
import RecurText
import RecurWord2Vec

#if canImport(Glibc)
    import Glibc
#endif

struct TranslateTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model on a tab-separated parallel file.",
        discussion: """
            Each line is source<TAB>target (extra columns, as in Tatoeba/Anki exports, are ignored). \
            The pairs are shuffled with --seed and split into training, validation (--valid-fraction) \
            and test (--test-fraction) parts; vocabularies come from the training part. After every \
            epoch the validation loss and greedy BLEU are measured and the best model is kept in \
            --out/best. Checkpoints go to --out (Ctrl-C saves one; --resume continues exactly), the \
            metrics log to --out/metrics.jsonl, and the validation and test pairs to --out/valid.tsv \
            and --out/test.tsv.
            """
    )

    @Option(help: "Parallel file: source<TAB>target per line.") var pairs: String
    @Option(
        name: .customLong("out"),
        help:
            "Directory for checkpoints and logs; must be new or empty (default: the --resume directory, else the first unused of runs/translate, runs/translate-2, …)."
    )
    var outOption: String?
    @Flag(
        help:
            "Replace the run already in --out (its checkpoints, logs, splits, best and averaged models; other files stay)."
    ) var force = false
    /// Where this run writes: --out, else the directory being resumed, else the first unused
    /// runs/translate[-N] (the default depends on what exists, so `run` computes it once).
    var chosenOut: String {
        outOption ?? resume ?? RunDirectory.unusedDirectory(base: "runs/translate")
    }
    // Options that a resumed run may not change are optional: nil means "not given" (checked on
    // --resume), and the computed property of the same name gives the value a new run uses.
    // The defaults are the library's (the help text repeats them); only the encoder's direction
    // differs: bidirectional by default here.
    static let model = Seq2SeqArchitecture()
    static let training = Seq2SeqTrainingConfig()
    @Option(name: .customLong("cell"), help: "Recurrent cell: gru (default) or lstm.")
    var cellOption: Seq2SeqCell?
    var cell: Seq2SeqCell { cellOption ?? Self.model.cell }
    @Option(name: .customLong("hidden"), help: "Hidden units (default 256).") var hiddenOption: Int?
    var hidden: Int { hiddenOption ?? Self.model.hiddenSize }
    @Option(name: .customLong("embed"), help: "Embedding size (default 256).") var embedOption: Int?
    var embed: Int { embedOption ?? Self.model.embeddingSize }
    @Option(
        name: .customLong("layers"), help: "Recurrent layers in encoder and decoder (default 1).")
    var layersOption: Int?
    var layers: Int { layersOption ?? Self.model.layers }
    @Flag(
        name: .customLong("bidirectional"), inversion: .prefixedNo,
        help:
            "Bidirectional encoder (directions summed); on by default (+1.6 BLEU on real pairs, BENCHMARKS.md)."
    )
    var bidirectionalOption: Bool?
    var bidirectional: Bool { bidirectionalOption ?? true }
    @Option(
        name: .customLong("attention"), help: "Attention: none, dot, general (default) or additive."
    )
    var attentionOption: AttentionKind?
    var attention: AttentionKind { attentionOption ?? Self.model.attention }
    @Option(
        name: .customLong("dropout"),
        help: "Dropout on embeddings, between layers and before the output layer (default 0).")
    var dropoutOption: Float?
    var dropout: Float { dropoutOption ?? Self.model.dropout }
    @Flag(help: "Share the target embedding with the output layer (needs --embed = --hidden).")
    var tieEmbeddings = false
    @Option(
        help: "Probability of feeding the gold previous word in training (else the model's own).")
    var teacherForcing: Float = 1
    @Option(help: "Label smoothing ε of the training loss (0: off; 0.1 is common).")
    var labelSmoothing: Float = 0
    @Option(
        help:
            "Average the weights of the last N epochs into OUT/average/, which run and eval use (0 or 1: off)."
    )
    var averageEpochs: Int = 3
    @Option(name: .customLong("batch"), help: "Sentence pairs per batch (default 32).")
    var batchOption: Int?
    var batch: Int { batchOption ?? Self.training.batchSize }
    @Option(name: .customLong("lr"), help: "Adam learning rate (default 0.001).") var lrOption:
        Float?
    var lr: Float { lrOption ?? Self.training.learningRate }
    @Option(help: "Passes over the training pairs.") var epochs: Int = 10
    @Option(
        name: .customLong("max-length"),
        help: "Keep pairs whose sides have at most this many tokens (default 50).")
    var maxLengthOption: Int?
    var maxLength: Int { maxLengthOption ?? Self.training.maxLength }
    @Option(help: "Longest input `translate run` will accept, in tokens.") var maxInputLength: Int =
        200
    @Option(help: "Words seen fewer times become <unk>.") var minCount: Int = 1
    @Option(
        name: .customLong("subwords"),
        help:
            "Learn N byte-pair-encoding merges (Sennrich et al. 2016) and translate word pieces, so rare and unseen words are translated piece by piece instead of as <unk> (0, the default: whole words; 8000–32000 are common)."
    )
    var subwordsOption: Int?
    var subwords: Int { subwordsOption ?? Self.training.subwordMerges ?? 0 }
    @Flag(
        help: "With --subwords, learn one subword vocabulary per language instead of one for both.")
    var separateSubwords = false
    @Option(
        name: [.customLong("tokenizer"), .customLong("tokenize")],
        help:
            "unicode (the default: lower-case, split punctuation) or whitespace (also --tokenize, as in word2vec)."
    )
    var tokenizerOption: Tokenization?
    var tokenizer: Tokenization { tokenizerOption ?? Self.training.tokenization }
    @Option(
        name: [.customLong("valid-fraction"), .customLong("val-fraction")],
        help:
            "Fraction of pairs held out for validation (default 0.02; also --val-fraction, as in charlm)."
    )
    var validFractionOption: Double?
    var validFraction: Double { validFractionOption ?? Self.training.validationFraction }
    @Option(
        name: .customLong("test-fraction"),
        help: "Fraction of pairs held out for testing (default 0).")
    var testFractionOption: Double?
    var testFraction: Double { testFractionOption ?? Self.training.testFraction }
    @Option(help: "Clip the gradient norm to this (0: off).") var clip: Float = 1
    @Option(
        help:
            "Initialize source embeddings from word vectors (recur word2vec export, text or binary)."
    ) var sourceVectors: String?
    @Option(help: "Initialize target embeddings from word vectors.") var targetVectors: String?
    @Flag(help: "Skip lines without a tab or with an empty side instead of stopping.")
    var skipBadLines = false
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Option(
        help: "Continue training from this checkpoint directory (pass a larger --epochs to extend)."
    ) var resume: String?
    @Option(
        name: .customLong("seed"),
        help: "Random seed: split, initialization, batch order (default 1).")
    var seedOption: UInt64?
    var seed: UInt64 { seedOption ?? Self.training.seed }
    @Option(help: "Metrics-log interval in steps.") var logEvery: Int = 50
    @Flag(help: "Write an SVG plot of the loss and validation BLEU to --out/training.svg.")
    var plot = false
    @Flag(help: "Print a one-line JSON summary last.") var json = false
    @Flag(help: "Only errors and the summary.") var quiet = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        for (value, name) in [
            (hidden, "hidden"), (embed, "embed"), (layers, "layers"), (batch, "batch"),
            (epochs, "epochs"), (minCount, "min-count"), (logEvery, "log-every"),
            (maxInputLength, "max-input-length"),
        ] where value <= 0 {
            throw CLIError("--\(name) must be positive, got \(value)")
        }
        for (value, name, limit) in [
            (hidden, "hidden", 1 << 16), (embed, "embed", 1 << 16), (layers, "layers", 64),
            (batch, "batch", 1 << 20),
            (epochs, "epochs", 1_000_000), (logEvery, "log-every", 1 << 48),
            (maxInputLength, "max-input-length", 1 << 20),
        ] where value > limit {
            throw CLIError("--\(name) must be at most \(limit), got \(value)")
        }
        if maxLength < 0 || maxLength > 1 << 20 {
            throw CLIError("--max-length must be between 0 (no limit) and 2^20, got \(maxLength)")
        }
        if !(dropout >= 0 && dropout < 1) {
            throw CLIError("--dropout must be in [0, 1), got \(dropout)")
        }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) {
            throw CLIError("--label-smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        if !(teacherForcing >= 0 && teacherForcing <= 1) {
            throw CLIError("--teacher-forcing must be in [0, 1], got \(teacherForcing)")
        }
        if !(lr > 0 && lr.isFinite) { throw CLIError("--lr must be a positive number, got \(lr)") }
        if !(clip >= 0 && clip.isFinite) {
            throw CLIError("--clip must be 0 (off) or positive, got \(clip)")
        }
        if !(validFraction >= 0 && testFraction >= 0 && validFraction + testFraction < 1) {
            throw CLIError(
                "--valid-fraction and --test-fraction must be non-negative with a sum below 1")
        }
        if averageEpochs < 0 || averageEpochs > 1000 {
            throw CLIError("--average-epochs must be between 0 and 1000, got \(averageEpochs)")
        }
        if subwords < 0 || subwords > 1 << 22 {
            throw CLIError("--subwords must be between 0 (whole words) and 2^22, got \(subwords)")
        }
        if separateSubwords && subwords == 0 {
            throw CLIError("--separate-subwords needs --subwords N")
        }
        if tieEmbeddings && embed != hidden {
            throw CLIError(
                "--tie-embeddings needs --embed equal to --hidden (\(embed) ≠ \(hidden))")
        }
    }

    func run() throws {
        Interrupt.install()
        runtime.apply()
        var console = Console()
        console.quiet = quiet || !Job.prints
        let group = Job.group
        let out = chosenOut
        if resume != nil && force {
            throw CLIError("--force starts a new run; it cannot be combined with --resume")
        }
        try refuseBusyResume(resume)
        let resumed = try resume.map(loadTranslationModel)
        if let resumed, resumed.resume == nil {
            throw CLIError(
                "\(resume ?? ""): the checkpoint has no training state (a best-model copy?); resume from the run directory"
            )
        }
        var config = resumed?.config.training ?? Seq2SeqTrainingConfig()
        if let stored = resumed?.config.training {
            // Parsed options: nil was not given (`--batch 32` and `--batch=32` are the same).
            let changed = [
                (resumeConflict(batchOption, stored.batchSize), "--batch"),
                (resumeConflict(lrOption, stored.learningRate), "--lr"),
                (resumeConflict(seedOption, stored.seed), "--seed"),
                (resumeConflict(maxLengthOption, stored.maxLength), "--max-length"),
                (resumeConflict(tokenizerOption, stored.tokenization), "--tokenizer"),
                (
                    resumeConflict(validFractionOption, stored.validationFraction),
                    "--valid-fraction"
                ),
                (resumeConflict(testFractionOption, stored.testFraction), "--test-fraction"),
                (resumeConflict(subwordsOption, stored.subwordMerges ?? 0), "--subwords"),
                (separateSubwords && stored.separateSubwords != true, "--separate-subwords"),
            ].filter(\.0).map(\.1)
            if !changed.isEmpty {
                throw CLIError(
                    "--resume continues the saved run: \(changed.joined(separator: ", ")) cannot change (start a new run instead)"
                )
            }
        } else {
            config.batchSize = batch
            config.learningRate = lr
            config.clip = clip
            config.teacherForcing = teacherForcing
            config.validationFraction = validFraction
            config.testFraction = testFraction
            config.maxLength = maxLength
            config.maxInputLength = max(maxInputLength, maxLength)
            config.minCount = minCount
            config.tokenization = tokenizer
            config.seed = seed
            config.labelSmoothing = labelSmoothing > 0 ? labelSmoothing : nil
            config.averageEpochs = averageEpochs >= 2 ? averageEpochs : nil
            config.subwordMerges = subwords > 0 ? subwords : nil
            config.separateSubwords = subwords > 0 && separateSubwords ? true : nil
        }
        config.epochs = epochs
        config.logEvery = logEvery
        if let resumed, config.epochs <= resumed.config.progress.epoch {
            throw CLIError(
                "the checkpoint has already trained \(resumed.config.progress.epoch) epochs; pass a larger --epochs to continue"
            )
        }
        let corpus = try ParallelCorpus.load(
            path: pairs, tokenizer: WordTokenizer(config.tokenization), maxLength: config.maxLength,
            skipBadLines: skipBadLines,
            lossy: lossy)
        if let resumed, corpus.pairs.count != resumed.config.dataPairs {
            throw CLIError(
                "\(pairs): has \(corpus.pairs.count) usable pairs but the checkpoint was trained on \(resumed.config.dataPairs) (from \(resumed.config.dataPath)); resume with the same file"
            )
        }
        let data = Seq2SeqData(
            corpus: corpus, config: config,
            vocabularies: resumed.map { ($0.config.sourceVocabulary, $0.config.targetVocabulary) })
        let specials = TranslationVocabulary.specials.count
        for (vocabulary, side) in [
            (data.sourceVocabulary, "source"), (data.targetVocabulary, "target"),
        ] where vocabulary.count <= specials {
            throw CLIError(
                "\(pairs): no \(side) word occurs at least --min-count \(config.minCount) times in the \(data.train.count) training pairs; lower --min-count"
            )
        }
        if data.train.isEmpty {
            throw CLIError(
                "\(pairs): no training pairs remain after the validation/test split; use more pairs or smaller fractions"
            )
        }
        if let resumed {
            let rebuilt = Seq2SeqData(corpus: corpus, config: config)
            guard
                rebuilt.sourceVocabulary == resumed.config.sourceVocabulary
                    && rebuilt.targetVocabulary == resumed.config.targetVocabulary
            else {
                throw CLIError(
                    "\(pairs): its vocabularies differ from the checkpoint's; resume with the file the model was trained on"
                )
            }
        }
        let model: Seq2SeqModel
        if let resumed {
            try checkArchitecture(resumed.config.architecture)
            model = resumed.model
        } else {
            var architecture = Seq2SeqArchitecture()
            architecture.cell = cell
            architecture.sourceVocabularySize = data.sourceVocabulary.count
            architecture.targetVocabularySize = data.targetVocabulary.count
            architecture.embeddingSize = embed
            architecture.hiddenSize = hidden
            architecture.layers = layers
            architecture.bidirectional = bidirectional
            architecture.attention = attention
            architecture.dropout = dropout
            architecture.tiedEmbeddings = tieEmbeddings
            var rng = Xoshiro256(seed: config.seed)
            let (s, t, e, h, l) = (
                Double(architecture.sourceVocabularySize),
                Double(architecture.targetVocabularySize), Double(embed), Double(hidden),
                Double(layers)
            )
            let parameters = s * e + t * (e + h) + 2 * l * 4 * h * (e + h + 2) + 3 * h * h
            let activations =
                Double(batch) * Double(max(config.maxLength, 50)) * (2 * l * 8 * h + 2 * t)
            try checkMemory(
                bytes: 16 * parameters + 4 * activations,
                what: "a \(architecture.summary) model at --batch \(batch)")
            model = Seq2SeqModel(architecture: architecture, rng: &rng)
            try initializeEmbeddings(model, data: data, console: console)
        }
        // The trainer checks that the processes can train together before anything is written.
        let trainer = try Seq2SeqTrainer(
            model: model, data: data, config: config, outputDirectory: out, dataPath: pairs,
            dataPairs: corpus.pairs.count, resume: resumed?.resume, group: group)
        // Inputs are checked; now take the output directory, held until the process ends so no
        // other run can write there meanwhile. Rank 0 alone claims and writes it in a job of
        // several processes.
        let runDirectory = try group.atRoot {
            let claimed = try claimRunDirectory(
                out, resuming: resume.map { SafeRead.sameFile($0, out) } ?? false, force: force,
                inputs: [pairs] + [sourceVectors, targetVectors].compactMap { $0 })
            try writeSplits(data, out: out)
            return claimed
        }
        defer { withExtendedLifetime(runDirectory) {} }
        var notes: [String] = []
        if corpus.skippedLines > 0 { notes.append("\(corpus.skippedLines) bad lines skipped") }
        if corpus.filteredPairs > 0 {
            notes.append(
                "\(corpus.filteredPairs) pairs longer than \(config.maxLength) tokens dropped")
        }
        console.log(
            "\(model.architecture.summary), \(model.parameterCount) parameters; \(data.train.count) training, \(data.validation.count) validation, \(data.test.count) test pairs\(notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))"); \(trainer.batchesPerEpoch) batches per epoch; \(group.size > 1 ? "\(group.size) processes × " : "")\(runtime.threadCount) threads"
        )
        if let resumed {
            console.log(
                "resuming from \(resume ?? "") at epoch \(resumed.config.progress.epoch), step \(resumed.config.progress.step)"
            )
        }
        let summary: Seq2SeqSummary
        do {
            summary = try trainer.run(shouldStop: { Interrupt.isRequested }) { event in
                switch event {
                case .step(let r):
                    console.progress(
                        "epoch \(r.epoch)/\(config.epochs) | step \(r.step)/\(r.totalSteps) | loss \(Console.fixed(r.loss, 3)) | \(Console.compact(r.pairsPerSecond)) pairs/s\(Job.over) | ETA \(Console.duration(r.secondsRemaining))",
                        force: r.step == r.totalSteps)
                case .evaluation(let epoch, let loss, let bleu, let best):
                    console.log(
                        "epoch \(epoch): validation loss \(Console.fixed(loss, 4)), BLEU \(Console.fixed(bleu, 2))\(best ? " (best)" : "")"
                    )
                case .checkpoint: break
                case .warning(let message): console.log("warning: \(message)")
                }
            }
        } catch let error as TrainingDivergence {
            console.finishProgress()
            throw CLIError(error.description)
        }
        console.finishProgress()
        if plot && group.isRoot { try writePlot(out) }
        if summary.interrupted {
            console.log(
                "interrupted at epoch \(summary.epochs + 1), step \(summary.steps); checkpoint saved to \(out); continue with --resume \(out)"
            )
            if json && group.isRoot {
                printSummary(
                    summary, model: model.architecture, config: config, data: data, test: nil)
            }
            throw ExitCode(130)
        }
        var test: TranslationScores?
        if !data.test.isEmpty && group.isRoot {
            let best = (try? Seq2SeqStore.load(directory: out + "/best"))?.model ?? model
            best.eval()
            test = TranslationEvaluation.score(
                model: best, pairs: data.test, source: data.sourceVocabulary,
                target: data.targetVocabulary, options: DecodingOptions())
            if let test {
                console.log(
                    "test (best model, greedy): \(test.bleu), chrF2 \(Console.fixed(test.chrF.score, 2))"
                )
            }
        }
        console.log(
            "done: \(summary.epochs) epochs, \(summary.steps) steps in \(Console.duration(summary.seconds)), \(Console.compact(summary.pairsPerSecond)) pairs/s\(summary.processes > 1 ? " over \(summary.processes) processes" : ""), validation BLEU \(summary.validationBLEU.map { Console.fixed($0, 2) } ?? "n/a") (best \(summary.bestValidationBLEU.map { Console.fixed($0, 2) } ?? "n/a")); model in \(out)"
        )
        if json && group.isRoot {
            printSummary(summary, model: model.architecture, config: config, data: data, test: test)
        }
    }

    func checkArchitecture(_ stored: Seq2SeqArchitecture) throws {
        var conflicts: [String] = []
        func check<T: Equatable>(_ value: T?, _ storedValue: T, _ flag: String) {
            if resumeConflict(value, storedValue) { conflicts.append("\(flag) \(storedValue)") }
        }
        check(cellOption, stored.cell, "--cell")
        check(hiddenOption, stored.hiddenSize, "--hidden")
        check(embedOption, stored.embeddingSize, "--embed")
        check(layersOption, stored.layers, "--layers")
        check(attentionOption, stored.attention, "--attention")
        check(dropoutOption, stored.dropout, "--dropout")
        if resumeConflict(bidirectionalOption, stored.bidirectional) {
            conflicts.append(
                stored.bidirectional ? "a bidirectional encoder" : "a unidirectional encoder")
        }
        if !conflicts.isEmpty {
            throw CLIError(
                "--resume: the checkpoint's architecture differs (it has \(conflicts.joined(separator: ", ")))"
            )
        }
    }

    func initializeEmbeddings(_ model: Seq2SeqModel, data: Seq2SeqData, console: Console) throws {
        for (path, embedding, vocabulary, side) in [
            (sourceVectors, model.sourceEmbedding, data.sourceVocabulary, "source"),
            (targetVectors, model.targetEmbedding, data.targetVocabulary, "target"),
        ] {
            guard let path else { continue }
            let vectors: KeyedVectors
            do {
                vectors = try KeyedVectors.load(path: path)
            } catch {
                throw CLIError("--\(side)-vectors \(path): \(error)")
            }
            do {
                let found = try embedding.initialize(
                    vocabulary: vocabulary, dimensions: vectors.dimensions, vector: vectors.vector)
                console.log(
                    "\(side) embeddings: \(found) of \(vocabulary.count - 4) words initialized from \(path)"
                )
            } catch let error as Seq2SeqTrainingError {
                throw CLIError("--\(side)-vectors \(path): \(error.description)")
            }
        }
    }

    /// The held-out pairs as written in the input, for `translate eval`.
    func writeSplits(_ data: Seq2SeqData, out: String) throws {
        for (name, split) in [("valid.tsv", data.validation), ("test.tsv", data.test)]
        where !split.isEmpty {
            let text = split.map { $0.sourceText + "\t" + $0.targetText + "\n" }.joined()
            do {
                try AtomicFile.write(Array(text.utf8), to: out + "/" + name)
            } catch {
                throw CLIError(error.description)
            }
        }
    }

    func writePlot(_ out: String) throws {
        let log = out + "/metrics.jsonl"
        let loss = SVG.lineChart(
            title: "Training of \(out)", xLabel: "step", yLabel: "loss per target token",
            series: [
                SVG.Series(
                    name: "train loss", points: MetricsLog.series(path: log, x: "step", y: "loss")),
                SVG.Series(
                    name: "validation loss",
                    points: MetricsLog.series(path: log, x: "step", y: "val_loss")),
            ], logY: true)
        let bleu = SVG.lineChart(
            title: "Validation BLEU of \(out)", xLabel: "epoch", yLabel: "BLEU",
            series: [
                SVG.Series(
                    name: "validation BLEU (greedy)",
                    points: MetricsLog.series(path: log, x: "epoch", y: "val_bleu"))
            ])
        do {
            try AtomicFile.write(loss, to: out + "/training.svg")
            try AtomicFile.write(bleu, to: out + "/bleu.svg")
        } catch {
            throw CLIError(error.description)
        }
    }

    /// The run's summary; architecture, batch and seed come from the model and configuration
    /// (the checkpoint's after --resume), not from the flags' defaults.
    func printSummary(
        _ s: Seq2SeqSummary, model a: Seq2SeqArchitecture, config: Seq2SeqTrainingConfig,
        data: Seq2SeqData, test: TranslationScores?
    ) {
        let line: JSONValue = .object([
            ("bench", "seq2seq"), ("impl", .string("recur-\(Recur.version)")),
            ("cell", .string(a.cell.rawValue)),
            ("hidden", .int(a.hiddenSize)), ("embed", .int(a.embeddingSize)),
            ("attention", .string(a.attention.rawValue)),
            ("batch", .int(config.batchSize)),
            ("train_pairs", .int(data.train.count)), ("epochs", .int(s.epochs)),
            ("steps", .int(s.steps)),
            ("threads", .int(runtime.threadCount)), ("processes", .int(s.processes)),
            ("comm_seconds", .rounded(s.communicationSeconds, 3)),
            ("seed", .int(Int(config.seed))),
            ("seconds", .rounded(s.seconds, 2)),
            ("pairs_per_s", .rounded(s.pairsPerSecond, 1)),
            ("train_loss", .rounded(s.trainLoss, 4)),
            ("val_bleu", s.validationBLEU.map { .rounded($0, 2) } ?? .null),
            ("best_val_bleu", s.bestValidationBLEU.map { .rounded($0, 2) } ?? .null),
            ("test_bleu", test.map { .rounded($0.bleu.score, 2) } ?? .null),
            ("test_chrf", test.map { .rounded($0.chrF.score, 2) } ?? .null),
            ("clipped_steps", .int(s.clippedSteps)), ("interrupted", .bool(s.interrupted)),
        ])
        Output.line(line.text)
    }
}
