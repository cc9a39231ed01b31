import Foundation
import Testing

@Suite("recur translate (CLI)", .serialized)
struct TranslateCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let small = ["--hidden", "32", "--embed", "16", "--quiet", "--threads", "2"]

    /// The first `count` pairs of the generated corpus.
    static func pairs(_ count: Int) throws -> String {
        let text = try String(contentsOfFile: root + "/corpora/translation.tsv", encoding: .utf8)
        return temporaryFile(
            Array(text.split(separator: "\n").prefix(count).map { $0 + "\n" }.joined().utf8),
            "pairs.tsv")
    }

    /// A small trained model (shared by the tests that only read one).
    static let trained: Result<String, any Error> = Result {
        let out = temporaryPath("model")
        let r = try Recur.run(
            ["translate", "train", "--pairs", try pairs(400), "--out", out, "--epochs", "2"] + small
        )
        guard r.status == 0 else {
            throw CocoaError(.featureUnsupported, userInfo: [NSDebugDescriptionErrorKey: r.stderr])
        }
        return out
    }

    @Test("train, run from stdin and a file, n-best, attention heatmaps, eval and inspect")
    func endToEnd() throws {
        let out = temporaryPath("e2e")
        let data = try Self.pairs(400)
        let r = try Recur.run(
            [
                "translate", "train", "--pairs", data, "--out", out, "--epochs", "2",
                "--test-fraction", "0.1", "--json", "--plot",
            ] + Self.small)
        #expect(r.status == 0, "\(r.stderr)")
        let summary = try #require(r.stdout.split(separator: "\n").last)
        for key in [
            "\"pairs_per_s\":", "\"seconds\":", "\"val_bleu\":", "\"best_val_bleu\":",
            "\"test_bleu\":",
        ] { #expect(summary.contains(key), "\(summary)") }
        for file in [
            "checkpoint.json", "best/checkpoint.json", "metrics.jsonl", "valid.tsv", "test.tsv",
            "training.svg", "bleu.svg",
        ] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let input = "The small cat sees the white car.\nThe xylophone sees a zebra.\n"
        let run = try Recur.run(["translate", "run", "--model", out, "--beam", "3"], input: input)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 3,
            "one line per input: \(run.stdout)")
        #expect(run.stderr.contains("note: used \(out)/average"), "\(run.stderr)")
        let best = try Recur.run(
            ["translate", "run", "--model", out, "--weights", "best"], input: input)
        #expect(
            best.status == 0 && best.stderr.contains("note: used \(out)/best"), "\(best.stderr)")
        #expect(
            run.stderr.contains("unknown words translated as <unk>: xylophone, zebra"),
            "\(run.stderr)")
        let last = try Recur.run([
            "translate", "run", "--model", out, "--last", "--input",
            temporaryFile(Array(input.utf8)),
        ])
        #expect(last.status == 0 && !last.stderr.contains("note: used"))
        let nBest = try Recur.run(
            ["translate", "run", "--model", out, "--beam", "4", "--n-best", "3"],
            input: "The cat sees a dog.\n")
        let lines = nBest.stdout.split(separator: "\n")
        #expect(
            lines.count == 3
                && lines.allSatisfy {
                    $0.hasPrefix("0 ||| ") && $0.split(separator: "|").count >= 3
                }, "\(nBest.stdout)")
        let heatmaps = temporaryPath("attention")
        let shown = try Recur.run(
            ["translate", "run", "--model", out, "--show-attention", heatmaps], input: input)
        #expect(shown.status == 0)
        let svgs = try FileManager.default.contentsOfDirectory(atPath: heatmaps).filter {
            $0.hasSuffix(".svg")
        }
        #expect(svgs.count == 2)
        let eval = try Recur.run([
            "translate", "eval", "--model", out, "--pairs", out + "/test.tsv", "--json",
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        for key in [
            "\"bleu_greedy\":", "\"bleu_beam\":", "\"chrf_greedy\":", "\"chrf_beam\":",
            "\"bleu_signature\":\"nrefs:1",
        ] {
            #expect(eval.stdout.contains(key), "\(eval.stdout)")
        }
        let text = try Recur.run([
            "translate", "eval", "--model", out, "--pairs", out + "/test.tsv",
        ])
        #expect(
            text.stdout.contains("pairs from \(out)/test.tsv")
                && text.stdout.contains("BLEU signature: "), "\(text.stdout)")
        let inspect = try Recur.run(["translate", "inspect", "--model", out])
        #expect(
            inspect.stdout.contains("GRU") && inspect.stdout.contains("2 of 2 epochs"),
            "\(inspect.stdout)")
    }

    @Test(
        "bad corpora: missing tab with its line number, empty side, empty file, invalid UTF-8, missing file"
    )
    func badCorpora() throws {
        let out = temporaryPath("bad")
        func train(_ bytes: [UInt8], _ extra: [String] = []) throws -> RunResult {
            try Recur.run(
                [
                    "translate", "train", "--pairs", temporaryFile(bytes, "pairs.tsv"), "--out",
                    out, "--epochs", "1",
                ] + Self.small + extra)
        }
        expectCleanFailure(
            try train(Array("a\tb\nc d\ne\tf\n".utf8)),
            ":2: no tab between source and target; use --skip-bad-lines")
        expectCleanFailure(try train(Array("a\tb\n\tf\n".utf8)), ":2: the source side is empty")
        expectCleanFailure(try train([]), "the file is empty")
        expectCleanFailure(
            try train(Array("a\tb\n".utf8) + [0xC3, 0x28, 0x09, 0x62]),
            "invalid UTF-8 at byte offset 4")
        expectCleanFailure(
            try Recur.run(["translate", "train", "--pairs", "/nonexistent.tsv", "--out", out]),
            "no such file")
        expectCleanFailure(
            try train(Array("a b c d\te f g h\n".utf8), ["--max-length", "2"]),
            "longer than --max-length 2")
        // --skip-bad-lines trains on the good lines.
        let good = try Self.pairs(60)
        let mixed = try String(contentsOfFile: good, encoding: .utf8) + "no tab\n\tempty source\n"
        let skipped = try train(Array(mixed.utf8), ["--skip-bad-lines"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        for (flag, phrase) in [
            ("--hidden=0", "--hidden must be positive"),
            ("--lr=-1", "--lr must be a positive number"),
            ("--dropout=1.5", "--dropout must be in [0, 1)"),
            ("--teacher-forcing=2", "--teacher-forcing must be in [0, 1]"),
            ("--valid-fraction=0.9", "sum below 1"),
        ] {
            expectCleanFailure(
                try Recur.run([
                    "translate", "train", "--pairs", good, "--out", out, flag, "--test-fraction",
                    "0.2",
                ]), phrase)
        }
    }

    @Test("translation input: too long, unwritable heatmap directory, bad decoding flags")
    func badTranslationInput() throws {
        let model = try Self.trained.get()
        let long = Array(repeating: "cat", count: 300).joined(separator: " ")
        expectCleanFailure(
            try Recur.run(["translate", "run", "--model", model], input: "the cat .\n\(long)\n"),
            "input line 2 has 300 tokens; the model accepts at most 200")
        let cut = try Recur.run(
            ["translate", "run", "--model", model, "--truncate"], input: "the cat .\n\(long)\n")
        #expect(
            cut.status == 0
                && cut.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 3)
        expectCleanFailure(
            try Recur.run(["translate", "run", "--model", model, "--beam", "0"], input: "a\n"),
            "--beam")
        expectCleanFailure(
            try Recur.run(
                ["translate", "run", "--model", model, "--beam", "2", "--n-best", "3"], input: "a\n"
            ), "--n-best must be between 1 and --beam")
        let file = temporaryFile([1])
        expectCleanFailure(
            try Recur.run(
                ["translate", "run", "--model", model, "--show-attention", file + "/x"],
                input: "a\n"), "--show-attention")
        expectCleanFailure(
            try Recur.run([
                "translate", "run", "--model", model, "--input", temporaryFile([0x61, 0xFF]),
            ]), "invalid UTF-8")
    }

    @Test(
        "checkpoints: missing, truncated, another kind, another vocabulary or architecture on --resume"
    )
    func badCheckpoints() throws {
        let model = try Self.trained.get()
        expectCleanFailure(
            try Recur.run(["translate", "run", "--model", "/nonexistent-model"], input: "a\n"),
            "/nonexistent-model")
        // Truncated weights.
        let broken = temporaryPath("broken")
        try FileManager.default.copyItem(atPath: model, toPath: broken)
        try FileManager.default.removeItem(atPath: broken + "/best")
        try FileManager.default.removeItem(atPath: broken + "/average")
        let weights = try FileManager.default.contentsOfDirectory(atPath: broken).first {
            $0.hasPrefix("model-")
        }!
        let bytes = try Data(contentsOf: URL(fileURLWithPath: broken + "/" + weights))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: broken + "/" + weights))
        let truncated = try Recur.run(["translate", "run", "--model", broken], input: "a\n")
        #expect(
            truncated.status != 0 && !truncated.crashed && truncated.errorLines.count == 1,
            "\(truncated.stderr)")
        // Another kind of checkpoint.
        let other = temporaryPath("kind")
        try FileManager.default.copyItem(atPath: model, toPath: other)
        try FileManager.default.removeItem(atPath: other + "/best")
        try FileManager.default.removeItem(atPath: other + "/average")
        let sidecar = other + "/checkpoint.json"
        let json = try String(contentsOfFile: sidecar, encoding: .utf8).replacingOccurrences(
            of: "\"recur translate\"", with: "\"recur charlm\"")
        try json.write(toFile: sidecar, atomically: true, encoding: .utf8)
        expectCleanFailure(
            try Recur.run(["translate", "run", "--model", other], input: "a\n"),
            "this is a recur charlm checkpoint, not a translation model")
        // --resume with another file or architecture.
        let resumed = temporaryPath("resume")
        try FileManager.default.copyItem(atPath: model, toPath: resumed)
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", try Self.pairs(300), "--resume", resumed,
                "--epochs", "3", "--quiet",
            ]), "resume with the same file")
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", try Self.pairs(400), "--resume", resumed,
                "--epochs", "3", "--hidden", "64", "--quiet",
            ]),
            "architecture differs")
        // Parsed options: either spelling and an alias count, a flag's inversion too; a value
        // equal to the saved one is no conflict.
        for (flags, phrase) in [
            (["--lr=0.5"], "cannot change"), (["--tokenize", "whitespace"], "cannot change"),
            (["--no-bidirectional"], "architecture differs"),
        ] {
            expectCleanFailure(
                try Recur.run(
                    [
                        "translate", "train", "--pairs", try Self.pairs(400), "--resume", resumed,
                        "--epochs", "3", "--quiet",
                    ] + flags), phrase)
        }
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", try Self.pairs(400), "--resume", resumed,
                "--epochs", "2", "--seed", "1", "--bidirectional", "--quiet",
            ]), "pass a larger --epochs")
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", try Self.pairs(400), "--resume", resumed,
                "--epochs", "2", "--quiet",
            ]), "pass a larger --epochs")
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", try Self.pairs(400), "--resume", resumed + "/best",
                "--epochs", "3", "--quiet",
            ]),
            "no training state")
    }

    @Test("Ctrl-C saves a checkpoint; --resume finishes the run")
    func interruptAndResume() throws {
        let out = temporaryPath("interrupt")
        let data = try Self.pairs(3000)
        let flags = ["--hidden", "64", "--embed", "32", "--threads", "2"]
        let interrupted = try Recur.run(
            ["translate", "train", "--pairs", data, "--out", out, "--epochs", "50", "--json"]
                + flags, interruptAfter: 3)
        #expect(interrupted.status == 130, "\(interrupted.stderr)")
        #expect(
            interrupted.stderr.contains("continue with --resume \(out)"), "\(interrupted.stderr)")
        #expect(interrupted.stdout.contains("\"interrupted\":true"))
        let resumed = try Recur.run(
            ["translate", "train", "--pairs", data, "--resume", out, "--epochs", "1", "--quiet"]
                + flags)
        // The interrupted run may have finished its first epoch already; either way the resumed
        // run continues from the checkpoint instead of starting again.
        #expect(
            resumed.status == 0 || resumed.stderr.contains("pass a larger --epochs"),
            "\(resumed.stderr)")
        let inspect = try Recur.run(["translate", "inspect", "--model", out])
        #expect(
            inspect.stdout.contains("of 1 epochs") || inspect.stdout.contains("of 50 epochs"),
            "\(inspect.stdout)")
    }

    @Test("the ToyTranslation example trains, translates and scores")
    func example() throws {
        let process = Process()
        process.executableURL = Recur.executable.deletingLastPathComponent().appendingPathComponent(
            "ToyTranslationExample")
        process.arguments = [try Self.pairs(2000), "2", temporaryPath("example")]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(
            decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("epoch 2: validation loss"), "\(output)")
        #expect(output.contains("The small cat sees the white car. → "), "\(output)")
        #expect(output.contains("BLEU = ") && output.contains("chrF2 = "), "\(output)")
    }
}

