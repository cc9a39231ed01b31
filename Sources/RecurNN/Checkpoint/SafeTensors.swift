import FoundationEssentials
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian header
/// length, a JSON header `{name: {dtype, shape, data_offsets}, "__metadata__": {…}}`, then the
/// raw little-endian tensor bytes. Python's `safetensors.torch.load_file` reads what this writes.
///
/// Only F32 tensors are supported. Reading validates everything: header length and JSON,
/// dtypes, shapes, that offsets are in bounds, contiguous and match the shapes, and that the file
/// is not truncated.
public enum SafeTensors {
    /// Serializes tensors (sorted by name) and string metadata.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> [UInt8] {
        let names = tensors.keys.sorted()
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { JSONText.quoted($0) + ":" + JSONText.quoted(metadata[$0] ?? "") }
            fields.append("\"__metadata__\":{" + entries.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            guard let t = tensors[name] else { continue }
            let bytes = t.count * 4
            fields.append(
                JSONText.quoted(name) + ":{\"dtype\":\"F32\",\"shape\":[" + t.shape.map(String.init).joined(separator: ",")
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
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String) throws {
        do {
            try AtomicFile.write(encode(tensors, metadata: metadata), to: path)
        } catch {
            throw CheckpointError.writeFailed(path: path, reason: error.reason)
        }
    }

    /// Reads and validates a safetensors file.
    public static func read(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CheckpointError.fileNotFound(path: path) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw CheckpointError.unreadable(path: path, reason: "is a directory")
        }
        guard let file = fopen(path, "rb") else {
            throw CheckpointError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let n = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard n == bytes.count else { throw CheckpointError.unreadable(path: path, reason: "short read") }
        return try decode(bytes, path: path)
    }

    /// Parses and validates safetensors bytes; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard bytes.count >= 8 else { throw CheckpointError.truncated(path: path, expectedBytes: 8, actualBytes: bytes.count) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= 100_000_000 else { throw CheckpointError.badHeader(path: path, reason: "header length \(length) is implausible") }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else {
            throw CheckpointError.truncated(path: path, expectedBytes: headerEnd, actualBytes: bytes.count)
        }
        let json: JSONNode
        do {
            json = try JSONDecoder().decode(JSONNode.self, from: Data(bytes[8..<headerEnd]))
        } catch {
            throw CheckpointError.badHeader(path: path, reason: "header is not JSON")
        }
        guard case .object(let object) = json else {
            throw CheckpointError.badHeader(path: path, reason: "header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard case .object(let m) = value else {
                    throw CheckpointError.badHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in m {
                    guard case .string(let s) = v else {
                        throw CheckpointError.badHeader(path: path, reason: "metadata \(k) is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let entry) = value, case .string(let dtype)? = entry["dtype"],
                case .array(let shapeValues)? = entry["shape"], case .array(let offsets)? = entry["data_offsets"],
                offsets.count == 2
            else { throw CheckpointError.badHeader(path: path, reason: "entry \(name) is malformed") }
            guard dtype == "F32" else { throw CheckpointError.unsupportedDType(name: name, dtype: dtype) }
            let shape = shapeValues.compactMap(\.int)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }),
                let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, end >= begin
            else { throw CheckpointError.badHeader(path: path, reason: "entry \(name) has a bad shape or offsets") }
            guard end - begin == Shape.count(of: shape) * 4 else {
                throw CheckpointError.badHeader(path: path, reason: "entry \(name): \(end - begin) bytes for shape \(shape)")
            }
            entries.append((name, shape, begin, end))
        }
        entries.sort { $0.begin < $1.begin }
        var expected = 0
        for e in entries {
            guard e.begin == expected else { throw CheckpointError.badHeader(path: path, reason: "tensor data of \(e.name) is not contiguous") }
            expected = e.end
        }
        let dataSize = bytes.count - headerEnd
        guard expected <= dataSize else {
            throw CheckpointError.truncated(path: path, expectedBytes: headerEnd + expected, actualBytes: bytes.count)
        }
        guard expected == dataSize else { throw CheckpointError.badHeader(path: path, reason: "\(dataSize - expected) trailing bytes") }
        var tensors: [String: Tensor] = [:]
        bytes.withUnsafeBytes { raw in
            for e in entries {
                var t = Tensor(uninitializedShape: e.shape)
                t.withUnsafeMutableBufferPointer { p in
                    for i in 0..<p.count {
                        let bits = raw.loadUnaligned(fromByteOffset: headerEnd + e.begin + 4 * i, as: UInt32.self)
                        p[i] = Float(bitPattern: UInt32(littleEndian: bits))
                    }
                }
                tensors[e.name] = t
            }
        }
        return (tensors, metadata)
    }
}

/// Any JSON value, decoded with `JSONDecoder` (for headers whose keys are data).
public indirect enum JSONNode: Decodable, Sendable, Equatable {
    case object([String: JSONNode])
    case array([JSONNode])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

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
