// A mutation fuzzer for every file loader Recur has. Each target takes valid seed files (made
// here, from the library's own writers, so they always match the current formats), mutates
// them with a seeded generator and feeds the result to the loader. A loader may accept or
// reject an input; it may never trap, crash, hang or allocate without bound. The test suite
// runs a fixed number of inputs per target; CI also runs the `recur-fuzz` executable under
// AddressSanitizer for a bounded time.

import RecurBase
import RecurCharLM
import RecurNN
import RecurSeq2Seq
import RecurTensor
import RecurText
import RecurWord2Vec

#if canImport(Glibc)
    import Glibc
#endif

/// One loader under test.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case safetensors
    case charlmCheckpoint = "charlm-checkpoint"
    case seq2seqCheckpoint = "seq2seq-checkpoint"
    case word2vecText = "word2vec-text"
    case word2vecBinary = "word2vec-binary"
    case pairs
    case manifest
    case analogies
    case wordPairs = "word-pairs"
    case vocabulary
    case text
}

/// What one run of a target did.
public struct FuzzReport: Sendable, CustomStringConvertible {
    /// The loader that was fed.
    public var target: FuzzTarget
    /// Mutated inputs fed to it.
    public var inputs = 0
    /// Inputs it loaded.
    public var accepted = 0
    /// Inputs it refused with a thrown error.
    public var rejected = 0
    /// One line: target, inputs, accepted and rejected.
    public var description: String {
        "\(target.rawValue): \(inputs) inputs, \(accepted) accepted, \(rejected) rejected with an error"
    }
}

/// Byte-level mutations (after AFL/libFuzzer's): bit flips, interesting bytes, inserted,
/// deleted, duplicated and truncated ranges, and numbers in text replaced by extreme ones.
public struct Mutator {
    var rng: Xoshiro256

    /// A mutator whose choices follow `seed`.
    public init(seed: UInt64) { rng = Xoshiro256(seed: seed) }

    static let numbers = [
        "0", "-1", "1", "2", "-9223372036854775808", "9223372036854775807", "18446744073709551616",
        "288230376151711745",
        "1000000000000", "4294967296", "65536", "1e308", "-1e308", "1e-45", "NaN", "nan", "inf",
        "-0", "3.5", "",
    ]

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : rng.nextInt(below: n) }

    /// A mutated copy of `seed` (one to four mutations).
    public mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0...below(4) {
            switch below(9) {
            case 0 where !bytes.isEmpty:
                bytes[below(bytes.count)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty:
                bytes[below(bytes.count)] =
                    [0, 0xFF, 0x7F, 0x80, 0x0A, 0x0D, 0x09, 0x20, 0x22, 0x5C][below(10)]
            case 2:
                let at = below(bytes.count + 1)
                bytes.insert(
                    contentsOf: (0..<(1 + below(8))).map { _ in
                        UInt8(truncatingIfNeeded: rng.next())
                    }, at: at)
            case 3 where !bytes.isEmpty:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(32)))
            case 4 where !bytes.isEmpty:
                let start = below(bytes.count)
                let piece = Array(bytes[start..<min(bytes.count, start + 1 + below(64))])
                bytes.insert(contentsOf: piece, at: below(bytes.count + 1))
            case 5 where !bytes.isEmpty:
                bytes.removeSubrange(below(bytes.count)...)
            case 6, 7:
                bytes = replaceNumber(bytes)
            default:
                if !bytes.isEmpty {
                    bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
        }
        return bytes
    }

    /// Replaces one value of a JSON document (any field, at any depth) with an extreme one:
    /// numbers at the edges of `Int`, huge and negative values, wrong types, empty arrays.
    ///
    /// Byte mutations rarely keep JSON valid; this reaches every field's validation.
    public mutating func mutateJSON(_ bytes: [UInt8]) -> [UInt8] {
        guard let document = try? JSONNode.parse(ArraySlice(bytes)) else { return mutate(bytes) }
        // Targets are object members (the fields), so that long arrays (a vocabulary's symbols)
        // do not drown the scalar fields.
        var members = 0
        func count(_ node: JSONNode) {
            switch node {
            case .object(let o):
                members += o.count
                o.values.forEach(count)
            case .array(let a): a.prefix(4).forEach(count)
            default: break
            }
        }
        count(document)
        var target = below(max(members, 1))
        // Whole numbers beyond Double's exact range go in as text (sentinels swapped after).
        let replacements: [JSONNode] = [
            .number(-1), .number(0), .number(1), .string("__INT_MAX__"), .string("__INT_MIN__"),
            .number(1e300), .number(-1e300),
            .number(0.5), .number(4_294_967_296), .string("x"), .string("../../etc/passwd"),
            .array([]), .object([:]), .null,
            .bool(true), .array([.number(-1)]),
        ]
        let replacement = replacements[below(replacements.count)]
        func replace(_ node: JSONNode) -> JSONNode {
            switch node {
            case .object(let o):
                var out: [String: JSONNode] = [:]
                for (key, value) in o.sorted(by: { $0.key < $1.key }) {
                    if target == 0 {
                        out[key] = replacement
                    } else {
                        out[key] = replace(value)
                    }
                    target -= 1
                }
                return .object(out)
            case .array(let a): return .array(a.prefix(4).map(replace) + a.dropFirst(4))
            default: return node
            }
        }
        let text = replace(document).jsonText
            .replacing("\"__INT_MAX__\"", with: "9223372036854775807")
            .replacing("\"__INT_MIN__\"", with: "-9223372036854775808")
        return Array(text.utf8)
    }

    /// Replaces a run of ASCII digits (a count, a size, an offset) with an extreme number.
    mutating func replaceNumber(_ bytes: [UInt8]) -> [UInt8] {
        let digits = bytes.indices.filter {
            bytes[$0] >= 0x30 && bytes[$0] <= 0x39
                && ($0 == 0 || !(bytes[$0 - 1] >= 0x30 && bytes[$0 - 1] <= 0x39))
        }
        guard !digits.isEmpty else { return bytes }
        let start = digits[below(digits.count)]
        var end = start
        while end < bytes.count
            && (bytes[end] >= 0x30 && bytes[end] <= 0x39 || bytes[end] == 0x2E
                || bytes[end] == 0x2D)
        { end += 1 }
        var out = bytes
        out.replaceSubrange(
            start..<end, with: Array(Mutator.numbers[below(Mutator.numbers.count)].utf8))
        return out
    }
}

