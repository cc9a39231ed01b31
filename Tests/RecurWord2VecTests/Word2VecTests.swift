import Foundation
import RecurTensor
import RecurText
import RecurWord2Vec
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "recur-w2v-\(name)-\(UUID().uuidString)"
}

func temporaryFile(_ text: String) -> String {
    let path = temporaryPath("corpus")
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

func configuration(threads: Int = 2, seed: UInt64 = 1) -> Word2VecConfiguration {
    var c = Word2VecConfiguration()
    c.minCount = 1
    c.threads = threads
    c.seed = seed
    return c
}

@Suite("word2vec")
struct Word2VecTests {
    static let relations = repositoryRoot + "/corpora/relations.txt"
    static let questions = repositoryRoot + "/corpora/relations-analogies.txt"

    @Test(
        "skip-gram learns the planted relations: analogy accuracy ≥ 0.9, king − man + woman = queen"
    )
    func plantedRelations() throws {
        let result = try Word2VecTrainer(corpusPath: Self.relations, configuration: configuration())
            .train()
        let report = try result.vectors.evaluateAnalogies(path: Self.questions)
        #expect(report.accuracy >= 0.9, "accuracy \(report.accuracy)")
        #expect(report.skippedFraction == 0)
        #expect(try result.vectors.analogy(a: "man", b: "king", c: "woman").first?.word == "queen")
        #expect(result.epochLosses.count == 5)
        #expect(result.epochLosses.last! < result.epochLosses.first!)
    }

    @Test(
        "CBOW and hierarchical softmax train too",
        arguments: [(true, false), (false, true), (true, true)])
    func variants(cbow: Bool, hs: Bool) throws {
        var c = configuration()
        c.cbow = cbow
        c.hierarchicalSoftmax = hs
        c.negative = hs ? 0 : 5
        c.learningRate = cbow ? 0.05 : 0.025
        let result = try Word2VecTrainer(corpusPath: Self.relations, configuration: c).train()
        let accuracy = try result.vectors.evaluateAnalogies(path: Self.questions).accuracy
        #expect(accuracy >= 0.6, "cbow \(cbow) hs \(hs): accuracy \(accuracy)")
    }

    @Test("same seed and one thread give identical vectors")
    func deterministic() throws {
        let a = try Word2VecTrainer(
            corpusPath: Self.relations, configuration: configuration(threads: 1, seed: 9)
        ).train()
        let b = try Word2VecTrainer(
            corpusPath: Self.relations, configuration: configuration(threads: 1, seed: 9)
        ).train()
        let c = try Word2VecTrainer(
            corpusPath: Self.relations, configuration: configuration(threads: 1, seed: 10)
        ).train()
        #expect(a.vectors.vectors.isBitIdentical(to: b.vectors.vectors))
        #expect(!a.vectors.vectors.isBitIdentical(to: c.vectors.vectors))
    }

    @Test("text, binary, TSV and NumPy exports; text and binary load back exactly")
    func formats() throws {
        var rng = Xoshiro256(seed: 1)
        let kv = KeyedVectors(
            words: ["a", "bé", "中文", "x_y"], vectors: Tensor.normal([4, 5], using: &rng))
        for format in [VectorFormat.text, .binary] {
            let path = temporaryPath("vec")
            try kv.write(to: path, format: format)
            let back = try KeyedVectors.load(path: path)
            #expect(back.words == kv.words)
            #expect(back.vectors.isBitIdentical(to: kv.vectors), "\(format)")
        }
        // The C tool's binary layout has a newline after each vector; it loads the same.
        var cStyle = Array("4 5\n".utf8)
        kv.vectors.withUnsafeBufferPointer { p in
            for (i, w) in kv.words.enumerated() {
                cStyle += Array((w + " ").utf8)
                for c in 0..<5 {
                    withUnsafeBytes(of: p[i * 5 + c].bitPattern.littleEndian) { cStyle += $0 }
                }
                cStyle.append(0x0A)
            }
        }
        let cPath = temporaryPath("c")
        _ = FileManager.default.createFile(atPath: cPath, contents: Data(cStyle))
        #expect(
            try KeyedVectors.load(path: cPath, binary: true).vectors.isBitIdentical(to: kv.vectors))
        let tsv = temporaryPath("tsv")
        try kv.write(to: tsv, format: .tsv)
        #expect(
            try String(contentsOfFile: tsv + "/metadata.tsv", encoding: .utf8) == "a\nbé\n中文\nx_y\n"
        )
        #expect(
            try String(contentsOfFile: tsv + "/vectors.tsv", encoding: .utf8).split(separator: "\n")
                .first?.split(separator: "\t").count == 5)
        let npy = temporaryPath("npy") + ".npy"
        try kv.write(to: npy, format: .npy)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: npy))
        #expect(bytes.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        #expect((bytes.count - 4 * 20) % 64 == 0)
        #expect(String(decoding: bytes.prefix(128), as: UTF8.self).contains("'shape': (4, 5)"))
    }

    @Test(
        "malformed vector files are reported with the line",
        arguments: [
            ("3 2\na 1 2\nb 3 4\n", "promises 3 vectors"),
            ("2 2\na 1 2\nb 3\n", "expected a word and 2 numbers"),
            ("1 2\na nan 2\n", "not a finite number"), ("x y\n", "header"), ("", "no header"),
            ("2 2\na 1 2\nb 1 2\nc 1 2\n", "more vectors"),
        ])
    func malformed(content: String, phrase: String) {
        let path = temporaryFile(content)
        do {
            _ = try KeyedVectors.load(path: path)
            Issue.record("loaded a malformed file")
        } catch {
            #expect("\(error)".contains(phrase), "\(error)")
        }
    }

    @Test("short binary records are reported")
    func shortBinary() {
        var bytes = Array("2 4\nab ".utf8)
        bytes += Array(repeating: 0, count: 16)
        bytes += Array("cd ".utf8) + Array(repeating: 0, count: 7)
        let path = temporaryPath("short")
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(throws: Word2VecError.self) { try KeyedVectors.load(path: path, binary: true) }
        do { _ = try KeyedVectors.load(path: path, binary: true) } catch {
            #expect("\(error)".contains("truncated"))
        }
    }

    @Test("bad corpora: empty, binary, vocabulary emptied by min-count")
    func badCorpora() throws {
        let empty = temporaryFile(" \n\n ")
        #expect(throws: Word2VecError.emptyCorpus(path: empty)) {
            try Word2VecTrainer(corpusPath: empty, configuration: configuration())
        }
        let rare = temporaryFile("each word here occurs once")
        var c = configuration()
        c.minCount = 2
        #expect(throws: Word2VecError.emptyVocabulary(path: rare, minCount: 2, distinctWords: 5)) {
            try Word2VecTrainer(corpusPath: rare, configuration: c)
        }
        let binary = temporaryPath("bin")
        FileManager.default.createFile(atPath: binary, contents: Data([0x41, 0x20, 0, 1, 2, 3]))
        #expect(throws: TextError.binary(path: binary, offset: 2)) {
            try Word2VecTrainer(corpusPath: binary, configuration: configuration())
        }
        var bad = configuration()
        bad.dimensions = 0
        #expect(throws: Word2VecError.self) {
            try Word2VecTrainer(corpusPath: rare, configuration: bad)
        }
    }

    @Test("queries: unknown words are named; similarity and 3CosMul")
    func queries() throws {
        let result = try Word2VecTrainer(corpusPath: Self.relations, configuration: configuration())
            .train()
        let kv = result.vectors
        #expect(throws: Word2VecError.unknownWords(["zzz", "qqq"])) {
            try kv.mostSimilar(positive: ["king", "zzz", "qqq"])
        }
        let neighbours = try kv.mostSimilar(to: "paris", count: 5).map(\.word)
        #expect(!neighbours.contains("paris"))
        #expect(
            try kv.analogy(a: "france", b: "paris", c: "italy", method: .mul).first?.word == "rome")
        #expect(try kv.similarity("king", "king") > 0.999)
        let points = try kv.projection2D(["king", "queen", "man", "woman"])
        #expect(points.count == 4 && points.allSatisfy { $0.x.isFinite && $0.y.isFinite })
    }

    @Test("word-pair correlation and analogy bookkeeping match their definitions")
    func evaluation() throws {
        #expect(Statistics.ranks([10, 20, 20, 5]) == [2, 3.5, 3.5, 1])
        #expect(abs(Statistics.spearman([1, 2, 3, 4], [10, 20, 30, 45]) - 1) < 1e-12)
        #expect(abs(Statistics.pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12)
        let kv = KeyedVectors(
            words: ["a", "b", "c", "d"],
            vectors: Tensor([[1, 0], [0.9, 0.1], [0, 1], [0.2, 0.8]]))
        let pairs = temporaryFile("# comment\na\tb\t9\na\tc\t1\nc\td\t8\na\tzz\t5\n")
        let r = try kv.evaluatePairs(path: pairs)
        #expect(r.pairs == 3)
        #expect(abs(r.outOfVocabularyFraction - 0.25) < 1e-12)
        #expect(r.spearman > 0.99)
        let questions = temporaryFile(": capital-common\nA B C D\nA B zz D\n: gram1\nB A D C\n")
        let a = try kv.evaluateAnalogies(path: questions)
        #expect(a.sections.map(\.name) == ["capital-common", "gram1"])
        #expect(a.questions == 2)
        #expect(abs(a.skippedFraction - 1.0 / 3) < 1e-12)
        #expect(a.semanticAccuracy == 1 && a.syntacticAccuracy == 1)
    }

    @Test("vocabulary: counting, ordering, min-count, max-vocab, save and read")
    func vocabulary() throws {
        let path = temporaryFile("b a c a b a\nd\n")
        let v = try WordVocabulary.build(
            path: path, tokenizer: WordTokenizer(.whitespace), minCount: 1, maxWords: 3)
        #expect((0..<v.count).map { v.table.string($0) } == ["a", "b", "c"])
        #expect(v.counts == [3, 2, 1])
        #expect(v.corpusWords == 7)
        let saved = temporaryFile(v.savedText())
        let back = try WordVocabulary.read(path: saved, minCount: 2)
        #expect((0..<back.count).map { back.table.string($0) } == ["a", "b"])
    }

    @Test("shards of a file cover every token exactly once", arguments: [1, 2, 3, 7])
    func shards(parts: Int) throws {
        let words = (0..<5000).map { "w\($0 % 97)" }
        let text = words.joined(separator: " ") + "\n"
        let path = temporaryFile(text)
        let size = text.utf8.count
        var seen: [String] = []
        for p in 0..<parts {
            var stream = try TokenStream(
                path: path, range: (size * p / parts)..<(size * (p + 1) / parts),
                tokenizer: WordTokenizer(.whitespace), chunkSize: 64)
            while try stream.next({
                if !$0.isEmpty { seen.append(String(decoding: $0, as: UTF8.self)) }
            }) {}
            stream.close()
        }
        #expect(seen == words)
    }

    @Test(
        "Unicode tokenization lower-cases and splits punctuation in any script, CJK ideographs one by one"
    )
    func tokenize() {
        let t = WordTokenizer(.unicode)
        #expect(
            t.tokens("Hello, Wörld! Привет—мир. 東京は e\u{301}cole_1") == [
                "hello", ",", "wörld", "!", "привет", "—", "мир", ".", "東", "京", "は", "école_1",
            ])
        // Chinese has no spaces: every ideograph is a token; kana runs stay together.
        #expect(t.tokens("我爱北京。Tom说：ありがとう") == ["我", "爱", "北", "京", "。", "tom", "说", "：", "ありがとう"])
        #expect(WordTokenizer(.whitespace).tokens("a  b\tc\nD") == ["a", "b", "c", "D"])
    }
}
