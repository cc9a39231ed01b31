import FoundationEssentials
import RecurBase
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
/// length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`, then the
/// raw little-endian tensor bytes.
///
/// Python's `safetensors.torch.load_file` reads what this writes.
///
/// Only F32 tensors are supported. Reading validates everything: header length and JSON,
/// dtypes, shapes, that offsets are in bounds, contiguous and match the shapes, and that the file
/// is not truncated.
public enum SafeTensors {
    /// Serializes tensors (sorted by name) and string metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:])
        -> [UInt8]
    {
        let names = tensors.keys.sorted()
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map {
                JSONText.quoted($0) + ":" + JSONText.quoted(metadata[$0] ?? "")
            }
            fields.append("\"__metadata__\":{" + entries.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            let bytes = t.count * 4
            fields.append(
                JSONText.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":["
                    + t.shape.map(String.init).joined(separator: ",")
                    + "],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out += headerBytes
        for name in names {
            guard let t = tensors[name] else { continue }
            t.withUnsafeBufferPointer { p in
                for v in p {
                    var bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                }
            }
        }
        return out
    }

    /// Writes tensors atomically (temporary file, fsync, rename).
    public static func write(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String
    ) throws {
        do {
            try AtomicFile.write(encode(tensors, metadata: metadata), to: path)
        } catch {
            throw CheckpointError.writeFailed(path: path, reason: error.reason)
        }
    }

    /// Reads and validates a safetensors file.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - followLinks: false for files a checkpoint names (a link planted there could point
    ///     anywhere on the system).
    public static func read(_ path: String, followLinks: Bool = true) throws -> (
        tensors: [String: Tensor], metadata: [String: String]
    ) {
        let bytes: [UInt8]
        do {
            bytes = try SafeRead.readAll(path, followLinks: followLinks)
        } catch {
            throw CheckpointError(error)
        }
        return try decode(bytes, path: path)
    }

    /// Tensors of more dimensions than this are refused (PyTorch's limit is 25; recurrent
    /// models use at most 3).
    public static let maximumRank = 8

    /// Parses and validates safetensors bytes; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> (
        tensors: [String: Tensor], metadata: [String: String]
    ) {
        guard bytes.count >= 8 else {
            throw CheckpointError.truncated(path: path, expectedBytes: 8, actualBytes: bytes.count)
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= 100_000_000 else {
            throw CheckpointError.badHeader(
                path: path, reason: "header length \(length) is implausible")
        }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else {
            throw CheckpointError.truncated(
                path: path, expectedBytes: headerEnd, actualBytes: bytes.count)
        }
        let json: JSONNode
        do {
            json = try JSONNode.parse(bytes[8..<headerEnd])
        } catch {
            throw CheckpointError.badHeader(
                path: path, reason: "header is not JSON (\(error.reason))")
        }
        guard case .object(let object) = json else {
            throw CheckpointError.badHeader(path: path, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard case .object(let m) = value else {
                    throw CheckpointError.badHeader(
                        path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard case .string(let s) = v else {
                        throw CheckpointError.badHeader(
                            path: path, reason: "metadata \(k) is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let entry) = value, case .string(let dtype)? = entry["dtype"],
                case .array(let shapeValues)? = entry["shape"],
                case .array(let offsets)? = entry["data_offsets"],
                offsets.count == 2
            else {
                throw CheckpointError.badHeader(path: path, reason: "entry \(name) is malformed")
            }
            guard dtype == "F32" else {
                throw CheckpointError.unsupportedDType(name: name, dtype: dtype)
            }
            let shape = shapeValues.compactMap(\.int)
            guard shape.count == shapeValues.count, shape.count <= maximumRank,
                shape.allSatisfy({ $0 >= 0 }),
                let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, end >= begin
            else {
                throw CheckpointError.badHeader(
                    path: path, reason: "entry \(name) has a bad shape or offsets")
            }
            // Checked arithmetic: a shape whose product overflows is corrupt, not a trap.
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= bytes.count else {
                    throw CheckpointError.badHeader(
                        path: path, reason: "entry \(name): shape \(shape) is larger than the file")
                }
                elements = product
            }
            guard end - begin == elements * 4 else {
                throw CheckpointError.badHeader(
                    path: path, reason: "entry \(name): \(end - begin) bytes for shape \(shape)")
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { $0.begin < $1.begin }
        var expected = 0
        for e in entries {
            guard e.begin == expected else {
                throw CheckpointError.badHeader(
                    path: path, reason: "tensor data of \(e.name) is not contiguous")
            }
            expected = e.end
        }
        let dataSize = bytes.count - headerEnd
        guard expected <= dataSize else {
            throw CheckpointError.truncated(
                path: path, expectedBytes: headerEnd + expected, actualBytes: bytes.count)
        }
        guard expected == dataSize else {
            throw CheckpointError.badHeader(
                path: path, reason: "\(dataSize - expected) trailing bytes")
        }
        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for e in entries {
                var t = Tensor(uninitializedShape: e.shape)
                t.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count {
                        let bits = raw.loadUnaligned(
                            fromByteOffset: headerEnd + e.begin + 4 * i, as: UInt32.self)
                        p[i] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                }
                tensors[e.name] = t
            }
        }
        return (tensors, metadata)
    }
}

/// Any JSON value (for headers whose keys are data): decodable with `JSONDecoder`, or parsed
/// strictly with `parse`, which rejects duplicate keys as Python's safetensors does.
public indirect enum JSONNode: Decodable, Sendable, Equatable {
    case object([String: JSONNode])
    case array([JSONNode])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// Decodes any JSON value.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? container.decode(Double.self) {
            self = .number(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONNode].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONNode].self))
        }
    }

    /// The value as a non-negative or negative integer, if it is an integral number.
    public var int: Int? {
        if case .number(let d) = self { return Int(exactly: d) }
        return nil
    }
}

/// Why strict JSON parsing failed.
public struct JSONParseError: Error, Equatable {
    /// What was wrong.
    public var reason: String
    /// The byte offset where parsing stopped.
    public var offset: Int
}

extension JSONNode {
    /// Nesting deeper than this is refused (a header has depth 3).
    public static let maximumDepth = 64

    /// Parses one JSON value (RFC 8259) from `bytes`, strictly: no trailing data, no duplicate
    /// keys in an object, nesting at most `maximumDepth`, numbers as `Double`.
    ///
    /// Unlike `JSONDecoder` into a dictionary, a repeated key is an error instead of a silent
    /// choice.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSONNode {
        var parser = StrictJSONParser(bytes: Array(bytes))
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else {
            throw parser.fail("data after the JSON value")
        }
        return value
    }
}

/// A recursive-descent JSON parser over UTF-8 bytes (see `JSONNode.parse`).
struct StrictJSONParser {
    let bytes: [UInt8]
    var index = 0