@Suite("recur translate score and readable output (CLI)", .serialized)
struct TranslateOutputCLITests {
    @Test(
        "score equals sacreBLEU on files with an empty line and CRLF references; -lc; mismatched files refused"
    )
    func score() throws {
        // Expected values printed by sacreBLEU 2.6.0 on these two files:
        // `sacrebleu r.txt -i h.txt -m bleu chrf -w 4` → 52.633, 71.1485; with `-lc` → 54.612.
        let hyps = temporaryFile(
            Array("the cat sat on the mat.\n\nI don't know, he said.\nOù est la gare ?\n".utf8),
            "h.txt")
        let refs = temporaryFile(
            Array(
                "The cat is on the mat.\r\nA line.\r\nI do not know, he said.\r\nOù est la gare?\r\n"
                    .utf8), "r.txt")
        let r = try Recur.run(["translate", "score", "--hyps", hyps, "--refs", refs, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("\"bleu\":52.633") && r.stdout.contains("\"chrf\":71.1485"),
            "\(r.stdout)")
        #expect(r.stdout.contains("tok:13a") && r.stdout.contains("case:mixed"))
        let lc = try Recur.run([
            "translate", "score", "--hyps", hyps, "--refs", refs, "--lowercase", "--json",
        ])
        #expect(
            lc.stdout.contains("\"bleu\":54.612") && lc.stdout.contains("case:lc"), "\(lc.stdout)")
        let stdin = try Recur.run(
            ["translate", "score", "--hyps", "-", "--refs", refs], input: "x\ny\n")
        #expect(
            stdin.status == 1 && stdin.stderr.contains("has 2 lines but")
                && stdin.stderr.split(separator: "\n").count == 1, "\(stdin.stderr)")
        let text = try Recur.run(["translate", "score", "--hyps", hyps, "--refs", refs])
        #expect(
            text.stdout.hasPrefix("BLEU = 52.63 ") && text.stdout.contains("chrF2 = 71.15"),
            "\(text.stdout)")
    }

    @Test("inspect --json and corpus list --json print parseable JSON lines")
    func inspectJSON() throws {
        let out = try TranslateCLITests.trained.get()
        let r = try Recur.run(["translate", "inspect", "--model", out, "--json"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
            "\(r.stdout)")
        #expect((object["parameters"] as? Int ?? 0) > 0)
        let config = try #require(object["config"] as? [String: Any])
        #expect(config["targetStyle"] != nil && config["architecture"] != nil)
        let list = try Recur.run([
            "corpus", "list", "--manifest", TranslateCLITests.root + "/corpora/MANIFEST", "--json",
        ])
        let lines = list.stdout.split(separator: "\n")
        #expect(
            lines.count == 3
                && lines.allSatisfy {
                    (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil
                }, "\(list.stdout)")
        #expect(list.stdout.contains("\"unzip\":\"text8\""))
    }

    @Test(
        "run prints text with case and punctuation restored; --tokenized the model's tokens; eval scores the text"
    )
    func readable() throws {
        let out = try TranslateCLITests.trained.get()
        let input = "The small cat sees the white car.\n\nHe carries these new newspapers.\n"
        let text = try Recur.run(["translate", "run", "--model", out], input: input)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 3 && lines[1].isEmpty, "\(text.stdout)")
        let tokens = try Recur.run(
            ["translate", "run", "--model", out, "--tokenized"], input: input)
        let tokenLines = tokens.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
        #expect(tokenLines.count == 3 && tokenLines[1].isEmpty, "\(tokens.stdout)")
        for (line, tokenLine) in zip([lines[0], lines[2]], [tokenLines[0], tokenLines[2]]) {
            // Text and tokens differ only in case and spacing; the text starts with a capital
            // and has no space before a full stop.
            #expect(
                line.lowercased().filter { $0 != " " } == tokenLine.filter { $0 != " " },
                "\(line) / \(tokenLine)")
            #expect(tokenLine == tokenLine.lowercased())
            #expect(line.first(where: \.isLetter)?.isUppercase ?? true, "\(line)")
            #expect(!line.contains(" ."), "\(line)")
        }
        let eval = try Recur.run([
            "translate", "eval", "--model", out, "--pairs", TranslateCLITests.pairs(60), "--json",
        ])
        #expect(
            eval.stdout.contains("tok:13a") && eval.stdout.contains("\"tokenized\":false"),
            "\(eval.stdout)")
        let raw = try Recur.run([
            "translate", "eval", "--model", out, "--pairs", TranslateCLITests.pairs(60), "--json",
            "--tokenized",
        ])
        #expect(
            raw.stdout.contains("tok:none") && raw.stdout.contains("\"tokenized\":true"),
            "\(raw.stdout)")
    }
}
