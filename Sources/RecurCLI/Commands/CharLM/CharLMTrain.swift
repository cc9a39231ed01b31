import ArgumentParser
import RecurBase
import RecurCharLM
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

struct CharLMTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character language model on a text file.",
        discussion: """
            Writes checkpoints (model-*.safetensors, training-*.safetensors, checkpoint.json) to --out, \
            the best model by validation bpc to --out/best, and a JSON-lines metrics log to \
            --out/metrics.jsonl. Ctrl-C saves a checkpoint and stops; --resume continues exactly.

            The defaults (2×512 LSTM, batch 64, sequence 100, Adam 2e-3, 10 epochs, no dropout) learn \
            fastest at first and suit short runs and small texts; on a text of about 1 MB they stop \
            improving and over-fit (tinyshakespeare: best 2.16 bpc). For such a text add --regularize \
            (dropout 0.25, weight drop 0.25 on the recurrent weights, cosine schedule): 2.09 bpc in 19 \
            minutes on 2 cores. With more time, regularize more and train longer: --regularize \
            --dropout 0.3 --weight-drop 0.4 --epochs 14 reached 2.07 in 30 minutes (BENCHMARKS.md). \
            --patience N stops once N validations in a row bring nothing better; best/ always holds \
            the best model.
            """
    )

    @Option(help: "UTF-8 text file to train on.") var data: String
    @Option(
        name: .customLong("out"),
        help:
            "Directory for checkpoints and logs; must be new or empty (default: the --resume directory, else the first unused of runs/charlm, runs/charlm-2, …)."
    )
    var outOption: String?
    @Flag(
        help:
            "Replace the run already in --out (its checkpoints, logs and best model; other files stay)."
    ) var force = false

    /// Where this run writes: --out, else the directory being resumed, else the first unused
    /// runs/charlm[-N] (two plain runs in a row never overwrite each other).
    ///
    /// The default depends on what exists, so `run` computes it once.
    var chosenOut: String {
        outOption ?? resume ?? RunDirectory.unusedDirectory(base: "runs/charlm")
    }
    @Option(help: "Network: lstm, gru, rnn or tcn.") var cell: CharLMCell?
    @Option(help: "Embedding size.") var embed: Int?
    @Option(help: "Hidden units per recurrent layer (default 512).") var hidden: Int?
    @Option(help: "Recurrent layers (default 2).") var layers: Int?
    @Option(
        help:
            "Dropout between recurrent layers / inside TCN blocks (default 0, 0.25 with --regularize; TCN 0.1)."
    )
    var dropout: Float?
    @Option(
        help:
            "Dropout on the top recurrent layer's output, before the decoder (as char-rnn; default 0)."
    )
    var outputDropout: Float?
    @Option(
        help:
            "Weight drop: DropConnect on the recurrent weights W_hh, one mask per step (as AWD-LSTM; default 0, 0.25 with --regularize)."
    )
    var weightDrop: Float?
    @Flag(
        help:
            "Regularize for a long run on a text of about 1 MB: dropout 0.25, weight drop 0.25 and a cosine schedule, unless those flags are given."
    ) var regularize = false
    @Option(help: "TCN channels (default 128).") var channels: Int?
    @Option(help: "TCN kernel size (default 3).") var kernel: Int?
    @Option(help: "TCN residual blocks, dilations 1, 2, 4, … (default 4).") var blocks: Int?
    @Flag(help: "TCN weight normalization.") var weightNorm = false
    @Option(help: "Sequences per batch (default 64).") var batch: Int?
    @Option(help: "Steps of backpropagation through time, the window length (default 100).")
    var seq: Int?
    @Option(help: "Optimizer updates in total (overrides --epochs).") var steps: Int?
    @Option(help: "Passes over the training text (default 10 when --steps is not given).")
    var epochs: Double?
    @Option(help: "Learning rate (default 0.002).") var lr: Float?
    @Option(help: "adam (default), adamw, sgd (momentum 0.9), rmsprop or adagrad.")
    var optimizer: CharLMOptimizer?
    @Option(help: "Weight decay (L2; decoupled for adamw).") var weightDecay: Float = 0
    @Option(
        help: "constant (default; cosine with --regularize), step, exponential, cosine or plateau.")
    var lrSchedule: CharLMSchedule?
    @Option(help: "Linear learning-rate warm-up steps.") var warmup: Int = 0
    @Option(help: "Clip the gradient norm to this (0: off).") var clip: Float = 5
    @Option(
        name: [.customLong("val-fraction"), .customLong("valid-fraction")],
        help:
            "Fraction of the text (at the end) kept for validation (also --valid-fraction, as in translate)."
    )
    var valFraction: Double = 0.1
    @Option(help: "Validate every N steps (0: only at the end).") var evalEvery: Int = 500
    @Option(help: "Checkpoint every N steps (0: only at the end).") var checkpointEvery: Int = 500
    @Option(
        help:
            "Keep the newest N model checkpoints (model-<step>.safetensors; sample any with --model FILE)."
    )
    var keep: Int?
    @Option(
        help:
            "Stop early once N validations in a row (--eval-every) bring no better bpc; best/ keeps the best model."
    )
    var patience: Int?
    @Option(help: "Metrics-log interval in steps.") var logEvery: Int = 50
    @Option(help: "What one symbol is: grapheme, codepoint or byte.") var unit: TextUnit = .grapheme
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Option(help: "Continue training from this checkpoint directory.") var resume: String?
    @Option(help: "Random seed (default 1).") var seed: UInt64?
    @Flag(help: "Write an SVG plot of loss and validation bpc to --out/training.svg.") var plot =
        false
    @Flag(help: "Print a one-line JSON summary last.") var json = false
    @Flag(help: "Only errors and the summary.") var quiet = false
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        func bounded(_ value: Int?, _ name: String, _ limit: Int) throws {
            if let value, value <= 0 || value > limit {
                throw CLIError("--\(name) must be between 1 and \(limit), got \(value)")
            }
        }
        try bounded(embed, "embed", 1 << 16)
        try bounded(hidden, "hidden", 1 << 16)
        try bounded(layers, "layers", 64)
        try bounded(channels, "channels", 1 << 16)
        try bounded(kernel, "kernel", 64)
        // Dilations double per block: 24 blocks already see 16 million symbols back.
        try bounded(blocks, "blocks", 24)
        try bounded(batch, "batch", 1 << 20)
        try bounded(seq, "seq", 1 << 20)
        try bounded(steps, "steps", 1 << 48)
        if let epochs, !(epochs > 0 && epochs <= 1e6) {
            throw CLIError("--epochs must be between 0 and 1000000, got \(epochs)")
        }
        if let dropout, !(dropout >= 0 && dropout < 1) {
            throw CLIError("--dropout must be in [0, 1), got \(dropout)")
        }
        if let outputDropout, !(outputDropout >= 0 && outputDropout < 1) {
            throw CLIError("--output-dropout must be in [0, 1), got \(outputDropout)")
        }
        if outputDropout != nil && cell == .tcn {
            throw CLIError(
                "--output-dropout is for recurrent cells (a TCN has --dropout inside its blocks)")
        }
        if let weightDrop, !(weightDrop >= 0 && weightDrop < 1) {
            throw CLIError("--weight-drop must be in [0, 1), got \(weightDrop)")
        }
        if weightDrop != nil && cell == .tcn {
            throw CLIError("--weight-drop is for recurrent cells (a TCN has no recurrent weights)")
        }
        if let lr, !(lr > 0 && lr.isFinite) {
            throw CLIError("--lr must be a positive number, got \(lr)")
        }
        if !(clip >= 0 && clip.isFinite) {
            throw CLIError("--clip must be 0 (off) or positive, got \(clip)")
        }
        if !(weightDecay >= 0) {
            throw CLIError("--weight-decay must not be negative, got \(weightDecay)")
        }
        if !(valFraction >= 0 && valFraction < 1) {
            throw CLIError("--val-fraction must be in [0, 1), got \(valFraction)")
        }
        if !(weightDecay <= 1e6) {
            throw CLIError("--weight-decay must be a number up to 1e6, got \(weightDecay)")
        }
        if let keep, keep < 1 || keep > 100_000 {
            throw CLIError("--keep must be between 1 and 100000, got \(keep)")
        }
        if let patience, patience < 1 || patience > 1_000_000 {
            throw CLIError("--patience must be between 1 and 1000000 validations, got \(patience)")
        }
        if patience != nil && evalEvery == 0 {
            throw CLIError("--patience needs validations during training: give --eval-every N")
        }
        if [warmup, evalEvery, checkpointEvery, logEvery].contains(where: { $0 > 1 << 48 }) {
            throw CLIError(
                "--warmup, --eval-every, --checkpoint-every and --log-every must be at most 2^48")
        }
        if warmup < 0 || evalEvery < 0 || checkpointEvery < 0 || logEvery <= 0 {
            throw CLIError(
                "--warmup, --eval-every and --checkpoint-every must not be negative, --log-every must be positive"
            )
        }
        if let cell, cell != .tcn, channels != nil || kernel != nil || blocks != nil {
            throw CLIError("--channels, --kernel and --blocks apply to --cell tcn only")
        }
    }

    func run() throws {
        Interrupt.install()
        runtime.apply()
        var console = Console()
        console.quiet = quiet || !Job.prints
        let group = Job.group
        // Computed once: the default directory depends on what exists.
        let out = chosenOut
        if resume != nil && force {
            throw CLIError("--force starts a new run; it cannot be combined with --resume")
        }
        try refuseBusyResume(resume)
        var resumed: CharLMStore.Loaded?
        if let resume { resumed = try CharLMStore.load(directory: resume) }
        guard resumed == nil || resumed?.resume != nil else {
            throw CLIError(
                "\(resume ?? ""): the checkpoint has no training state (a best-model copy?); resume from the run directory"
            )
        }
        let unit = resumed?.config.unit ?? self.unit
        let corpus = try CharCorpus.load(
            path: data, unit: unit,
            validationFraction: resumed?.config.training.validationFraction ?? valFraction,
            lossy: lossy)
        let architecture = try makeArchitecture(
            vocabularySize: corpus.vocabulary.count, resumed: resumed)
        if resumed == nil {
            // Weights, gradients and two optimizer slots, plus the activations one step keeps.
            let (v, e, h, l) = (
                Double(architecture.vocabularySize), Double(architecture.embeddingSize),
                Double(architecture.hiddenSize), Double(architecture.layers)
            )
            let k = Double(architecture.kernelSize)
            let parameters =
                v * e + h * v
                + (architecture.cell == .tcn ? l * 2 * k * h * h + e * h : l * 4 * h * (e + h + 2))
            let defaults = CharLMTrainingConfig()
            let (b, t) = (batch ?? defaults.batchSize, seq ?? defaults.sequenceLength)
            let activations = Double(b) * Double(t) * (l * 8 * h + 2 * v + e)
            try checkMemory(
                bytes: 16 * parameters + 4 * activations,
                what: "a \(architecture.summary) model at --batch \(b) --seq \(t)")
        }
        if let resumed {
            guard corpus.vocabulary == resumed.config.vocabulary else {
                throw CLIError(
                    "\(data): its vocabulary (\(corpus.vocabulary.count - 1) symbols) differs from the checkpoint's (\(resumed.config.symbols.count)); resume with the text the model was trained on"
                )
            }
        }
        var config = resumed?.config.training ?? CharLMTrainingConfig()
        if resumed == nil {
            // Unset options keep CharLMTrainingConfig's defaults (the one place they live).
            config.batchSize = batch ?? config.batchSize
            config.sequenceLength = seq ?? config.sequenceLength
            config.learningRate = lr ?? config.learningRate
            config.optimizer = optimizer ?? config.optimizer
            config.weightDecay = weightDecay
            config.schedule = lrSchedule ?? (regularize ? .cosine : .constant)
            config.warmupSteps = warmup
            config.clip = clip
            config.validationFraction = valFraction
            config.seed = seed ?? config.seed
        } else if let stored = resumed?.config.training {
            // Parsed options: nil was not given (`--batch 32` and `--batch=32` are the same).
            let changed = [
                (resumeConflict(batch, stored.batchSize), "--batch"),
                (resumeConflict(seq, stored.sequenceLength), "--seq"),
                (resumeConflict(lr, stored.learningRate), "--lr"),
                (resumeConflict(optimizer, stored.optimizer), "--optimizer"),
                (resumeConflict(seed, stored.seed), "--seed"),
            ].filter(\.0).map(\.1)
            if !changed.isEmpty {
                throw CLIError(
                    "--resume continues the saved run: \(changed.joined(separator: ", ")) cannot change (start a new run instead)"
                )
            }
        }
        config.evaluateEvery = evalEvery
        config.checkpointEvery = checkpointEvery
        if let keep { config.keepCheckpoints = keep }
        if let patience { config.patience = patience }
        config.logEvery = logEvery
        let windows =
            architecture.cell == .tcn
            ? max(1, corpus.trainIDs.count / (config.batchSize * config.sequenceLength))
            : max(1, (corpus.trainIDs.count / config.batchSize - 1) / config.sequenceLength)
        config.steps = steps ?? max(1, Int((epochs ?? 10) * Double(windows)))
        if let resumed, config.steps <= resumed.config.progress.step {
            throw CLIError(
                "the checkpoint is already at step \(resumed.config.progress.step); pass --steps larger than that to continue"
            )
        }
        var rng = Xoshiro256(seed: config.seed)
        let model = resumed?.model ?? CharLanguageModel(architecture: architecture, rng: &rng)
        // The trainer checks that the processes can train together before anything is written.
        let trainer = try CharLMTrainer(
            model: model, corpus: corpus, config: config, unit: unit, outputDirectory: out,
            dataPath: data,
            resume: resumed?.resume, group: group)
        // Inputs are checked; now take the output directory, held until the process ends so no
        // other run can write there meanwhile. Rank 0 alone claims it in a job of several
        // processes.
        let runDirectory = try group.atRoot {
            try claimRunDirectory(
                out, resuming: resume.map { SafeRead.sameFile($0, out) } ?? false, force: force,
                inputs: [data])
        }
        defer { withExtendedLifetime(runDirectory) {} }
        console.log(
            "\(architecture.summary), \(model.parameterCount) parameters; \(corpus.trainIDs.count) training and \(corpus.validationIDs.count) validation symbols; \(config.steps) steps; BLAS kernel \(BLAS.kernel.coreName), \(group.size > 1 ? "\(group.size) processes × " : "")\(runtime.threadCount) threads"
        )
        if let resumed {
            console.log("resuming from \(resume ?? "") at step \(resumed.config.progress.step)")
        }
        let summary: CharLMSummary
        do {
            summary = try trainer.run(shouldStop: { Interrupt.isRequested }) { event in
                switch event {
                case .step(let r):
                    let line =
                        "step \(r.step)/\(r.totalSteps) | loss \(Console.fixed(r.loss, 3)) | bpc \(Console.fixed(r.bitsPerSymbol, 3)) | \(Console.compact(r.symbolsPerSecond)) chars/s\(Job.over) | ETA \(Console.duration(r.secondsRemaining))"
                    console.progress(line, force: r.step == r.totalSteps)
                case .evaluation(let step, let bpc, let best):
                    console.log(
                        "step \(step): validation bpc \(Console.fixed(bpc, 4))\(best ? " (best)" : "")"
                    )
                case .checkpoint:
                    break
                case .warning(let message):
                    console.log("warning: \(message)")
                }
            }
        } catch let error as TrainingDivergence {
            console.finishProgress()
            throw CLIError(error.description)
        } catch let error as CharLMTrainingError {
            console.finishProgress()
            throw CLIError(error.description)
        }
        console.finishProgress()
        if plot && group.isRoot { try writePlot(out) }
        if summary.interrupted {
            console.log(
                "interrupted at step \(summary.steps); checkpoint saved to \(out); continue with --resume \(out)"
            )
            if json && group.isRoot {
                printSummary(
                    summary, architecture: architecture, config: config,
                    threads: runtime.threadCount)
            }
            throw ExitCode(130)
        }
        if summary.stoppedEarly {
            console.log("stopped early at step \(summary.steps) of \(config.steps)")
        }
        console.log(
            "done: \(summary.steps) steps in \(Console.duration(summary.seconds)), \(Console.compact(summary.symbolsPerSecond)) chars/s\(summary.processes > 1 ? " over \(summary.processes) processes" : ""), validation bpc \(summary.validationBPC.map { Console.fixed($0, 4) } ?? "n/a"); model in \(out)"
        )
        if json && group.isRoot {
            printSummary(
                summary, architecture: architecture, config: config, threads: runtime.threadCount)
        }
    }

    /// The architecture from the flags, or the checkpoint's when resuming (flags that contradict
    /// it are an error).
    func makeArchitecture(vocabularySize: Int, resumed: CharLMStore.Loaded?) throws
        -> CharLMArchitecture
    {
        let chosen = cell ?? resumed?.config.architecture.cell ?? .lstm
        // --regularize fills in the rates the user did not give (recurrent cells only).
        let regularized: Float? = regularize && chosen != .tcn ? 0.25 : nil
        let givenDropout = dropout ?? regularized
        let givenWeightDrop = weightDrop ?? regularized
        if let stored = resumed?.config.architecture {
            var conflicts: [String] = []
            func check<T: Equatable>(_ given: T?, _ stored: T, _ flag: String) {
                if let given, given != stored { conflicts.append("\(flag) \(stored)") }
            }
            check(cell, stored.cell, "--cell")
            check(embed, stored.embeddingSize, "--embed")
            check(
                chosen == .tcn ? channels : hidden, stored.hiddenSize,
                chosen == .tcn ? "--channels" : "--hidden")
            check(
                chosen == .tcn ? blocks : layers, stored.layers,
                chosen == .tcn ? "--blocks" : "--layers")
            check(givenDropout, stored.dropout, "--dropout")
            check(outputDropout, stored.outputDropout ?? 0, "--output-dropout")
            check(givenWeightDrop, stored.weightDrop ?? 0, "--weight-drop")
            check(kernel, stored.kernelSize, "--kernel")
            if !conflicts.isEmpty {
                throw CLIError(
                    "--resume: the checkpoint's architecture differs (it has \(conflicts.joined(separator: ", ")))"
                )
            }
            return stored
        }
        return CharLMArchitecture(
            cell: chosen, vocabularySize: vocabularySize, embeddingSize: embed ?? 64,
            hiddenSize: chosen == .tcn ? (channels ?? hidden ?? 128) : (hidden ?? 512),
            layers: chosen == .tcn ? (blocks ?? layers ?? 4) : (layers ?? 2),
            dropout: givenDropout ?? (chosen == .tcn ? 0.1 : 0),
            outputDropout: chosen == .tcn ? nil : (outputDropout ?? 0),
            weightDrop: chosen == .tcn ? nil : (givenWeightDrop ?? 0),
            kernelSize: kernel ?? 3, weightNormalization: weightNorm)
    }

    func writePlot(_ out: String) throws {
        let log = out + "/metrics.jsonl"
        let svg = SVG.lineChart(
            title: "Training of \(out)", xLabel: "step", yLabel: "bits per character",
            series: [
                SVG.Series(
                    name: "train bpc", points: MetricsLog.series(path: log, x: "step", y: "bpc")),
                SVG.Series(
                    name: "validation bpc",
                    points: MetricsLog.series(path: log, x: "step", y: "val_bpc")),
            ])
        do {
            try AtomicFile.write(svg, to: out + "/training.svg")
        } catch {
            throw CLIError(error.description)
        }
    }

    /// The run's summary; sizes and seed come from the run's configuration (the checkpoint's
    /// after --resume), not from the flags' defaults.
    func printSummary(
        _ s: CharLMSummary, architecture: CharLMArchitecture, config: CharLMTrainingConfig,
        threads: Int
    ) {
        let line: JSONValue = .object([
            ("bench", "charlm"), ("impl", .string("recur-\(Recur.version)")),
            ("cell", .string(architecture.cell.rawValue)),
            ("embed", .int(architecture.embeddingSize)), ("hidden", .int(architecture.hiddenSize)),
            ("layers", .int(architecture.layers)), ("batch", .int(config.batchSize)),
            ("seq", .int(config.sequenceLength)),
            ("steps", .int(s.steps)), ("threads", .int(threads)),
            ("processes", .int(s.processes)),
            ("comm_seconds", .rounded(s.communicationSeconds, 3)),
            ("seed", .int(Int(config.seed))),
            ("seconds", .rounded(s.seconds, 2)), ("chars_per_s", .rounded(s.symbolsPerSecond, 1)),
            ("train_loss", .rounded(s.trainLoss, 4)),
            ("val_bpc", s.validationBPC.map { .rounded($0, 4) } ?? .null),
            ("best_val_bpc", s.bestValidationBPC.map { .rounded($0, 4) } ?? .null),
            ("clipped_steps", .int(s.clippedSteps)),
            ("dropout", .rounded(Double(architecture.dropout), 4)),
            ("output_dropout", .rounded(Double(architecture.outputDropout ?? 0), 4)),
            ("weight_drop", .rounded(Double(architecture.weightDrop ?? 0), 4)),
            ("interrupted", .bool(s.interrupted)), ("stopped_early", .bool(s.stoppedEarly)),
            ("kernel", .string(BLAS.kernel.coreName)),
        ])
        Output.line(line.text)
    }
}