    func fail(_ reason: String) -> JSONParseError {
        JSONParseError(reason: reason + " at byte \(index)", offset: index)
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ literal: String) throws(JSONParseError) {
        let l = Array(literal.utf8)
        guard index + l.count <= bytes.count, Array(bytes[index..<(index + l.count)]) == l else {
            throw fail("expected \(literal)")
        }
        index += l.count
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONNode {
        guard depth < JSONNode.maximumDepth else {
            throw fail("nesting deeper than \(JSONNode.maximumDepth)")
        }
        skipSpace()
        guard index < bytes.count else { throw fail("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            var object: [String: JSONNode] = [:]
            skipSpace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw fail("expected a key")
                }
                let key = try string()
                skipSpace()
                try expect(":")
                let v = try value(depth: depth + 1)
                guard object.updateValue(v, forKey: key) == nil else {
                    throw fail("duplicate key \"\(key)\"")
                }
                skipSpace()
                guard index < bytes.count else { throw fail("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect("}")
                return .object(object)
            }
        case UInt8(ascii: "["):
            index += 1
            var array: [JSONNode] = []
            skipSpace()
            if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                array.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw fail("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect("]")
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default:
            return .number(try number())
        }
    }

    mutating func number() throws(JSONParseError) -> Double {
        let start = index
        func digits() -> Int {
            let s = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - s
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { throw fail("expected a value") }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("bad number") }
        }
        if index < bytes.count
            && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E"))
        {
            index += 1
            if index < bytes.count
                && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"))
            {
                index += 1
            }
            guard digits() > 0 else { throw fail("bad number") }
        }
        guard let d = Double(String(decoding: bytes[start..<index], as: UTF8.self)), d.isFinite
        else { throw fail("bad number") }
        return d
    }

    mutating func string() throws(JSONParseError) -> String {
        index += 1  // the opening quote
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let c = bytes[index]
            index += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw fail("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw fail("unterminated string") }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else {
                            throw fail("unpaired surrogate")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                    out += Array(String(Character(u)).utf8)
                default: throw fail("invalid escape")
                }
            default:
                guard c >= 0x20 else { throw fail("control character in string") }
                out.append(c)
            }
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            index += 1
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw fail("bad hex digit")
            }
            v = v << 4 | digit
        }
        return v
    }
}
