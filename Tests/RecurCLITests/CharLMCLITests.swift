import Foundation
import Testing
import ZIPFoundation

@Suite("recur charlm (CLI)", .serialized)
struct CharLMCLITests {
    static let small = [
        "--embed", "8", "--hidden", "16", "--layers", "1", "--batch", "4", "--seq", "8", "--quiet",
        "--threads", "1",
    ]

    @Test("help and version")
    func help() throws {
        let r = try Recur.run(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("charlm"))
        #expect(
            try Recur.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: ".").count == 3)
        #expect(try Recur.run(["charlm", "train", "--help"]).stdout.contains("--resume"))
    }

    @Test("bad text files: one clear line, non-zero exit")
    func badFiles() throws {
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", "/nonexistent/file.txt"] + Self.small),
            "no such file")
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", NSTemporaryDirectory()] + Self.small),
            "is a directory")
        let empty = temporaryFile([])
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", empty] + Self.small), "empty")
        let binary = temporaryFile([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00])
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", binary] + Self.small), "binary")
        let invalid = temporaryFile(
            Array(sampleText(sentences: 200).utf8) + [0xC3, 0x28] + Array("tail".utf8))
        let r = try Recur.run(["charlm", "train", "--data", invalid] + Self.small)
        expectCleanFailure(
            r, "invalid UTF-8 at byte offset \(sampleText(sentences: 200).utf8.count)")
        let out = temporaryPath("lossy")
        let lossy = try Recur.run(
            ["charlm", "train", "--data", invalid, "--out", out, "--lossy", "--steps", "3"]
                + Self.small)
        #expect(lossy.status == 0, "\(lossy.stderr)")
        let short = temporaryFile(Array("tiny".utf8))
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", short] + Self.small), "needs at least")
    }

    @Test(
        "nonsense hyperparameters are refused",
        arguments: [
            (["--hidden", "0"], "--hidden must be between"),
            (["--lr=-1"], "--lr must be a positive"),
            (["--batch", "0"], "--batch must be between"),
            (["--dropout", "1.5"], "--dropout must be in"),
            (["--val-fraction", "2"], "--val-fraction"),
            (["--steps=-3"], "--steps must be between"),
            (["--epochs", "1e300"], "--epochs must be between"),
            (["--cell", "tcn", "--blocks", "62"], "--blocks must be between"),
            (["--hidden", "9223372036854775807"], "--hidden must be between"),
            (["--threads", "0"], "--threads must be between"),
            (["--lr", "nan"], "--lr must be a positive"),
        ])
    func badFlags(flags: [String], phrase: String) throws {
        let data = temporaryFile(Array(sampleText().utf8))
        expectCleanFailure(
            try Recur.run(["charlm", "train", "--data", data] + Self.small + flags), phrase)
    }

    @Test("unwritable --out is reported before training")
    func unwritable() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let file = temporaryFile([1])
        expectCleanFailure(
            try Recur.run(
                ["charlm", "train", "--data", data, "--out", file + "/sub"] + Self.small),
            "not writable")
    }

    @Test("resume refuses another architecture, vocabulary or a broken checkpoint")
    func resumeMismatch() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("resume")
        let first = try Recur.run(
            ["charlm", "train", "--data", data, "--out", out, "--steps", "5"] + Self.small)
        #expect(first.status == 0, "\(first.stderr)")
        expectCleanFailure(
            try Recur.run([
                "charlm", "train", "--data", data, "--resume", out, "--steps", "10", "--hidden",
                "32", "--quiet",
            ]),
            "architecture differs")
        // Either spelling of a training flag counts (`--batch=3` once slipped past the check).
        for batch in [["--batch", "3"], ["--batch=3"]] {
            expectCleanFailure(
                try Recur.run(
                    [
                        "charlm", "train", "--data", data, "--resume", out, "--steps", "10",
                        "--quiet",
                    ] + batch),
                "cannot change")
        }
        let other = temporaryFile(
            Array("Ünïcödé text with other symbols! 12345\n".utf8) + Array(sampleText().utf8))
        expectCleanFailure(
            try Recur.run([
                "charlm", "train", "--data", other, "--resume", out, "--steps", "10", "--quiet",
            ]), "vocabulary")
        // Truncate the model file: loading reports it.
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        let model = try #require(files.first { $0.hasPrefix("model-") })
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out + "/" + model))
        try handle.truncate(atOffset: 100)
        try handle.close()
        expectCleanFailure(try Recur.run(["charlm", "sample", "--model", out]), "truncated")
        FileManager.default.createFile(
            atPath: out + "/checkpoint.json", contents: Data("{garbage".utf8))
        expectCleanFailure(try Recur.run(["charlm", "sample", "--model", out]), "corrupt")
        expectCleanFailure(
            try Recur.run(["charlm", "eval", "--model", temporaryPath("none"), "--data", data]),
            "no such")
    }

    @Test("a diverging run stops with advice and keeps the last good checkpoint")
    func divergence() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("nan")
        let r = try Recur.run(
            [
                "charlm", "train", "--data", data, "--out", out, "--steps", "50", "--optimizer",
                "sgd", "--lr", "1e30", "--clip", "0",
            ]
                + Self.small)
        expectCleanFailure(r, "lower --lr")
        #expect(r.stderr.contains("diverged"))
    }

    @Test("Ctrl-C saves a checkpoint; resume continues exactly")
    func interruptAndResume() throws {
        let data = temporaryFile(Array(sampleText(sentences: 3000).utf8))
        let out = temporaryPath("sigint")
        // A constant rate: the interrupted run's length is unknown in advance, and a cosine
        // schedule's shape depends on the run's length (`--steps`).
        let flags = [
            "--embed", "8", "--hidden", "16", "--layers", "2", "--dropout", "0.2", "--batch", "4",
            "--seq", "8", "--threads", "1", "--eval-every", "0", "--checkpoint-every", "0",
            "--lr-schedule", "constant",
        ]
        let interrupted = try Recur.run(
            ["charlm", "train", "--data", data, "--out", out, "--steps", "100000000"] + flags,
            interruptAfter: 2)
        #expect(interrupted.status == 130, "\(interrupted.stderr)")
        #expect(interrupted.stderr.contains("interrupted at step"))
        let sidecar = try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8)
        // The top-level "step" of the sidecar (two-space indent).
        let line = sidecar.split(separator: "\n").first { $0.hasPrefix("  \"step\"") }
        let step = try #require(
            Int(
                line?.split(separator: ":").last?.trimmingCharacters(
                    in: CharacterSet(charactersIn: " ,")) ?? ""))
        #expect(step > 0)
        let resumed = try Recur.run([
            "charlm", "train", "--data", data, "--resume", out, "--steps", "\(step + 20)",
            "--quiet", "--threads", "1", "--eval-every", "0",
        ])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let straightOut = temporaryPath("straight")
        let straight = try Recur.run(
            [
                "charlm", "train", "--data", data, "--out", straightOut, "--steps", "\(step + 20)",
                "--quiet",
            ] + flags)
        #expect(straight.status == 0, "\(straight.stderr)")
        let name = "model-" + String(format: "%08d", step + 20) + ".safetensors"
        let a = try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))
        let b = try Data(contentsOf: URL(fileURLWithPath: straightOut + "/" + name))
        #expect(a == b, "resumed weights differ from an uninterrupted run")
    }

    @Test("--regularize sets dropout, weight drop and a cosine schedule unless they are given")
    func regularize() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        func summary(_ extra: [String]) throws -> (line: String, sidecar: String) {
            let out = temporaryPath("regularize")
            let r = try Recur.run(
                ["charlm", "train", "--data", data, "--out", out, "--steps", "4", "--json"]
                    + Self.small + ["--layers", "2"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let sidecar = try String(contentsOfFile: out + "/checkpoint.json", encoding: .utf8)
            return (String(r.stdout.split(separator: "\n").last ?? ""), sidecar)
        }
        let plain = try summary([])
        #expect(
            plain.line.contains("\"dropout\":0.0,") && plain.line.contains("\"weight_drop\":0.0,"))
        #expect(plain.sidecar.contains("\"constant\""))
        let regularized = try summary(["--regularize"])
        #expect(
            regularized.line.contains("\"dropout\":0.25")
                && regularized.line.contains("\"weight_drop\":0.25"), "\(regularized.line)")
        #expect(regularized.sidecar.contains("\"cosine\""))
        let mixed = try summary(["--regularize", "--dropout", "0.1", "--lr-schedule", "step"])
        #expect(
            mixed.line.contains("\"dropout\":0.1,") && mixed.line.contains("\"weight_drop\":0.25"))
        #expect(mixed.sidecar.contains("\"step\""))
    }

    @Test("train, sample, eval and inspect end to end")
    func endToEnd() throws {
        let data = temporaryFile(Array(sampleText().utf8))
        let out = temporaryPath("e2e")
        let train = try Recur.run(
            [
                "charlm", "train", "--data", data, "--out", out, "--steps", "30", "--json",
                "--plot", "--eval-every", "10",
            ] + Self.small)
        #expect(train.status == 0, "\(train.stderr)")
        let summary = try #require(train.stdout.split(separator: "\n").last)
        for field in [
            "\"steps\":30", "\"seconds\":", "\"chars_per_s\":", "\"train_loss\":", "\"val_bpc\":",
        ] {
            #expect(summary.contains(field), "missing \(field) in \(summary)")
        }
        #expect(FileManager.default.fileExists(atPath: out + "/training.svg"))
        #expect(FileManager.default.fileExists(atPath: out + "/best/checkpoint.json"))
        let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        #expect(
            metrics.contains("grad_norm") && metrics.contains("val_bpc")
                && metrics.contains("clipped_fraction"))
        let a = try Recur.run([
            "charlm", "sample", "--model", out, "--length", "100", "--seed", "7", "--prime", "The",
        ])
        let b = try Recur.run([
            "charlm", "sample", "--model", out, "--length", "100", "--seed", "7", "--prime", "The",
        ])
        #expect(a.status == 0 && a.stdout == b.stdout && a.stdout.hasPrefix("The"))
        let eval = try Recur.run([
            "charlm", "eval", "--model", out, "--data",
            temporaryFile(Array("Cat sees §§ the dog.\n".utf8)), "--json",
        ])
        #expect(eval.status == 0)
        #expect(eval.stdout.contains("\"unknown_symbols\":2"))
        let inspect = try Recur.run(["charlm", "inspect", "--model", out])
        #expect(
            inspect.stdout.contains("parameters") && inspect.stdout.contains("vocabulary")
                && inspect.stdout.contains("30 of 30 steps"))
    }
}

