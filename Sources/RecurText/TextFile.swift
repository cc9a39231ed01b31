import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// Reading whole text files with checked UTF-8.
public enum TextFile {
    /// The raw bytes of a file, with typed errors for the usual ways a path can be wrong.
    public static func readBytes(_ path: String) throws(TextError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .isDirectory(path: path) }
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        if info.st_size > 0 { bytes.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count {
                if ferror(file) != 0 { throw .unreadable(path: path, reason: "read error") }
                break
            }
        }
        return bytes
    }

    /// Reads a file as UTF-8 text.
    ///
    /// - Parameters:
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    ///   - allowEmpty: accept an empty file.
    /// - Throws: `TextError` naming the path: missing file, directory, empty file, binary file
    ///   (a NUL byte), or the byte offset of the first invalid UTF-8 sequence.
    public static func read(_ path: String, lossy: Bool = false, allowEmpty: Bool = false) throws(TextError)
        -> String
    {
        let bytes = try readBytes(path)
        if bytes.isEmpty && !allowEmpty { throw .empty(path: path) }
        if let nul = bytes.firstIndex(of: 0) { throw .binary(path: path, offset: nul) }
        if !lossy, let offset = UTF8Validation.firstInvalidOffset(bytes) {
            throw .invalidUTF8(path: path, offset: offset, byte: bytes[offset])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `bytes` to `path` atomically (see `AtomicFile.write`).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(TextError) {
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw .unreadable(path: path, reason: "cannot write: \(error.reason)")
        }
    }
}

/// A fast UTF-8 validator (Unicode 15, Table 3-7: well-formed byte sequences).
public enum UTF8Validation {
    /// The offset of the first byte that starts an ill-formed sequence, or nil if all is valid.
    public static func firstInvalidOffset(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { firstInvalidOffset($0) }
    }

    /// The offset of the first byte that starts an ill-formed sequence, or nil if all is valid.
    public static func firstInvalidOffset(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = b.count
        var i = 0
        while i < n {
            // ASCII run, eight bytes at a time.
            while i + 8 <= n {
                let word = UnsafeRawPointer(b.baseAddress! + i).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            if i >= n { break }
            let c = b[i]
            if c < 0x80 {
                i += 1
                continue
            }
            func continuation(_ k: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
                i + k < n && b[i + k] >= low && b[i + k] <= high
            }
            switch c {
            case 0xC2...0xDF:
                guard continuation(1) else { return i }
                i += 2
            case 0xE0:
                guard continuation(1, 0xA0), continuation(2) else { return i }
                i += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard continuation(1), continuation(2) else { return i }
                i += 3
            case 0xED:
                guard continuation(1, 0x80, 0x9F), continuation(2) else { return i }
                i += 3
            case 0xF0:
                guard continuation(1, 0x90), continuation(2), continuation(3) else { return i }
                i += 4
            case 0xF1...0xF3:
                guard continuation(1), continuation(2), continuation(3) else { return i }
                i += 4
            case 0xF4:
                guard continuation(1, 0x80, 0x8F), continuation(2), continuation(3) else { return i }
                i += 4
            default:
                return i
            }
        }
        return nil
    }
}
