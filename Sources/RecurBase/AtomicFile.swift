// Recur's file layer: every file the tool writes goes through `AtomicFile`, every file it reads
// through `SafeRead`. Together they give the guarantees the CLI promises: an interrupted write
// never leaves a broken file, a planted symlink is never written through, a FIFO or device is
// never read, and a header can never make a reader allocate more than the file holds.

#if canImport(Glibc)
    import Glibc
#endif

/// Errors from writing files.
public struct FileWriteError: Error, Equatable, CustomStringConvertible {
    /// The destination.
    public var path: String
    /// What went wrong (from `strerror`).
    public var reason: String

    /// An error writing `path`, with the system's reason.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// One line: the path and why it cannot be written.
    public var description: String { "\(path): cannot write (\(reason))" }
}

/// Whole-file writes that never leave a partial file behind and never follow a planted link.
public enum AtomicFile {
    /// The marker in the names of temporary files (`.<name>.recur-tmp.<random>`).
    public static let temporaryMarker = ".recur-tmp."

    /// Writes `bytes` to `path` atomically.
    ///
    /// The bytes go to a new temporary file in the same directory, created with `O_EXCL` and
    /// `O_NOFOLLOW` under an unpredictable name (so a link planted in advance is never written
    /// through), flushed with `fsync`, then renamed over the destination; the directory is
    /// synced too, so the rename survives a power cut. `rename` replaces a symbolic link at
    /// `path` itself, never its target. A crash, a full disk or Ctrl-C during the write leaves
    /// the previous file (if any) intact; the temporary file is removed on every error path,
    /// and `removeStaleTemporaries` clears those a `kill -9` left.
    public static func write(_ bytes: [UInt8], to path: String, replacing: Bool = true)
        throws(FileWriteError)
    {
        try write(to: path, replacing: replacing) { sink throws(FileWriteError) in
            try sink.write(bytes)
        }
    }

    /// Where `write(to:producing:)` sends bytes: buffered writes to the temporary file.
    public struct Sink: ~Copyable {
        let descriptor: Int32
        let path: String
        var buffer: [UInt8] = []

        /// Appends bytes (written in 1 MiB blocks).
        public mutating func write(_ bytes: some Collection<UInt8>) throws(FileWriteError) {
            buffer.append(contentsOf: bytes)
            if buffer.count >= 1 << 20 { try flush() }
        }

