import Foundation
import Testing

/// The result of running the `recur` binary.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String

    /// stderr's non-empty lines.
    var errorLines: [String] {
        stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Whether the process trapped or printed a Swift backtrace.
    var crashed: Bool {
        stderr.contains("Fatal error") || stderr.contains("Backtrace")
            || stderr.contains("Swift runtime failure")
            || status > 128 && status != 130
    }
}

/// Locates and runs the `recur` executable built next to the test bundle.
enum Recur {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("recur")
    }

    /// Runs `recur` with `arguments`; `environment` adds or replaces variables, `unsetting`
    /// removes variables the test's own environment may carry (for example
    /// `OPENBLAS_CORETYPE`, which some machines set); `interruptAfter` sends SIGINT after that
    /// many seconds.
    @discardableResult
    static func run(
        _ arguments: [String], environment: [String: String] = [:], unsetting: [String] = [],
        interruptAfter: Double? = nil, input: String? = nil
    ) throws -> RunResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for name in unsetting { env[name] = nil }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let input {
            let stdin = Pipe()
            process.standardInput = stdin
            try process.run()
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        } else {
            try process.run()
        }
        if let interruptAfter {
            Thread.sleep(forTimeInterval: interruptAfter)
            kill(process.processIdentifier, SIGINT)
        }
        // A watchdog: a hung child fails the test instead of hanging CI.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
        defer { watchdog.cancel() }
        // Read both pipes fully before waiting (large outputs would block the child).
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A fresh temporary directory path (not created).
func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "recur-cli-\(name)-\(UUID().uuidString)"
}

/// Writes `bytes` to a new temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], _ name: String = "data.txt") -> String {
    let path = temporaryPath(name)
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

/// A learnable text of about `sentences` lines.
func sampleText(sentences: Int = 600) -> String {
    let words = ["the cat", "a dog", "my friend", "two birds", "the king"]
    let verbs = ["sees", "likes", "finds", "follows"]
    var lines: [String] = []
    for i in 0..<sentences {
        lines.append("\(words[i % 5].capitalized) \(verbs[(i / 5) % 4]) \(words[(i * 7) % 5]).")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// Expects a clean failure: non-zero status, no trap, one error line containing `phrase`.
func expectCleanFailure(
    _ r: RunResult, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        r.status != 0, "expected failure, got status 0; stderr: \(r.stderr)",
        sourceLocation: sourceLocation)
    #expect(!r.crashed, "crashed: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(
        r.errorLines.count == 1, "expected one error line, got: \(r.stderr)",
        sourceLocation: sourceLocation)
    #expect(
        r.stderr.contains(phrase), "missing \"\(phrase)\" in: \(r.stderr)",
        sourceLocation: sourceLocation)
}