/// Valid seed files for every target, and the loaders to feed mutations to.
public final class FuzzHarness {
    /// The directory holding the seed files and mutated copies.
    public let workDirectory: String
    private var seeds: [FuzzTarget: [(name: String, bytes: [UInt8])]] = [:]
    /// For the checkpoint targets: the seed checkpoint's files by name (the mutated file replaces one).
    private var checkpointFiles: [FuzzTarget: [String: [UInt8]]] = [:]

    /// Makes the seeds in a fresh directory under `directory`.
    public init(directory: String) throws {
        workDirectory = directory + "/recur-fuzz-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try AtomicFile.createDirectory(workDirectory)
        try makeSeeds()
    }

    deinit { cleanUp() }

    /// Deletes the seeds and inputs.
    public func cleanUp() { removeTree(workDirectory) }

    /// The path a target's input is written to before its loader reads it (left in place when
    /// the process dies, so a crashing input can be kept).
    public func inputPath(_ target: FuzzTarget) -> String {
        workDirectory + "/input-" + target.rawValue
    }

    /// Runs `iterations` mutated inputs (and, first, every seed unchanged) through `target`.
    public func run(
        _ target: FuzzTarget, iterations: Int, seed: UInt64,
        until deadline: ContinuousClock.Instant? = nil
    ) -> FuzzReport {
        var mutator = Mutator(seed: seed &+ UInt64(FuzzTarget.allCases.firstIndex(of: target) ?? 0))
        var report = FuzzReport(target: target)
        let targetSeeds = seeds[target] ?? []
        var i = 0
        while i < iterations + targetSeeds.count
            && deadline.map({ ContinuousClock.now < $0 }) ?? true
        {
            let (name, original) = targetSeeds[i % targetSeeds.count]
            let input =
                i < targetSeeds.count
                ? original
                : name.hasSuffix(".json") && i % 2 == 0
                    ? mutator.mutateJSON(original) : mutator.mutate(original)
            i += 1
            report.inputs += 1
            if (try? feed(target, file: name, bytes: input)) != nil {
                report.accepted += 1
            } else {
                report.rejected += 1
            }
        }
        return report
    }

