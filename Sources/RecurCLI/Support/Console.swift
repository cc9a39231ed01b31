import RecurBase
import RecurTensor
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Unbuffered writes to the standard streams through `write(2)` (the C `stdout`/`stderr` globals
/// are not concurrency-safe in Swift 6, and one path for all output keeps it in order).
enum Output {
    /// Writes all of `bytes` to `descriptor`, retrying on partial writes and EINTR.
    static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let n = Glibc.write(descriptor, base, remaining)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            base += n
            remaining -= n
        }
    }

    static func write(_ bytes: [UInt8], to descriptor: Int32 = STDOUT_FILENO) {
        bytes.withUnsafeBytes { write($0, to: descriptor) }
    }

    /// A line on stdout.
    static func line(_ text: String) {
        write(Array((text + "\n").utf8), to: STDOUT_FILENO)
    }

    /// Text on stderr (no newline added).
    static func error(_ text: String) {
        write(Array(text.utf8), to: STDERR_FILENO)
    }
}

/// Terminal output for long-running commands: an updating progress line on a TTY, plain log
/// lines otherwise.
///
/// Everything goes to stderr; stdout carries results (samples, JSON).
struct Console {
    let isTerminal = isatty(STDERR_FILENO) != 0
    var quiet = false
    private var lastPlainLine = 0.0

    /// Writes a progress line: redrawn in place on a TTY, logged at most every `interval`
    /// seconds otherwise (and always when `force`).
    mutating func progress(_ line: String, force: Bool = false, interval: Double = 10) {
        guard !quiet else { return }
        if isTerminal {
            Output.error("\r\u{1B}[K" + line)
        } else {
            let now = MonotonicClock.seconds()
            if force || now - lastPlainLine >= interval {
                lastPlainLine = now
                Output.error(line + "\n")
            }
        }
    }

    /// Ends an in-place progress line.
    func finishProgress() {
        if isTerminal && !quiet { Output.error("\n") }
    }

    /// A message on its own line.
    func log(_ line: String) {
        guard !quiet else { return }
        Output.error((isTerminal ? "\r\u{1B}[K" : "") + line + "\n")
    }

    /// `1:02:03` or `2:03`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite && seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
        let mm = m < 10 && h > 0 ? "0\(m)" : "\(m)"
        let rr = r < 10 ? "0\(r)" : "\(r)"
        return h > 0 ? "\(h):\(mm):\(rr)" : "\(mm):\(rr)"
    }

    /// A number with `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (value * scale).rounded() / scale
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        } else if digits > 0 {
            s += "." + String(repeating: "0", count: digits)
        }
        return s
    }

    /// `131k` style counts.
    static func compact(_ value: Double) -> String {
        if value >= 1e6 { return fixed(value / 1e6, 2) + "M" }
        if value >= 1e3 { return fixed(value / 1e3, 1) + "k" }
        return fixed(value, 0)
    }
}

/// Progress of a job over a known number of items (sentences, lines): nothing for jobs that
/// finish within `delay` seconds, then "label: done/total, rate/s, ETA" on stderr (redrawn on a
/// TTY, a line every 10 s otherwise).
struct ProgressMeter {
    var console = Console()
    let label: String
    let total: Int
    let delay: Double
    private let started = MonotonicClock.seconds()
    private var shown = false

    init(_ label: String, total: Int, quiet: Bool, delay: Double = 2) {
        self.label = label
        self.total = total
        self.delay = delay
        console.quiet = quiet
    }

    mutating func update(_ done: Int) {
        let elapsed = MonotonicClock.seconds() - started
        guard elapsed >= delay, done < total else { return }
        let rate = Double(done) / max(elapsed, 1e-9)
        shown = true
        console.progress(
            "\(label): \(done)/\(total), \(Console.fixed(rate, 1))/s, ETA \(Console.duration(Double(total - done) / rate))"
        )
    }

    /// Ends the progress line (if one was shown).
    func finish() {
        if shown { console.finishProgress() }
    }
}

/// Ctrl-C handling: the first SIGINT (or SIGTERM, which `mpirun` and service managers send)
/// asks the running job to stop at the next safe point (training saves a checkpoint first); a
/// second one exits at once.
enum Interrupt {
    private static let requested = Atomic<Bool>(false)

    /// Installs the handler, and unblocks SIGINT and SIGTERM (a parent that spawned us from a
    /// thread with signals blocked, such as a Dispatch worker, would otherwise leave them pending
    /// forever).
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { number in
                if Interrupt.requested.exchange(true, ordering: .sequentiallyConsistent) {
                    _exit(128 + number)
                }
            }
        }
    }

    /// Whether Ctrl-C was pressed.
    static var isRequested: Bool { requested.load(ordering: .sequentiallyConsistent) }
}

/// An error reported as one line, with a non-zero exit status.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
