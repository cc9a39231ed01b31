import RecurBase

/// Errors from reading and interpreting text supplied by the user.
public enum TextError: Error, Equatable, CustomStringConvertible {
    /// No file at the path.
    case fileNotFound(path: String)
    /// The path names a directory.
    case isDirectory(path: String)
    /// The file exists but cannot be read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// The file has no content.
    case empty(path: String)
    /// The file contains NUL bytes, so it is not text.
    case binary(path: String, offset: Int)
    /// The bytes at `offset` are not valid UTF-8.
    case invalidUTF8(path: String, offset: Int, byte: UInt8)
    /// The text has fewer symbols than the job needs.
    case tooShort(path: String, symbols: Int, needed: Int, what: String)
    /// A vocabulary file is malformed.
    case malformedLine(path: String, line: Int, reason: String)

    /// One line naming the file and what is wrong with it.
    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file"
        case .isDirectory(let path): return "\(path): is a directory, not a text file"
        case .unreadable(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .empty(let path): return "\(path): the file is empty"
        case .binary(let path, let offset):
            return "\(path): looks like a binary file (NUL byte at offset \(offset)), not text"
        case .invalidUTF8(let path, let offset, let byte):
            let hex = String(byte, radix: 16, uppercase: true)
            return
                "\(path): invalid UTF-8 at byte offset \(offset) (byte 0x\(hex.count == 1 ? "0" + hex : hex)); "
                + "use --lossy to replace invalid bytes with U+FFFD"
        case .tooShort(let path, let symbols, let needed, let what):
            return "\(path): only \(symbols) symbols, but \(what) needs at least \(needed)"
        case .malformedLine(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        }
    }
}

extension TextError {
    /// The text reader's form of a file-layer error (the one place they are mapped).
    public init(_ error: FileReadError) {
        switch error {
        case .notFound(let path): self = .fileNotFound(path: path)
        case .isDirectory(let path): self = .isDirectory(path: path)
        default: self = .unreadable(path: error.path, reason: error.reason)
        }
    }
}
