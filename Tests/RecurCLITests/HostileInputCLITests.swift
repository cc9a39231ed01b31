import Foundation
import Testing

/// The cases of the hostile-input audit (issue 12): no data loss, no trap, no silent misread.
@Suite("hostile and unlucky input (CLI)", .serialized)
struct HostileInputCLITests {
    static let small = CharLMCLITests.small

    static func train(_ data: String, _ out: String, _ extra: [String] = []) throws -> RunResult {
        try Recur.run(
            ["charlm", "train", "--data", data, "--out", out, "--steps", "4"] + small + extra)
    }

    @Test(
        "a run directory is never replaced without --force; --force replaces only the run's files")
    func runDirectoryKept() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("kept")
        #expect(try Self.train(data, out).status == 0)
        let model = try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8)
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        try "mine".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        expectCleanFailure(try Self.train(data, out), "--resume")
        #expect(try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8) == model)
        #expect(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8) == metrics)
        let forced = try Self.train(data, out, ["--force", "--seed", "9"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8) != model)
        #expect(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8) == "mine")
    }

    @Test("several copies started by a launcher refuse to train when MPI cannot be loaded")
    func refusesSeveralCopies() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("mpi")
        let arguments = ["charlm", "train", "--data", data, "--out", out, "--steps", "2"]
        for (variables, rank) in [
            (["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0"], 0),
            (["PMI_SIZE": "4", "PMI_RANK": "0"], 0),
            (["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "1"], 1),
        ] {
            let missing = ["RECUR_MPI_LIBRARY": "/nonexistent/libmpi.so.40"]
            let r = try Recur.run(arguments, environment: variables.merging(missing) { a, _ in a })
            if rank == 0 {
                expectCleanFailure(r, "cannot start MPI")
            } else {
                #expect(r.status != 0 && r.stderr.isEmpty && !r.crashed, "\(r.stderr)")
            }
            #expect(!FileManager.default.fileExists(atPath: out), "a refused copy wrote \(out)")
        }
        // Commands other than training never run as several copies (MPI or not).
        let sample = try Recur.run(
            ["charlm", "sample", "--model", out], environment: ["OMPI_COMM_WORLD_SIZE": "2"])
        expectCleanFailure(sample, "only the train commands")
        // A job of one process is just a run.
        let single = try Recur.run(
            arguments + ["--hidden", "16", "--embed", "8", "--quiet"],
            environment: ["OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_RANK": "0"])
        #expect(single.status == 0, "\(single.stderr)")
    }

    @Test("a second training into the same directory fails at once while the first runs")
    func concurrentRuns() throws {
        let data = temporaryFile(Array(sampleText(sentences: 400).utf8))
        let out = temporaryPath("busy")
        let first = Process()
        first.executableURL = Recur.executable
        first.arguments =
            ["charlm", "train", "--data", data, "--out", out, "--steps", "100000"] + Self.small
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer {
            first.interrupt()
            first.waitUntilExit()
        }
        // Wait until the first run holds the directory.
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: out + "/.recur.lock") {
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.3)
        expectCleanFailure(
            try Recur.run([
                "charlm", "train", "--data", data, "--resume", out, "--steps", "100000000000",
                "--quiet",
            ]), "another recur process")
        expectCleanFailure(try Self.train(data, out, ["--force"]), "another recur process")
    }

    @Test("stale temporary files are removed and resuming does not duplicate metrics lines")
    func staleFilesAndMetrics() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("stale")
        #expect(try Self.train(data, out, ["--log-every", "1"]).status == 0)
        // What a kill -9 after the checkpoint leaves: a temporary file and log lines of steps
        // the resumed run trains again.
        FileManager.default.createFile(
            atPath: out + "/model-00000004.safetensors.tmp-4242", contents: Data([1, 2]))
        FileManager.default.createFile(
            atPath: out + "/.checkpoint.json.recur-tmp.abc", contents: Data([1]))
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: out + "/metrics.jsonl"))
        log.seekToEndOfFile()
        log.write(Data("{\"step\":5,\"loss\":1}\n{\"step\":6,\"loss\":1}\n".utf8))
        try log.close()
        let resumed = try Recur.run([
            "charlm", "train", "--data", data, "--resume", out, "--steps", "8", "--quiet",
            "--log-every", "1",
        ])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains { $0.contains(".tmp-") || $0.contains(".recur-tmp.") }, "\(names)")
        let steps = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(
            separator: "\n"
        )
        .filter { $0.contains("\"loss\"") }.compactMap { line -> Int? in
            guard let r = line.range(of: "\"step\":") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        #expect(steps == Array(1...8), "\(steps)")
    }

    @Test("a symbolic link planted in the run directory is never written through")
    func plantedSymlink() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("planted")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let victim = temporaryFile(Array("precious".utf8))
        try FileManager.default.createSymbolicLink(
            atPath: out + "/metrics.jsonl", withDestinationPath: victim)
        let r = try Self.train(data, out, ["--force"])
        #expect(!r.crashed)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
    }

    @Test("outputs never overwrite inputs")
    func outputOntoInput() throws {
        let corpus = temporaryFile(
            Array(String(repeating: "the cat sees the dog . ", count: 50).utf8))
        let before = try Data(contentsOf: URL(fileURLWithPath: corpus))
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", corpus, "--min-count", "1",
                "--quiet",
            ]), "--data input")
        let vectors = temporaryPath("v") + ".txt"
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", vectors, "--save-vocab", corpus,
                "--min-count", "1", "--quiet",
            ]),
            "--data input")
        #expect(try Data(contentsOf: URL(fileURLWithPath: corpus)) == before)
        #expect(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", vectors, "--min-count", "1",
                "--quiet",
            ]).status == 0)
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", vectors, "--min-count", "1",
                "--quiet",
            ]), "--force")
    }

    @Test("FIFOs and devices are refused, never read")
    func specialFiles() throws {
        let fifo = temporaryPath("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        expectCleanFailure(try Self.train(fifo, temporaryPath("fifo-out")), "FIFO")
        expectCleanFailure(
            try Self.train("/dev/zero", temporaryPath("zero-out")), "character device")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", fifo, "--out", temporaryPath("w"), "--quiet",
            ]), "FIFO")
    }

    @Test("CRLF and BOM files read like LF files")
    func windowsFiles() throws {
        let lines = (0..<60).map { "the cat \($0) sees the dog .\tle chat \($0) voit le chien ." }
        let crlf = temporaryFile(
            [0xEF, 0xBB, 0xBF] + Array(lines.joined(separator: "\r\n").utf8) + [0x0D, 0x0A])
        let out = temporaryPath("crlf")
        let r = try Recur.run([
            "translate", "train", "--pairs", crlf, "--out", out, "--epochs", "1", "--hidden", "16",
            "--embed", "16", "--json", "--quiet",
            "--valid-fraction", "0.1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"train_pairs\":54"), "\(r.stdout)")
        let input = temporaryFile(
            Array("the cat sees the dog .\r\n\r\nthe dog .\r\nthe cat .\r\nthe .\r\n".utf8))
        let run = try Recur.run([
            "translate", "run", "--model", out, "--input", input, "--beam", "1",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 6,
            "\(run.stdout)")
    }

    @Test("hostile checkpoints are one clear error: escaping paths, bad fields, wrong state shapes")
    func hostileCheckpoints() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("hostile")
        #expect(try Self.train(data, out).status == 0)
        let json = try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8)
        func edited(_ from: String, _ to: String) throws -> String {
            let copy = temporaryPath("edited")
            try FileManager.default.copyItem(atPath: out, toPath: copy)
            try FileManager.default.removeItem(atPath: copy + "/checkpoint.json")
            try json.replacingOccurrences(of: from, with: to).write(
                toFile: copy + "/checkpoint.json", atomically: true, encoding: .utf8)
            return copy
        }
        let model = try #require(
            json.range(of: "model-[0-9]+\\.safetensors", options: .regularExpression).map {
                String(json[$0])
            })
        for (from, to, phrase) in [
            (model, "../../../../etc/passwd", "modelFile"),
            ("\"hiddenSize\" : 16", "\"hiddenSize\" : 1000000000", "hiddenSize"),
            ("\"hiddenSize\" : 16", "\"hiddenSize\" : -3", "hiddenSize"),
            ("\"dropout\" : 0", "\"dropout\" : 2", "dropout"),
            ("\"batchSize\" : 4", "\"batchSize\" : 0", "batchSize"),
            ("\"position\" : ", "\"position\" : -1000", "position"),
            ("\"validationFraction\" : 0.1", "\"validationFraction\" : 2", "validationFraction"),
            ("\"optimizerStep\" : 4", "\"optimizerStep\" : 9223372036854775807", "optimizerStep"),
            ("\"outputDropout\" : 0", "\"outputDropout\" : 5", "outputDropout"),
            ("\"weightDrop\" : 0", "\"weightDrop\" : -1", "weightDrop"),
            ("\"batchSize\" : 4", "\"patience\" : 0, \"batchSize\" : 4", "patience"),
        ] {
            let dir = try edited(from, to)
            let r = try Recur.run(["charlm", "sample", "--model", dir, "--length", "5"])
            expectCleanFailure(r, phrase)
            #expect(!r.stderr.contains("root:"), "\(r.stderr)")
        }
    }

    @Test("word2vec files whose headers overflow or exceed the file are refused")
    func hostileVectors() throws {
        for header in [
            "288230376151711745 16", "1000000000000 16", "241 1000000000", "-5 3", "3 0",
        ] {
            let file = temporaryFile(
                Array((header + "\n").utf8) + [UInt8](repeating: 0x41, count: 6800))
            expectCleanFailure(
                try Recur.run(["word2vec", "similar", "--vectors", file, "the"]), file)
        }
    }

    @Test("absurd values: tiny temperature is the argmax, -n 0 and huge --min-count are refused")
    func absurdValues() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("absurd")
        #expect(try Self.train(data, out).status == 0)
        let tiny = try Recur.run([
            "charlm", "sample", "--model", out, "--length", "40", "--temperature", "1e-45",
        ])
        let argmax = try Recur.run([
            "charlm", "sample", "--model", out, "--length", "40", "--argmax",
        ])
        #expect(tiny.status == 0 && tiny.stdout == argmax.stdout)
        let vectors = temporaryPath("n0") + ".txt"
        let corpus = temporaryFile(Array(String(repeating: "a b c d e ", count: 40).utf8))
        #expect(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", vectors, "--min-count", "1",
                "--quiet",
            ]).status == 0)
        expectCleanFailure(
            try Recur.run(["word2vec", "similar", "--vectors", vectors, "a", "-n", "0"]),
            "-n must be")
        expectCleanFailure(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", temporaryPath("lr") + ".txt",
                "--min-count", "1", "--lr", "10", "--epochs", "20", "--quiet",
            ]),
            "diverged")
        let pairs = temporaryFile(Array((0..<40).map { "a b \($0)\tc d \($0)\n" }.joined().utf8))
        expectCleanFailure(
            try Recur.run([
                "translate", "train", "--pairs", pairs, "--out", temporaryPath("mc"), "--min-count",
                "1000000000", "--quiet",
            ]),
            "--min-count")
    }

    @Test("crafted manifests never write outside --to, and FIFOs in a manifest are refused")
    func craftedManifest() throws {
        let source = temporaryFile(Array("corpus".utf8))
        let target = temporaryPath("fetch")
        let fifo = temporaryPath("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let traversal = temporaryFile(Array("../../x\tfile://\(source)\t-\t-\tescape\n".utf8))
        expectCleanFailure(
            try Recur.run([
                "corpus", "fetch", "../../x", "--manifest", traversal, "--to", target,
                "--allow-unverified",
            ]), "the name must be")
        let encoded = temporaryFile(
            Array("ok\tfile://\(source)\t-\t-\tfine\nbad\tfile://\(fifo)\t-\t-\tfifo\r\n".utf8))
        let ok = try Recur.run([
            "corpus", "fetch", "ok", "--manifest", encoded, "--to", target, "--allow-unverified",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: target).allSatisfy {
                !$0.contains("/") && !$0.hasPrefix(".")
            })
        expectCleanFailure(
            try Recur.run([
                "corpus", "fetch", "bad", "--manifest", encoded, "--to", target,
                "--allow-unverified",
            ]), "FIFO")
        #expect(
            try Recur.run(["corpus", "list", "--manifest", encoded]).stdout.split(separator: "\n")
                .count == 2)
    }

    @Test("sizes that cannot fit in memory are refused before anything is allocated")
    func impossibleSizes() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("huge")
        expectCleanFailure(
            try Recur.run([
                "charlm", "train", "--data", data, "--out", out, "--embed", "65536", "--hidden",
                "65536", "--quiet",
            ]),
            "of memory")
        #expect(!FileManager.default.fileExists(atPath: out + "/checkpoint.json"))
        let corpus = temporaryFile(Array(String(repeating: "a b c d e ", count: 40).utf8))
        let vectors = temporaryPath("plot") + ".txt"
        #expect(
            try Recur.run([
                "word2vec", "train", "--data", corpus, "--out", vectors, "--min-count", "1",
                "--quiet",
            ]).status == 0)
        expectCleanFailure(
            try Recur.run(["word2vec", "plot", "--vectors", vectors, "a", "b", "--out", vectors]),
            "--vectors input")
        expectCleanFailure(
            try Recur.run(["word2vec", "convert", "--vectors", vectors, "--out", vectors]),
            "--vectors input")
    }

    @Test("--json after --resume reports the run's configuration, not the flags' defaults")
    func resumedSummary() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("summary")
        #expect(try Self.train(data, out, ["--seed", "5"]).status == 0)
        let resumed = try Recur.run([
            "charlm", "train", "--data", data, "--resume", out, "--steps", "6", "--quiet", "--json",
        ])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = resumed.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(
            summary.contains("\"batch\":4") && summary.contains("\"seq\":8")
                && summary.contains("\"seed\":5"), "\(summary)")
    }
}