    /// Writes `bytes` where the target's loader reads them and runs the loader.
    public func feed(_ target: FuzzTarget, file: String, bytes: [UInt8]) throws {
        let path = inputPath(target)
        switch target {
        case .charlmCheckpoint, .seq2seqCheckpoint:
            removeTree(path)
            try AtomicFile.createDirectory(path)
            for (name, content) in checkpointFiles[target] ?? [:] {
                try AtomicFile.write(name == file ? bytes : content, to: path + "/" + name)
            }
            // Load, then resume for one more step or epoch as `--resume` does, so that every
            // field the trainer uses is exercised too.
            let out = path + "-resumed"
            removeTree(out)
            if target == .charlmCheckpoint {
                let loaded = try CharLMStore.load(directory: path)
                _ = loaded.model.evaluate(ids: [1, 2, 1, 2])
                guard let resume = loaded.resume else { return }
                var config = loaded.config.training
                config.steps = resume.progress.step + 1
                let corpus = CharCorpus(
                    text: charLMText, unit: loaded.config.unit,
                    validationFraction: config.validationFraction,
                    vocabulary: loaded.config.vocabulary)
                loaded.model.train()
                let trainer = try CharLMTrainer(
                    model: loaded.model, corpus: corpus, config: config, unit: loaded.config.unit,
                    outputDirectory: out,
                    dataPath: "fuzz", resume: resume)
                _ = try trainer.run()
            } else {
                let loaded = try Seq2SeqStore.load(directory: path)
                guard let resume = loaded.resume else { return }
                var config = loaded.config.training
                config.epochs = resume.progress.epoch + 1
                let corpus = try ParallelCorpus.load(
                    path: seq2seqPairs, tokenizer: loaded.config.tokenizer,
                    maxLength: config.maxLength)
                let data = Seq2SeqData(
                    corpus: corpus, config: config,
                    vocabularies: (loaded.config.sourceVocabulary, loaded.config.targetVocabulary))
                loaded.model.train()
                let trainer = try Seq2SeqTrainer(
                    model: loaded.model, data: data, config: config, outputDirectory: out,
                    dataPath: seq2seqPairs,
                    dataPairs: corpus.pairs.count, resume: resume)
                _ = try trainer.run()
            }
        default:
            try AtomicFile.write(bytes, to: path)
            switch target {
            case .safetensors: _ = try SafeTensors.read(path)
            case .word2vecText, .word2vecBinary:
                let vectors = try KeyedVectors.load(path: path)
                if let word = vectors.words.first {
                    _ = try vectors.mostSimilar(to: word, count: 3)
                }
            case .pairs:
                _ = try ParallelCorpus.load(
                    path: path, tokenizer: WordTokenizer(.unicode), maxLength: 50)
            case .manifest: _ = try CorpusManifest(text: try TextFile.read(path), path: path)
            case .analogies: _ = try analogyVectors.evaluateAnalogies(path: path)
            case .wordPairs: _ = try analogyVectors.evaluatePairs(path: path)
            case .vocabulary: _ = try WordVocabulary.read(path: path, minCount: 1)
            case .text:
                let corpus = try CharCorpus.load(
                    path: path, unit: .grapheme, validationFraction: 0.1)
                _ = corpus.vocabulary.count
            default: break
            }
        }
    }

    private var analogyVectors = KeyedVectors(words: ["a"], vectors: Tensor.zeros([1, 1]))
    private var charLMText: [UInt8] = []
    private var seq2seqPairs: String { workDirectory + "/seed-pairs.tsv" }

    private func makeSeeds() throws {
        let text = "The cat sees the dog.\r\nA dog sees the cat!\nÜber café — 猫が好き。\n"
        var rng = Xoshiro256(seed: 7)
        // Word vectors in both formats.
        let words = ["the", "cat", "dog", "sees", "a", "king", "queen", "man", "woman"]
        let vectors = KeyedVectors(
            words: words, vectors: Tensor.uniform([words.count, 4], in: -1...1, using: &rng))
        analogyVectors = vectors
        for (format, target) in [
            (VectorFormat.text, FuzzTarget.word2vecText), (.binary, .word2vecBinary),
        ] {
            let path = workDirectory + "/seed-vectors-" + format.rawValue
            try vectors.write(to: path, format: format)
            seeds[target] = [("vectors", try SafeRead.readAll(path))]
        }
        seeds[.safetensors] = [
            (
                "tensors",
                SafeTensors.encode(
                    [
                        "a.weight": Tensor.uniform([3, 2], in: -1...1, using: &rng),
                        "b": Tensor.zeros([4]),
                    ], metadata: ["format": "pt"])
            )
        ]
        seeds[.pairs] = [
            (
                "pairs",
                Array(
                    "1\t2\r\nThe cat sees the dog.\tLe chat voit le chien.\tCC-BY\r\nHello!\tBonjour !\n\n"
                        .utf8)
            )
        ]
        seeds[.manifest] = [
            (
                "manifest",
                Array(
                    "# name url sha256 bytes description\ntiny\tfile:///tmp/x\t\(String(repeating: "a", count: 64))\t12\ta corpus\nopen\thttps://example.org/x.zip\t-\t-\tno checksum\r\n"
                        .utf8)
            )
        ]
        seeds[.analogies] = [
            ("analogies", Array(": family\nman king woman queen\r\nthe cat a dog\n".utf8))
        ]
        seeds[.wordPairs] = [
            ("pairs", Array("# word1 word2 score\nking queen 8.5\ncat\tdog\t7\r\n".utf8))
        ]
        seeds[.vocabulary] = [("vocab", Array("the 10\ncat 3\r\ndog 2\n".utf8))]
        seeds[.text] = [("text", [0xEF, 0xBB, 0xBF] + Array(text.utf8))]
        try makeCharLMSeed(text: text)
        try makeSeq2SeqSeed()
    }

