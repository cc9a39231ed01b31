import ArgumentParser
import RecurBase
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train word vectors on a text corpus (the original word2vec tool's algorithm).",
        discussion: """
            The corpus is streamed from disk (one shard per thread, every epoch); only the vocabulary \
            and the vectors are held in memory. Flags follow the C tool (-size → --dim, -iter → \
            --epochs, -alpha → --lr, -cbow 1 → --cbow, -hs 1 → --hs) and so do the defaults, except \
            that the default model is skip-gram (the C tool's is CBOW; pass --cbow for it). \
            With more than one thread the threads update shared vectors without locks (Hogwild, as \
            the C tool and gensim), so runs differ slightly; --threads 1 is bit-reproducible.
            """
    )

    @Option(help: "Text corpus (UTF-8; words separated by whitespace, or see --tokenize).")
    var data: String
    @Option(help: "Where to write the vectors (an existing file is kept unless --force).") var out:
        String
    @Flag(help: "Replace an existing --out (never an input file).") var force = false
    @Option(help: "text, binary, tsv (directory for TensorBoard) or npy.") var format:
        VectorFormat = .text
    @Flag(help: "Shorthand for --format binary.") var binary = false
    @Option(help: "Vector size.") var dim: Int = 100
    @Option(help: "Maximum context distance.") var window: Int = 5
    @Option(help: "Negative samples per pair (0 needs --hs).") var negative: Int = 5
    @Flag(help: "Hierarchical softmax.") var hs = false
    @Flag(help: "CBOW instead of skip-gram.") var cbow = false
    @Option(help: "Subsampling threshold for frequent words (0: off).") var sample: Double = 1e-3
    @Option(help: "Discard words with fewer occurrences.") var minCount: Int = 5
    @Option(help: "Keep at most this many words (0: all).") var maxVocab: Int = 0
    @Option(help: "Passes over the corpus.") var epochs: Int = 5
    @Option(help: "Starting learning rate (default 0.025, CBOW 0.05).") var lr: Float?
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(
        name: [.customLong("tokenize"), .customLong("tokenizer")],
        help:
            "whitespace, or unicode: lower-case and split punctuation (also --tokenizer, as in translate)."
    )
    var tokenize: Tokenization = .whitespace
    @Option(help: "Write the vocabulary (`word count` lines) here.") var saveVocab: String?
    @Option(help: "Use this vocabulary file instead of counting the corpus.") var readVocab: String?
    @Option(
        help:
            "Under mpirun: words each process trains between two merges of the frequent words' vectors."
    ) var syncWords: Int = 50_000
    @Option(help: "Under mpirun: merges between two merges of every word's vectors.")
    var fullSyncEvery: Int = 4
    @Flag(help: "Print a one-line JSON summary last.") var json = false
    @Flag(help: "Only errors and the summary.") var quiet = false
    @OptionGroup var runtime: RuntimeOptions

    var configuration: Word2VecConfiguration {
        var c = Word2VecConfiguration()
        c.dimensions = dim
        c.window = window
        c.negative = negative
        c.hierarchicalSoftmax = hs
        c.cbow = cbow
        c.sample = sample
        c.minCount = minCount
        c.maxVocabulary = maxVocab
        c.epochs = epochs
        c.learningRate = lr ?? (cbow ? 0.05 : 0.025)
        c.threads = runtime.threadCount
        c.seed = seed
        c.tokenization = tokenize
        return c
    }

    func validate() throws {
        if let problem = configuration.problem { throw CLIError(problem) }
        if syncWords < 1_000 || syncWords > 1_000_000_000 {
            throw CLIError("--sync-words must be between 1000 and 1000000000, got \(syncWords)")
        }
        if fullSyncEvery < 1 || fullSyncEvery > 1_000_000 {
            throw CLIError("--full-sync-every must be between 1 and 1000000, got \(fullSyncEvery)")
        }
    }

    func run() throws {
        runtime.apply()
        let format: VectorFormat = binary ? .binary : format
        // Every file this run writes, checked against every file it reads before anything is
        // read or written: `--out c.txt --data c.txt` would replace the corpus.
        let outputs: [String] =
            switch format {
            case .text, .binary: [out]
            case .tsv: [out, out + "/vectors.tsv", out + "/metadata.tsv"]
            case .npy: [out, out + ".vocab.txt"]
            }
        let inputs = [("--data", data)] + (readVocab.map { [("--read-vocab", $0)] } ?? [])
        try refuseOverwritingInputs(
            outputs: outputs + (saveVocab.map { [$0] } ?? []), inputs: inputs)
        if let saveVocab,
            outputs.contains(where: { $0 == saveVocab || SafeRead.sameFile($0, saveVocab) })
        {
            throw CLIError(
                "--save-vocab \(saveVocab) is also where the vectors go; choose another path")
        }
        if !force,
            let existing = outputs.first(where: {
                format != .tsv || $0 != out ? access($0, F_OK) == 0 : false
            })
        {
            throw CLIError(
                "\(existing) already exists; pass --force to replace it, or choose another --out")
        }
        let group = Job.group
        try group.atRoot { try checkWritable(out, directory: format == .tsv) }
        var console = Console()
        console.quiet = quiet || !Job.prints
        let vocabulary = try readVocab.map {
            try WordVocabulary.read(path: $0, minCount: minCount, maxWords: maxVocab)
        }
        let trainer = try Word2VecTrainer(
            corpusPath: data, configuration: configuration, vocabulary: vocabulary)
        if let saveVocab, group.isRoot {
            do {
                try AtomicFile.write(trainer.vocabulary.savedText(), to: saveVocab)
            } catch {
                throw CLIError(error.description)
            }
        }
        let v = trainer.vocabulary
        console.log(
            "\(v.count) words (min count \(minCount)) from \(v.corpusWords) corpus words; \(cbow ? "CBOW" : "skip-gram"), \(hs ? "hierarchical softmax" : "negative \(negative)"), dim \(dim), \(epochs) epochs, \(group.size > 1 ? "\(group.size) processes × " : "")\(runtime.threadCount) threads"
        )
        // Redrawn in place on a terminal, a plain line every 10 s otherwise (the callback comes
        // from the training threads, hence the lock).
        let progress = Mutex(console)
        let result = try trainer.train(
            group: group, syncWords: syncWords, fullSyncRounds: fullSyncEvery
        ) { p in
            let line =
                "epoch \(p.epoch + 1) | \(Console.fixed(100 * Double(p.wordsProcessed) / Double(max(p.totalWords, 1)), 1))% | lr \(Console.fixed(Double(p.learningRate), 5)) | \(Console.compact(p.wordsPerSecond)) words/s\(Job.over) | ETA \(Console.duration(Double(p.totalWords - p.wordsProcessed) / max(p.wordsPerSecond, 1)))"
            progress.withLock { $0.progress(line) }
        }
        progress.withLock { $0.finishProgress() }
        for (e, loss) in result.epochLosses.enumerated() {
            console.log("epoch \(e + 1): mean loss \(Console.fixed(loss, 4)) per prediction")
        }
        // Without --force an output that appeared during training (another run) is kept.
        // Every process holds the averaged vectors; rank 0 writes them.
        var files: [String] = []
        try group.atRoot {
            files = try result.vectors.write(to: out, format: format, replacing: force)
        }
        console.log(
            "done: \(Console.compact(result.wordsPerSecond)) words/s\(group.size > 1 ? " over \(group.size) processes" : ""), \(Console.duration(result.seconds)); vectors in \(files.joined(separator: ", "))"
        )
        if json && group.isRoot {
            let line: JSONValue = .object([
                ("bench", "word2vec"), ("impl", .string("recur-\(Recur.version)")),
                ("vocab", .int(v.count)),
                ("corpus_words", .int(v.corpusWords)), ("training_words", .int(v.trainingWords)),
                ("dim", .int(dim)), ("epochs", .int(epochs)),
                ("threads", .int(runtime.threadCount)), ("processes", .int(group.size)),
                ("seconds", .rounded(result.seconds, 3)),
                ("words_per_s", .rounded(result.wordsPerSecond, 1)),
                ("epoch_losses", .array(result.epochLosses.map { .rounded($0, 5) })),
            ])
            Output.line(line.text)
        }
    }

    func checkWritable(_ path: String, directory: Bool) throws {
        let probe = directory ? path + "/.write-test" : path + ".write-test"
        do {
            if directory { try AtomicFile.createDirectory(path) }
            try AtomicFile.write([0x6F, 0x6B], to: probe)
            unlink(probe)
        } catch {
            throw CLIError("--out \(path) is not writable (\(error.reason))")
        }
    }
}
