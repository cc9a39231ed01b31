import RecurBase

#if canImport(Glibc)
    import Glibc
#endif

/// Reading whole text files with checked UTF-8.
public enum TextFile {
    /// The raw bytes of a regular file, with typed errors for the usual ways a path can be
    /// wrong (missing, a directory, a FIFO or device, unreadable).
    public static func readBytes(_ path: String) throws(TextError) -> [UInt8] {
        do {
            return try SafeRead.readAll(path)
        } catch {
            throw TextError(error)
        }
    }

    /// Reads standard input as UTF-8 text (empty input is allowed).
    public static func readStandardInput(lossy: Bool = false) throws(TextError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try SafeRead.readStandardInput()
        } catch {
            throw TextError(error)
        }
        return try decode(bytes, path: "standard input", lossy: lossy, allowEmpty: true)
    }

    /// The UTF-8 byte-order mark, which some Windows editors put at the start of a file.
    public static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Reads a file as UTF-8 text.
    ///
    /// - Parameters:
    ///   - path: the file.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    ///   - allowEmpty: accept an empty file.
    /// - Throws: `TextError` naming the path: missing file, directory, empty file, binary file
    ///   (a NUL byte), or the byte offset of the first invalid UTF-8 sequence.
    public static func read(_ path: String, lossy: Bool = false, allowEmpty: Bool = false)
        throws(TextError)
        -> String
    {
        try decode(readBytes(path), path: path, lossy: lossy, allowEmpty: allowEmpty)
    }

    /// Checks and decodes file bytes as `read` does; `path` labels errors.
    public static func decode(
        _ bytes: [UInt8], path: String, lossy: Bool = false, allowEmpty: Bool = false
    ) throws(TextError)
        -> String
    {
        // A byte-order mark is not text (skipped without copying); offsets in errors are file
        // offsets, so they count it.
        let text = bytes[(bytes.starts(with: byteOrderMark) ? 3 : 0)...]
        if text.isEmpty && !allowEmpty { throw .empty(path: path) }
        if let nul = text.firstIndex(of: 0) { throw .binary(path: path, offset: nul) }
        if !lossy,
            let offset = text.withUnsafeBufferPointer({ UTF8Validation.firstInvalidOffset($0) })
        {
            throw .invalidUTF8(
                path: path, offset: text.startIndex + offset, byte: text[text.startIndex + offset])
        }
        return String(decoding: text, as: UTF8.self)
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
                let word = UnsafeRawPointer(b.start + i).loadUnaligned(as: UInt64.self)
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
                guard continuation(1, 0x80, 0x8F), continuation(2), continuation(3) else {
                    return i
                }
                i += 4
            default:
                return i
            }
        }
        return nil
    }
}

/// Line splitting that agrees on every platform's line ends.
public enum TextLines {
    /// Splits `text` at LF, CRLF and lone CR.
    ///
    /// Swift treats `"\r\n"` as one `Character`, so `split(separator: "\n")` sees a CRLF file as
    /// one line; this works on the UTF-8 bytes. A leading byte-order mark is dropped; a final line
    /// end adds no empty line.
    public static func split(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        if utf8.starts(with: TextFile.byteOrderMark) { start = utf8.index(start, offsetBy: 3) }
        var i = start
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == 0x0A || c == 0x0D {
                lines.append(text[start..<i])
                var next = utf8.index(after: i)
                if c == 0x0D && next != utf8.endIndex && utf8[next] == 0x0A {
                    next = utf8.index(after: next)
                }
                start = next
                i = next
            } else {
                i = utf8.index(after: i)
            }
        }
        if start != utf8.endIndex { lines.append(text[start..<utf8.endIndex]) }
        return lines
    }

    /// `text` with CRLF and lone CR turned into LF and a leading byte-order mark dropped.
    public static func normalizingLineEnds(_ text: String) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(0x0D) || utf8.starts(with: TextFile.byteOrderMark) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = utf8.starts(with: TextFile.byteOrderMark) ? 3 : 0
        while i < utf8.count {
            if utf8[i] == 0x0D {
                out.append(0x0A)
                if i + 1 < utf8.count && utf8[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(utf8[i])
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
