import Foundation
import Testing

@Suite("recur word2vec (CLI)", .serialized)
struct Word2VecCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let corpus = root + "/corpora/relations.txt"
    static let questions = root + "/corpora/relations-analogies.txt"

    @Test("train, export every format, query, evaluate and plot")
    func endToEnd() throws {
        let vectors = temporaryPath("vectors") + ".txt"
        let vocab = temporaryPath("vocab")
        let r = try Recur.run([
            "word2vec", "train", "--data", Self.corpus, "--out", vectors, "--min-count", "1",
            "--json", "--quiet", "--save-vocab", vocab,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(r.stdout.split(separator: "\n").last)
        #expect(
            summary.contains("\"words_per_s\":") && summary.contains("\"seconds\":")
                && summary.contains("\"vocab\":241"))
        #expect(
            try String(contentsOfFile: vocab, encoding: .utf8).split(separator: "\n").count == 241)
        let analogy = try Recur.run([
            "word2vec", "analogy", "--vectors", vectors, "man", "king", "woman", "-n", "1",
        ])
        #expect(analogy.stdout.hasPrefix("queen\t"), "\(analogy.stdout)")
        let analogyJSON = try Recur.run([
            "word2vec", "analogy", "--vectors", vectors, "man", "king", "woman", "-n", "2",
            "--json",
        ])
        #expect(
            analogyJSON.stdout.hasPrefix(
                "{\"query\":[\"man\",\"king\",\"woman\"],\"method\":\"3cosadd\",\"answers\":[[\"queen\","
            ), "\(analogyJSON.stdout)")
        let similarJSON = try Recur.run([
            "word2vec", "similar", "--vectors", vectors, "king", "queen", "-n", "3", "--json",
        ])
        let objects = similarJSON.stdout.split(separator: "\n").map {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(
            objects.count == 2
                && objects.allSatisfy { ($0?["neighbours"] as? [[Any]])?.count == 3 },
            "\(similarJSON.stdout)")
        let mul = try Recur.run([
            "word2vec", "analogy", "--vectors", vectors, "france", "paris", "italy", "--method",
            "3cosmul", "-n", "1",
        ])
        #expect(mul.stdout.hasPrefix("rome\t"))
        let similar = try Recur.run([
            "word2vec", "similar", "--vectors", vectors, "king", "paris", "-n", "3",
        ])
        #expect(
            similar.status == 0 && similar.stdout.contains("king:")
                && similar.stdout.contains("paris:"))
        let eval = try Recur.run([
            "word2vec", "eval", "--vectors", vectors, "--analogies", Self.questions, "--json",
        ])
        // Percent, as BLEU: 90 % or better.
        #expect(
            eval.stdout.contains("\"accuracy\":100") || eval.stdout.contains("\"accuracy\":9"),
            "\(eval.stdout)")
        #expect(
            eval.stdout.contains("\"semantic\":") && eval.stdout.contains("\"skipped_percent\":0"))
        let pairs = temporaryFile(
            Array("king\tqueen\t8\nking\triver\t1\nparis\trome\t7\nking\tnowhere\t5\n".utf8))
        let pairEval = try Recur.run([
            "word2vec", "eval", "--vectors", vectors, "--pairs", pairs, "--json",
        ])
        #expect(pairEval.stdout.contains("\"oov_percent\":25"), "\(pairEval.stdout)")
        for format in ["binary", "tsv", "npy"] {
            let out = temporaryPath(format)
            let c = try Recur.run([
                "word2vec", "convert", "--vectors", vectors, "--out", out, "--format", format,
            ])
            #expect(c.status == 0, "\(c.stderr)")
        }
        let binary = temporaryPath("bin")
        _ = try Recur.run([
            "word2vec", "convert", "--vectors", vectors, "--out", binary, "--format", "binary",
        ])
        let back = try Recur.run([
            "word2vec", "analogy", "--vectors", binary, "man", "king", "woman", "-n", "1",
        ])
        #expect(back.stdout == analogy.stdout)
        let svg = temporaryPath("plot") + ".svg"
        let plot = try Recur.run([
            "word2vec", "plot", "--vectors", vectors, "king", "queen", "man", "woman", "--out", svg,
        ])
        #expect(plot.status == 0)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("<svg"))
    }

    @Test("bad input: one clear line, non-zero exit, nothing half-written")
    func badInput() throws {
        let out = temporaryPath("out") + ".txt"
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", temporaryFile([]), "--out", out, "--quiet",
            ]), "no words")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", temporaryFile([0x61, 0x20, 0x00, 0x01]), "--out",
                out, "--quiet",
            ]), "binary")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", temporaryFile(Array("one two three".utf8)), "--out",
                out, "--quiet",
            ]), "lower --min-count")
        #expect(!FileManager.default.fileExists(atPath: out))
        for (flag, phrase) in [
            ("--dim=0", "--dim must be between"), ("--window=-1", "--window must be between"),
            ("--negative=0", "--negative must be positive"),
        ] {
            expectCleanFailure(
                try Recur.run(["word2vec", "train", "--data", Self.corpus, "--out", out, flag]),
                phrase)
        }
        let file = temporaryFile([1])
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", Self.corpus, "--out", file + "/x.txt", "--min-count",
                "1", "--quiet",
            ]), "not writable")
        let vectors = temporaryFile(Array("2 3\nking 1 2 3\nqueen 3 2 1\n".utf8))
        expectCleanFailure(
            try Recur.run(["word2vec", "similar", "--vectors", vectors, "king", "emperor", "duke"]),
            "not in the vocabulary: emperor, duke")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "similar", "--vectors", temporaryFile(Array("3 3\nking 1 2 3\n".utf8)),
                "king",
            ]), "promises 3 vectors")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "similar", "--vectors",
                temporaryFile(Array("1 3\nking 1 nan 3\n".utf8)), "king",
            ]), "not a finite number")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "similar", "--vectors",
                temporaryFile(Array("2 4\nab ".utf8) + [0, 0, 0, 0]), "--binary", "ab",
            ]), "truncated")
    }

    @Test("the WordEmbeddings example trains, answers king − man + woman and exports")
    func example() throws {
        let process = Process()
        process.executableURL = Recur.executable.deletingLastPathComponent().appendingPathComponent(
            "WordEmbeddingsExample")
        let out = temporaryPath("example") + ".txt"
        process.arguments = [Self.corpus, out]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(
            decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("king - man + woman ≈ queen"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: out))
    }
}