    private func makeCharLMSeed(text: String) throws {
        let corpusText = Array(String(repeating: text, count: 20).utf8)
        charLMText = corpusText
        let corpus = CharCorpus(text: corpusText, unit: .grapheme, validationFraction: 0.1)
        let architecture = CharLMArchitecture(
            cell: .lstm, vocabularySize: corpus.vocabulary.count, embeddingSize: 4, hiddenSize: 6,
            layers: 1, dropout: 0)
        var config = CharLMTrainingConfig()
        config.batchSize = 2
        config.sequenceLength = 8
        config.steps = 2
        config.evaluateEvery = 0
        config.checkpointEvery = 0
        var rng = Xoshiro256(seed: 1)
        let directory = workDirectory + "/seed-charlm"
        let trainer = try CharLMTrainer(
            model: CharLanguageModel(architecture: architecture, rng: &rng), corpus: corpus,
            config: config, unit: .grapheme,
            outputDirectory: directory, dataPath: "seed.txt")
        _ = try trainer.run()
        try collectCheckpoint(directory, target: .charlmCheckpoint)
    }

    private func makeSeq2SeqSeed() throws {
        let lines = (0..<12).map { i in "the cat \(i) sees the dog .\tle chat \(i) voit le chien ."
        }.joined(separator: "\n")
        let path = workDirectory + "/seed-pairs.tsv"
        try AtomicFile.write(lines, to: path)
        let corpus = try ParallelCorpus.load(
            path: path, tokenizer: WordTokenizer(.unicode), maxLength: 20)
        var config = Seq2SeqTrainingConfig()
        config.batchSize = 4
        config.epochs = 1
        config.validationFraction = 0.2
        let data = Seq2SeqData(corpus: corpus, config: config)
        var architecture = Seq2SeqArchitecture()
        architecture.sourceVocabularySize = data.sourceVocabulary.count
        architecture.targetVocabularySize = data.targetVocabulary.count
        architecture.embeddingSize = 4
        architecture.hiddenSize = 6
        var rng = Xoshiro256(seed: 1)
        let directory = workDirectory + "/seed-seq2seq"
        let trainer = try Seq2SeqTrainer(
            model: Seq2SeqModel(architecture: architecture, rng: &rng), data: data, config: config,
            outputDirectory: directory,
            dataPath: path, dataPairs: corpus.pairs.count)
        _ = try trainer.run()
        try collectCheckpoint(directory, target: .seq2seqCheckpoint)
    }

    private func collectCheckpoint(_ directory: String, target: FuzzTarget) throws {
        var files: [String: [UInt8]] = [:]
        for name in AtomicFile.entries(of: directory)
        where name == "checkpoint.json" || name.hasSuffix(".safetensors") {
            files[name] = try SafeRead.readAll(directory + "/" + name)
        }
        checkpointFiles[target] = files
        seeds[target] = files.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

}

/// Deletes a directory tree (best effort).
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in AtomicFile.entries(of: path) { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

extension JSONNode {
    /// Compact JSON text (numbers that are whole print without a fraction).
    var jsonText: String {
        switch self {
        case .object(let o):
            return "{"
                + o.sorted { $0.key < $1.key }.map {
                    JSONText.quoted($0.key) + ":" + $0.value.jsonText
                }.joined(
                    separator: ",") + "}"
        case .array(let a): return "[" + a.map(\.jsonText).joined(separator: ",") + "]"
        case .string(let s): return JSONText.quoted(s)
        case .number(let d):
            if d == d.rounded(), abs(d) < 9.3e18, let i = Int(exactly: d) { return String(i) }
            return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }
}
