#if canImport(Glibc)
    import Glibc
#endif

/// Errors from writing files.
public struct FileWriteError: Error, Equatable, CustomStringConvertible {
    /// The destination.
    public var path: String
    /// What went wrong (from `strerror`).
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): cannot write (\(reason))" }
}

/// Whole-file writes that never leave a partial file behind.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed with
    /// `fsync`, then renamed over the destination. A crash, a full disk or Ctrl-C during the
    /// write leaves the previous file (if any) intact and no temporary file behind.
    public static func write(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        let temporary = path + ".tmp-\(getpid())"
        func fail(_ reason: String) -> FileWriteError {
            unlink(temporary)
            return FileWriteError(path: path, reason: reason)
        }
        guard let file = fopen(temporary, "wb") else {
            throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let writeErrno = errno
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let flushErrno = errno
        let closed = fclose(file) == 0
        guard written == bytes.count else { throw fail(String(cString: strerror(writeErrno))) }
        guard flushed, closed else { throw fail(String(cString: strerror(flushErrno))) }
        guard rename(temporary, path) == 0 else { throw fail(String(cString: strerror(errno))) }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws(FileWriteError) {
        try write(Array(text.utf8), to: path)
    }

    /// Creates a directory and its parents if missing.
    public static func createDirectory(_ path: String) throws(FileWriteError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            var info = stat()
            if stat(current, &info) == 0 {
                if (info.st_mode & S_IFMT) != S_IFDIR {
                    throw FileWriteError(path: path, reason: "\(current) exists and is not a directory")
                }
                continue
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }
}
