import Foundation
import RecurBase
import RecurTensor

/// A minimal JSON value writer for the CLI's one-line summaries (no Foundation needed).
enum JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral
{
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])
    case null

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(floatLiteral value: Double) { self = .double(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }

    /// Compact JSON text.
    var text: String {
        switch self {
        case .string(let s): return JSONText.quoted(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let fields):
            return "{"
                + fields.map { JSONText.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",")
                + "}"
        }
    }

    /// A double rounded to `digits` decimals.
    static func rounded(_ value: Double, _ digits: Int = 4) -> JSONValue {
        guard value.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return .double((value * scale).rounded() / scale)
    }
}

/// `inspect --json`: `{"parameters": N, "config": <the checkpoint's configuration>}` on one line.
func inspectionJSON(parameters: Int, config: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(config)
    return "{\"parameters\":\(parameters),\"config\":" + String(decoding: data, as: UTF8.self) + "}"
}
