import Foundation
import RecurSeq2Seq
import RecurTensor
import RecurText
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "recur-s2s-\(name)-\(UUID().uuidString)"
}

func temporaryFile(_ bytes: [UInt8]) -> String {
    let path = temporaryPath("pairs")
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

func temporaryFile(_ text: String) -> String { temporaryFile(Array(text.utf8)) }

@Suite("BLEU and chrF against sacreBLEU")
struct MetricTests {
    // Fields named as the keys of the fixture that Scripts/make_metric_fixtures.py writes.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    struct Case: Decodable {
        var hypotheses: [String]
        var references: [String]
        var bleu_13a: Double
        var bleu_none: Double
        var chrf: Double
        var tokenized_13a: [String]
    }
    struct Fixtures: Decodable {
        var sacrebleu: String
        var cases: [Case]
    }

    static func fixtures() throws -> Fixtures {
        let url = try #require(
            Bundle.module.url(
                forResource: "metrics", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixtures.self, from: Data(contentsOf: url))
    }

    @Test("corpus BLEU (13a and none) and chrF equal sacreBLEU's to 0.01 on every fixture")
    func matchesSacreBLEU() throws {
        let f = try Self.fixtures()
        #expect(f.sacrebleu == BLEU.sacreBLEUVersion)
        #expect(f.cases.count >= 15)
        for (i, c) in f.cases.enumerated() {
            let b13 = BLEU.corpus(
                hypotheses: c.hypotheses, references: c.references, tokenizer: .thirteenA)
            let bNone = BLEU.corpus(
                hypotheses: c.hypotheses, references: c.references, tokenizer: .none)
            let chrF = ChrF.corpus(hypotheses: c.hypotheses, references: c.references)
            #expect(
                abs(b13.score - c.bleu_13a) < 0.01,
                "case \(i): BLEU 13a \(b13.score) vs \(c.bleu_13a)")
            #expect(
                abs(bNone.score - c.bleu_none) < 0.01,
                "case \(i): BLEU none \(bNone.score) vs \(c.bleu_none)")
            #expect(abs(chrF.score - c.chrf) < 0.01, "case \(i): chrF \(chrF.score) vs \(c.chrf)")
            #expect(
                c.hypotheses.map(BLEUTokenizer.thirteenA.tokenize) == c.tokenized_13a, "case \(i)")
        }
    }

    @Test("signatures name the settings as sacreBLEU does")
    func signatures() {
        let b = BLEU.corpus(hypotheses: ["a b"], references: ["a b"])
        #expect(b.signature == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0")
        #expect(
            BLEU.corpus(hypotheses: ["a"], references: ["a"], tokenizer: .none).signature.contains(
                "tok:none"))
        #expect(
            ChrF.corpus(hypotheses: ["a"], references: ["a"]).signature
                == "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0")
    }
}

@Suite("Parallel corpora")
struct ParallelCorpusTests {
    let tokenizer = WordTokenizer(.unicode)

    @Test("reads pairs, ignores extra columns, blank lines and CR, tokenizes Unicode text")
    func reads() throws {
        let path = temporaryFile(
            "Hello, world!\tBonjour, le monde !\tCC-BY 2.0 (France)\r\n\nÉcole?\tШкола?\n")
        let corpus = try ParallelCorpus.load(path: path, tokenizer: tokenizer)
        #expect(corpus.pairs.count == 2)
        #expect(corpus.pairs[0].source == ["hello", ",", "world", "!"])
        #expect(corpus.pairs[0].target == ["bonjour", ",", "le", "monde", "!"])
        #expect(corpus.pairs[0].targetText == "Bonjour, le monde !")
        #expect(corpus.pairs[1].source == ["école", "?"])
        #expect(corpus.pairs[1].target == ["школа", "?"])
    }