@Suite("recur bench (CLI)", .serialized)
struct BenchCLITests {
    @Test("the OpenBLAS kernel is upgraded for the CPU, and a user-set OPENBLAS_CORETYPE wins")
    func kernelChoice() throws {
        // The automatic choice is only made when the environment does not force a core, and some
        // machines set OPENBLAS_CORETYPE for every process: test it with the variable removed.
        let auto = try Recur.run(
            ["bench", "gemm", "--quick"], unsetting: ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"])
        #expect(auto.status == 0, "\(auto.stderr)")
        let summary = try #require(auto.stdout.split(separator: "\n").last.map(String.init))
        #expect(summary.contains("\"kernel\":"))
        #expect(!summary.contains("user-forced"), "\(summary)")
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") {
            #expect(
                summary.contains("\"kernel\":\"SkylakeX\"")
                    || summary.contains("\"kernel\":\"Cooperlake\"")
                    || summary.contains("SapphireRapids"))
        }
        let forced = try Recur.run(
            ["bench", "gemm", "--quick"], environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(forced.stdout.contains("\"kernel\":\"Haswell\""))
        #expect(forced.stdout.contains("\"kernel_reason\":\"user-forced\""))
    }
}

@Suite("recur corpus (CLI)", .serialized)
struct CorpusCLITests {
    @Test("fetch downloads from a file:// URL and verifies the SHA-256; a mismatch saves nothing")
    func fetch() throws {
        let content = Array(sampleText(sentences: 50).utf8)
        let source = temporaryFile(content, "source.txt")
        let digest = sha256Hex(content)
        let manifest = temporaryFile(
            Array(
                """
                # test manifest
                good\tfile://\(source)\t\(digest)\t\(content.count)\ta local corpus
                bad\tfile://\(source)\t\(String(repeating: "0", count: 64))\t-\twrong checksum
                open\tfile://\(source)\t-\t-\tno checksum

                """.utf8))
        let target = temporaryPath("downloads")
        let ok = try Recur.run(["corpus", "fetch", "good", "--manifest", manifest, "--to", target])
        #expect(ok.status == 0, "\(ok.stderr)")
        let saved = ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.contents(atPath: saved) == Data(content))
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "bad", "--manifest", manifest, "--to", target]),
            "SHA-256 mismatch")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: target))?.count == 1)
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "open", "--manifest", manifest, "--to", target]),
            "--allow-unverified")
        #expect(
            try Recur.run([
                "corpus", "fetch", "open", "--manifest", manifest, "--to", target,
                "--allow-unverified",
            ]).status == 0)
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "nothere", "--manifest", manifest]),
            "known: good, bad, open")
        let list = try Recur.run(["corpus", "list", "--manifest", manifest])
        #expect(list.stdout.contains("good") && list.stdout.contains("no checksum recorded"))
    }

    @Test(
        "a zip archive is unpacked: its member verified (size, SHA-256) and saved; mismatches and missing members save nothing"
    )
    func unzip() throws {
        let content = Array(sampleText(sentences: 400).utf8)
        let archive = try Archive(accessMode: .create)
        try archive.addEntry(
            with: "text8", type: .file, uncompressedSize: Int64(content.count),
            compressionMethod: .deflate,
            provider: { position, size in Data(content[Int(position)..<(Int(position) + size)]) })
        let zip = temporaryFile(Array(try #require(archive.data)), "text8.zip")
        let digest = sha256Hex(content)
        let manifest = temporaryFile(
            Array(
                """
                zipped\tfile://\(zip)\t-\t-\ta zipped corpus\tunzip=text8\tunzipped-sha256=\(digest)\tunzipped-bytes=\(content.count)
                wrongsize\tfile://\(zip)\t-\t-\tx\tunzip=text8\tunzipped-sha256=\(digest)\tunzipped-bytes=7
                wronghash\tfile://\(zip)\t-\t-\tx\tunzip=text8\tunzipped-sha256=\(String(repeating: "0", count: 64))
                nomember\tfile://\(zip)\t-\t-\tx\tunzip=enwik8\tunzipped-sha256=\(digest)
                notzip\tfile://\(temporaryFile(Array("plain".utf8)))\t-\t-\tx\tunzip=text8\tunzipped-sha256=\(digest)

                """.utf8))
        let target = temporaryPath("unzipped")
        let ok = try Recur.run([
            "corpus", "fetch", "zipped", "--manifest", manifest, "--to", target,
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == target + "/text8")
        #expect(FileManager.default.contents(atPath: target + "/text8") == Data(content))
        #expect(ok.stderr.contains("verified"), "\(ok.stderr)")
        let other = temporaryPath("unzipped-bad")
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "wrongsize", "--manifest", manifest, "--to", other]),
            "expected 7")
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "wronghash", "--manifest", manifest, "--to", other]),
            "SHA-256 mismatch")
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "nomember", "--manifest", manifest, "--to", other]),
            "no member enwik8")
        expectCleanFailure(
            try Recur.run(["corpus", "fetch", "notzip", "--manifest", manifest, "--to", other]),
            "not a readable zip")
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: other))?.isEmpty ?? true,
            "nothing left behind")
        let unknownOption = temporaryFile(Array("x\tfile:///x\t-\t-\td\tunpack=x\n".utf8))
        expectCleanFailure(
            try Recur.run(["corpus", "list", "--manifest", unknownOption]),
            "unknown option unpack=x")
    }

    @Test("an unreachable host is named with the reason, in one line")
    func offline() throws {
        let manifest = temporaryFile(
            Array("x\thttp://recur-no-such-host.invalid/x.txt\t-\t-\tx\n".utf8))
        let r = try Recur.run([
            "corpus", "fetch", "x", "--manifest", manifest, "--allow-unverified", "--to",
            temporaryPath("offline"),
        ])
        expectCleanFailure(
            r,
            "cannot download http://recur-no-such-host.invalid/x.txt from recur-no-such-host.invalid"
        )
        #expect(!r.stderr.contains("NSCocoaErrorDomain"), "\(r.stderr)")
    }

    @Test("the project's manifest parses and pins tinyshakespeare")
    func projectManifest() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let list = try Recur.run(["corpus", "list", "--manifest", root.path + "/corpora/MANIFEST"])
        #expect(list.status == 0)
        #expect(
            list.stdout.contains("tinyshakespeare") && list.stdout.contains("enwik8")
                && list.stdout.contains("text8"))
    }
}

@Suite("Examples", .serialized)
struct ExampleTests {
    @Test("the CharLM example trains and samples through the library API")
    func charLMExample() throws {
        let text = temporaryFile(Array(sampleText(sentences: 2000).utf8))
        let process = Process()
        process.executableURL = Recur.executable.deletingLastPathComponent().appendingPathComponent(
            "CharLMExample")
        process.arguments = [text, "60"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(output.contains("step 60:") && output.contains("validation bpc"))
    }
}

/// SHA-256 via the recur package's implementation (RecurText is not a test dependency here, so
/// shell out to the system's sha256sum).
func sha256Hex(_ bytes: [UInt8]) -> String {
    let path = temporaryFile(bytes, "hash")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let out = Pipe()
    process.standardOutput = out
    try? process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(String(decoding: data, as: UTF8.self).prefix(64))
}