        mutating func flush() throws(FileWriteError) {
            var written = 0
            let failure: String? = buffer.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = Glibc.write(descriptor, raw.start + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return lastError()
                    }
                    written += n
                }
                return nil
            }
            buffer.removeAll(keepingCapacity: true)
            if let failure { throw FileWriteError(path: path, reason: failure) }
        }
    }

    /// Writes a file atomically from a producer that streams its bytes into a `Sink`, so that
    /// a large file (a vocabulary's vectors as text) never has to exist whole in memory.
    ///
    /// Same guarantees as `write(_:to:)`.
    ///
    /// - Parameters:
    ///   - path: the file to write.
    ///   - replacing: false publishes with `link(2)` instead of `rename(2)`, which fails
    ///     when `path` exists: a file that appeared meanwhile (another run writing the same
    ///     output) is never replaced, and this write reports "already exists" instead.
    ///   - produce: writes the contents into the sink it is given.
    public static func write(
        to path: String, replacing: Bool = true,
        producing produce: (inout Sink) throws(FileWriteError) -> Void
    ) throws(FileWriteError) {
        let (directory, name) = split(path)
        var descriptor: Int32 = -1
        var temporary = ""
        for _ in 0..<8 {
            let token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            temporary = directory + "/." + name + temporaryMarker + token
            descriptor = open(
                temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if descriptor >= 0 || errno != EEXIST { break }
        }
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: lastError()) }
        func fail(_ reason: String) -> FileWriteError {
            unlink(temporary)
            return FileWriteError(path: path, reason: reason)
        }
        var sink = Sink(descriptor: descriptor, path: path)
        do {
            try produce(&sink)
            try sink.flush()
        } catch {
            close(descriptor)
            throw fail(error.reason)
        }
        if fsync(descriptor) != 0 {
            let reason = lastError()
            close(descriptor)
            throw fail(reason)
        }
        guard close(descriptor) == 0 else { throw fail(lastError()) }
        if replacing {
            guard rename(temporary, path) == 0 else { throw fail(lastError()) }
        } else {
            guard link(temporary, path) == 0 else {
                throw fail(
                    errno == EEXIST
                        ? "it already exists (written by another process meanwhile?); nothing replaced"
                        : lastError())
            }
            unlink(temporary)
        }
        syncDirectory(directory)
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
                    throw FileWriteError(
                        path: path, reason: "\(current) exists and is not a directory")
                }
                continue
            }
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FileWriteError(path: path, reason: lastError())
            }
        }
    }

    /// Deletes the temporary files that interrupted writes left in `directory`: Recur's
    /// (`.<name>.recur-tmp.<random>`) and those of versions before 0.2 (`<name>.tmp-<pid>`).
    ///
    /// Call it only while holding the directory (`RunDirectory`), so that no live write of
    /// another process is removed. Returns how many were removed.
    @discardableResult
    public static func removeStaleTemporaries(in directory: String) -> Int {
        var removed = 0
        for name in entries(of: directory) where isTemporaryName(name) {
            var info = stat()
            // Only regular files and links (never a directory someone named like this).
            guard lstat(directory + "/" + name, &info) == 0,
                (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFLNK
            else { continue }
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Whether `name` is a temporary file of an interrupted write.
    public static func isTemporaryName(_ name: String) -> Bool {
        if name.hasPrefix("."), name.firstRange(of: temporaryMarker) != nil { return true }
        // `<name>.tmp-<pid>`, as written before 0.2.
        guard let marker = name.ranges(of: ".tmp-").last else { return false }
        let suffix = name[marker.upperBound...]
        return !suffix.isEmpty && suffix.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The names in `directory` (without `.` and `..`; empty when it cannot be read).
    public static func entries(of directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `(directory, file name)` of a path (`.` for a bare name).
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// Flushes a directory's entries (best effort: some file systems refuse).
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// The machine's physical memory in bytes (0 when unknown), for refusing sizes that cannot fit
/// before allocating them.
public var physicalMemoryBytes: Int {
    Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The message of the current `errno`.
func lastError() -> String { String(cString: strerror(errno)) }

/// Errors from opening files for reading.
public enum FileReadError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    /// A FIFO, socket or device: reading it could block forever or never end.
    case notRegular(path: String, kind: String)
    /// A symbolic link where the reader accepts none (files a checkpoint names).
    case symbolicLink(path: String)
    case tooLarge(path: String, bytes: Int, limit: Int)
    case unreadable(path: String, reason: String)

    /// The file concerned.
    public var path: String {
        switch self {
        case .notFound(let path), .isDirectory(let path), .notRegular(let path, _),
            .symbolicLink(let path),
            .tooLarge(let path, _, _), .unreadable(let path, _):
            return path
        }
    }

    /// What is wrong, without the path (callers wrapping this error add their own).
    public var reason: String {
        switch self {
        case .notFound: return "no such file"
        case .isDirectory: return "is a directory, not a file"
        case .notRegular(_, let kind): return "is a \(kind), not a regular file"
        case .symbolicLink: return "is a symbolic link (refused inside a checkpoint)"
        case .tooLarge(_, let bytes, let limit):
            return "\(bytes) bytes is more than the \(limit) this reader accepts"
        case .unreadable(_, let reason): return reason
        }
    }

    /// One line: the path and why it cannot be read.
    public var description: String {
        if case .unreadable = self { return "\(path): cannot be read (\(reason))" }
        return "\(path): \(reason)"
    }
}

/// Reading files safely: only regular files (a FIFO would block, `/dev/zero` never ends), sizes
/// taken from `fstat` of the opened file (no race between the check and the read), optional
/// refusal of symbolic links, and a size limit.
public enum SafeRead {
    /// Opens `path` for reading and checks that it is a regular file; returns the descriptor and
    /// its size.
    ///
    /// The caller closes the descriptor.
    public static func open(_ path: String, followLinks: Bool = true) throws(FileReadError) -> (
        descriptor: Int32, size: Int
    ) {
        // O_NONBLOCK: opening a FIFO without a writer would otherwise block here.
        let flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followLinks ? 0 : O_NOFOLLOW)
        let fd = Glibc.open(path, flags)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: throw .notFound(path: path)
            case ELOOP where !followLinks: throw .symbolicLink(path: path)
            case EISDIR: throw .isDirectory(path: path)
            default: throw .unreadable(path: path, reason: lastError())
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = lastError()
            close(fd)
            throw .unreadable(path: path, reason: reason)
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            switch kind {
            case S_IFDIR: throw .isDirectory(path: path)
            case S_IFIFO: throw .notRegular(path: path, kind: "FIFO (named pipe)")
            case S_IFCHR: throw .notRegular(path: path, kind: "character device")
            case S_IFBLK: throw .notRegular(path: path, kind: "block device")
            case S_IFSOCK: throw .notRegular(path: path, kind: "socket")
            default: throw .notRegular(path: path, kind: "special file")
            }
        }
        // Back to blocking reads for a regular file.
        _ = fcntl(fd, F_SETFL, O_RDONLY)
        return (fd, Int(info.st_size))
    }

    /// The size of the regular file at `path` (same checks as `open`).
    public static func regularFileSize(_ path: String) throws(FileReadError) -> Int {
        let (fd, size) = try open(path)
        close(fd)
        return size
    }

    /// Reads a whole regular file.
    ///
    /// `limit` caps its size (default 16 GiB).
    public static func readAll(_ path: String, followLinks: Bool = true, limit: Int = 1 << 34)
        throws(FileReadError) -> [UInt8]
    {
        let (fd, size) = try open(path, followLinks: followLinks)
        defer { close(fd) }
        guard size <= limit else { throw .tooLarge(path: path, bytes: size, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        let failure: String? = bytes.withUnsafeMutableBytes { raw in
            while filled < size {
                let n = read(fd, raw.start + filled, size - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    return lastError()
                }
                if n == 0 { break }  // The file shrank while we read it.
                filled += n
            }
            return nil
        }
        if let failure { throw .unreadable(path: path, reason: failure) }
        if filled < size { bytes.removeSubrange(filled...) }
        return bytes
    }

    /// Reads standard input to its end (a pipe, a terminal or a redirected file).
    public static func readStandardInput(limit: Int = 1 << 34) throws(FileReadError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.start, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: "standard input", reason: lastError())
            }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
            if bytes.count > limit {
                throw .tooLarge(path: "standard input", bytes: bytes.count, limit: limit)
            }
        }
    }

    /// Whether `path` names a plain file name inside a directory: no `/`, not `.`/`..`, not
    /// hidden, printable ASCII letters, digits, `.`, `-` and `_` only.
    ///
    /// Checkpoints name their files this way; anything else (`../../etc/passwd`) is refused before
    /// it is opened.
    public static func isPlainFileName(_ name: String) -> Bool {
        name.utf8.count <= 255 && plainFileName(name) == name
    }

    /// `name` made plain (see `isPlainFileName`): every other character becomes `_`, and so
    /// does a leading dot.
    ///
    /// For names built from untrusted parts (a manifest, a URL).
    public static func plainFileName(_ name: String) -> String {
        var bytes = name.unicodeScalars.map { c -> UInt8 in
            let allowed =
                c.isASCII
                && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "." || c == "-"
                    || c == "_")
            return allowed ? UInt8(c.value) : UInt8(ascii: "_")
        }
        if bytes.first == UInt8(ascii: ".") { bytes[0] = UInt8(ascii: "_") }
        return bytes.isEmpty ? "_" : String(decoding: bytes, as: UTF8.self)
    }

    /// `(device, inode)` of an existing file, following links; nil when it does not exist.
    public static func identity(_ path: String) -> (UInt64, UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Whether two paths name the same existing file (hard links and symlinks included).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        guard let x = identity(a), let y = identity(b) else { return false }
        return x == y
    }
}