    @Test("a line without a tab names its line number; --skip-bad-lines skips it")
    func missingTab() throws {
        let path = temporaryFile("a\tb\nno tab here\nc\td\n")
        #expect(throws: ParallelCorpusError.missingTab(path: path, line: 2)) {
            try ParallelCorpus.load(path: path, tokenizer: tokenizer)
        }
        let skipped = try ParallelCorpus.load(path: path, tokenizer: tokenizer, skipBadLines: true)
        #expect(skipped.pairs.count == 2 && skipped.skippedLines == 1)
        #expect(
            ParallelCorpusError.missingTab(path: path, line: 2).description.contains(":2: no tab"))
    }

    @Test("an empty side names its line and side")
    func emptySide() throws {
        let path = temporaryFile("a\tb\n \tc\n")
        #expect(throws: ParallelCorpusError.emptySide(path: path, line: 2, side: "source")) {
            try ParallelCorpus.load(path: path, tokenizer: tokenizer)
        }
        let target = temporaryFile("a\tb\nc\t\n")
        #expect(throws: ParallelCorpusError.emptySide(path: target, line: 2, side: "target")) {
            try ParallelCorpus.load(path: target, tokenizer: tokenizer)
        }
        #expect(
            try ParallelCorpus.load(path: target, tokenizer: tokenizer, skipBadLines: true).pairs
                .count == 1)
    }

    @Test("empty files, missing files, invalid UTF-8 and all-filtered files are clear errors")
    func badFiles() throws {
        let empty = temporaryFile("")
        #expect(throws: TextError.empty(path: empty)) {
            try ParallelCorpus.load(path: empty, tokenizer: tokenizer)
        }
        #expect(throws: TextError.fileNotFound(path: "/nonexistent/pairs.tsv")) {
            try ParallelCorpus.load(path: "/nonexistent/pairs.tsv", tokenizer: tokenizer)
        }
        let invalid = temporaryFile(Array("ok\tbien\n".utf8) + [0x61, 0xFF, 0x09, 0x62, 0x0A])
        #expect(throws: TextError.invalidUTF8(path: invalid, offset: 9, byte: 0xFF)) {
            try ParallelCorpus.load(path: invalid, tokenizer: tokenizer)
        }
        let lossy = try ParallelCorpus.load(path: invalid, tokenizer: tokenizer, lossy: true)
        #expect(lossy.pairs.count == 2)
        let long = temporaryFile("a b c d\te f g h\n")
        #expect(throws: ParallelCorpusError.self) {
            try ParallelCorpus.load(path: long, tokenizer: tokenizer, maxLength: 3)
        }
        #expect(throws: ParallelCorpusError.self) {
            try ParallelCorpus.load(path: temporaryFile("\n\n  \n"), tokenizer: tokenizer)
        }
    }

    @Test("the split is seeded, disjoint and complete")
    func split() throws {
        let lines = (0..<100).map { "s\($0)\tt\($0)\n" }.joined()
        let corpus = try ParallelCorpus.load(path: temporaryFile(lines), tokenizer: tokenizer)
        let a = corpus.split(validation: 0.1, test: 0.2, seed: 3)
        let b = corpus.split(validation: 0.1, test: 0.2, seed: 3)
        let c = corpus.split(validation: 0.1, test: 0.2, seed: 4)
        #expect(a.train == b.train && a.validation == b.validation && a.test == b.test)
        #expect(a.train != c.train)
        #expect(a.validation.count == 10 && a.test.count == 20 && a.train.count == 70)
        let all = Set((a.train + a.validation + a.test).map(\.sourceText))
        #expect(all.count == 100)
    }

    @Test("vocabulary: specials first, min-count maps rare words to <unk>, round trip")
    func vocabulary() {
        let v = TranslationVocabulary(
            sentences: [["le", "chat"], ["le", "chien"], ["le", "chat"]], minCount: 2)
        #expect(Array(v.words.prefix(4)) == TranslationVocabulary.specials)
        #expect(v.id(of: "le") != nil && v.id(of: "chat") != nil && v.id(of: "chien") == nil)
        let (ids, unknown) = v.encode(["le", "chien", "chat"])
        #expect(ids[1] == TranslationVocabulary.unknown && unknown == ["chien"])
        #expect(v.decode(ids) == ["le", "<unk>", "chat"])
    }

    @Test("batches are time-major, padded, with <s> before and </s> after the target")
    func batch() {
        let v = TranslationVocabulary(words: TranslationVocabulary.specials + ["a", "b", "c"])
        let pairs = [
            SentencePair(source: ["a", "b", "c"], target: ["c"]),
            SentencePair(source: ["b"], target: ["a", "b"]),
        ]
        let batch = TranslationBatch(pairs: pairs, indices: [0, 1], source: v, target: v)
        #expect(batch.batch == 2 && batch.sourceSteps == 3 && batch.targetSteps == 3)
        #expect(batch.sourceLengths == [3, 1])
        #expect(batch.source == [4, 5, 5, 0, 6, 0])
        #expect(batch.targetInput == [1, 1, 6, 4, 0, 5])
        #expect(batch.targetOutput == [6, 4, 2, 5, 0, 2])
    }

    @Test("length buckets cover every pair once and group similar lengths")
    func buckets() {
        var pairs: [SentencePair] = []
        for i in 0..<200 {
            pairs.append(
                SentencePair(source: Array(repeating: "w", count: 1 + i % 20), target: ["x"]))
        }
        var rng = Xoshiro256(seed: 1)
        let buckets = TranslationBatch.buckets(pairs: pairs, batchSize: 16, rng: &rng)
        #expect(buckets.flatMap { $0 }.sorted() == Array(0..<200))
        let spread = buckets.map { b in
            b.map { pairs[$0].source.count }.max()! - b.map { pairs[$0].source.count }.min()!
        }
        #expect(spread.reduce(0, +) / spread.count <= 4, "\(spread)")
    }
}

@Suite("Detokenization")
struct DetokenizerTests {
    @Test("spaces between words, none between CJK ideographs and CJK punctuation")
    func join() {
        #expect(Detokenizer.join(["le", "chat", "."]) == "le chat .")
        #expect(Detokenizer.join(["我", "爱", "北", "京", "。"]) == "我爱北京。")
        #expect(Detokenizer.join(["tom", "说", "：", "你", "好"]) == "tom 说：你好")
        #expect(Detokenizer.join([]) == "")
        #expect(
            WordTokenizer(.unicode).tokens(Detokenizer.join(["我", "爱", "你"])) == ["我", "爱", "你"])
    }
}
