import FoundationEssentials
import RecurBase

#if canImport(Glibc)
    import Glibc
#endif

/// An append-only JSON-lines file of training metrics (one object per line), flushed after
/// every record so that a crash loses nothing already logged.
public final class MetricsLog {
    private let file: UnsafeMutablePointer<FILE>
    /// Where the log is written.
    public let path: String

    /// Opens `path` for appending (a resumed run continues the same log).
    ///
    /// - Parameters:
    ///   - truncate: start an empty log (a fresh run).
    ///   - keepingStepsThrough: a resumed run drops the records of steps after its checkpoint
    ///     (a run killed after the checkpoint logged steps it will now train again), so the log
    ///     has each step once.
    ///
    /// The log is opened with `O_NOFOLLOW`: a symbolic link planted in the run directory is
    /// refused, never written through.
    public init(path: String, truncate: Bool = false, keepingStepsThrough lastStep: Int? = nil)
        throws(FileWriteError)
    {
        if !truncate, let lastStep, let bytes = try? SafeRead.readAll(path, followLinks: false) {
            let lines = bytes.split(separator: UInt8(ascii: "\n"))
            let decoder = JSONDecoder()
            let kept = lines.filter { line in
                MetricsLog.step(of: line, decoder: decoder).map { $0 <= Double(lastStep) } ?? true
            }
            if kept.count < lines.count {
                try AtomicFile.write(kept.flatMap { Array($0) + [0x0A] }, to: path)
            }
        }
        let flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let reason =
                errno == ELOOP ? "is a symbolic link (refused)" : String(cString: strerror(errno))
            throw FileWriteError(path: path, reason: reason)
        }
        guard let f = fdopen(fd, truncate ? "w" : "a") else {
            close(fd)
            throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        self.path = path
    }

    /// The `"step"` number of a JSON-lines record, if it has one.
    static func step(of line: ArraySlice<UInt8>, decoder: JSONDecoder) -> Double? {
        guard let object = try? decoder.decode([String: MetricValue].self, from: Data(line)),
            case .number(let step)? = object["step"]
        else { return nil }
        return step
    }

    deinit { fclose(file) }

    /// Appends one record; values may be numbers, strings or booleans.
    public func write(_ fields: [(String, MetricValue)]) {
        let line = "{" + fields.map { "\"\($0.0)\":\($0.1.json)" }.joined(separator: ",") + "}\n"
        fputs(line, file)
        fflush(file)
    }

    /// Reads the numeric field `key` from every record of a JSON-lines file that has it,
    /// together with the record's `x` field (for plots).
    public static func series(path: String, x: String, y: String) -> [(x: Double, y: Double)] {
        guard let bytes = try? SafeRead.readAll(path) else { return [] }
        var result: [(Double, Double)] = []
        let decoder = JSONDecoder()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard
                let object = try? decoder.decode(
                    [String: MetricValue].self, from: Data(Array(line))),
                case .number(let xv)? = object[x], case .number(let yv)? = object[y]
            else { continue }
            result.append((xv, yv))
        }
        return result
    }
}

/// A value in a metrics record.
public enum MetricValue: Codable, Sendable, Equatable, ExpressibleByFloatLiteral,
    ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    case number(Double)
    case string(String)
    case bool(Bool)

    /// A number from a literal.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A number from an integer literal.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A string from a literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A boolean from a literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Decodes a JSON number, string or boolean.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else {
            self = .string((try? c.decode(String.self)) ?? "")
        }
    }

    /// Encodes the value as its JSON type.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        }
    }

    /// JSON text of the value (non-finite numbers become null).
    public var json: String {
        switch self {
        case .number(let d):
            guard d.isFinite else { return "null" }
            if d == d.rounded() && abs(d) < 1e15 { return String(Int(d)) }
            return String(d)
        case .string(let s): return JSONText.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

extension MetricsLog {
    /// Creates a training run's directory and opens its `metrics.jsonl` for a run at `step`: a
    /// new log at step 0; when resuming, the lines after `step` are dropped (see `init`).
    public static func openRun(directory: String, step: Int) throws(FileWriteError) -> MetricsLog {
        try AtomicFile.createDirectory(directory)
        return try MetricsLog(
            path: directory + "/metrics.jsonl", truncate: step == 0, keepingStepsThrough: step)
    }
}
