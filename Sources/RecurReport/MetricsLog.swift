import FoundationEssentials
import RecurTensor

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
    public init(path: String, truncate: Bool = false) throws(FileWriteError) {
        guard let f = fopen(path, truncate ? "w" : "a") else {
            throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        self.path = path
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
        guard let bytes = try? Data(contentsOf: URL(filePath: path)) else { return [] }
        var result: [(Double, Double)] = []
        let decoder = JSONDecoder()
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? decoder.decode([String: MetricValue].self, from: Data(line)),
                case .number(let xv)? = object[x], case .number(let yv)? = object[y]
            else { continue }
            result.append((xv, yv))
        }
        return result
    }
}

/// A value in a metrics record.
public enum MetricValue: Codable, Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    case number(Double)
    case string(String)
    case bool(Bool)

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

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
