#if canImport(Glibc)
    import Glibc
#endif

/// A training run's output directory, held by one process at a time.
///
/// Claiming it takes an exclusive `flock` on `<directory>/.recur.lock` (kept until the object
/// is released or the process ends, `kill -9` included: the kernel drops the lock), so a second
/// training into the same directory fails at once instead of interleaving logs and deleting the
/// other's files. While holding it, the temporary files of interrupted writes are removed.
///
/// A directory that already holds files is only used to continue the run in it (`.resume`) or
/// when the user asks to replace it (`.replace`, which deletes the previous run's own files —
/// those `isRunFile` recognises — and nothing else). `.fresh` refuses it, so no run ever
/// truncates another's metrics or replaces its best model by accident.
public final class RunDirectory {
    /// How the caller means to use the directory.
    public enum Intent: Sendable {
        /// A new run: the directory must be missing or empty.
        case fresh
        /// Continue the run saved there.
        case resume
        /// A new run replacing the one there (`--force`).
        case replace
    }

    /// The lock file's name.
    public static let lockName = ".recur.lock"

    /// The run directory.
    public let path: String
    private var descriptor: Int32

    /// Claims `path` (created if missing) for a run.
    ///
    /// - Parameters:
    ///   - path: the run directory.
    ///   - intent: a fresh run, a resumed one, or one that replaces an earlier run's files.
    ///   - isRunFile: recognises the files and directories a run writes (for `.replace`); the
    ///     lock file and temporary files are always recognised.
    /// - Throws: `FileWriteError` with a one-line reason: another process holds the directory,
    ///   it is not empty for a fresh run, or it cannot be created or locked.
    public init(claiming path: String, intent: Intent, isRunFile: (String) -> Bool)
        throws(FileWriteError)
    {
        self.path = path
        do {
            try AtomicFile.createDirectory(path)
        } catch {
            throw FileWriteError(path: path, reason: "is not writable (\(error.reason))")
        }
        let lock = path + "/" + RunDirectory.lockName
        let fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileWriteError(
                path: path,
                reason: errno == ELOOP
                    ? "\(RunDirectory.lockName) is a symbolic link"
                    : "cannot create its lock file (\(lastError()))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FileWriteError(
                path: path, reason: "\(RunDirectory.lockName) is not a regular file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = lastError()
            close(fd)
            throw FileWriteError(
                path: path,
                reason: busy
                    ? "another recur process is training into this directory; wait for it to finish or choose another --out"
                    : "cannot lock it (\(reason))")
        }
        descriptor = fd
        AtomicFile.removeStaleTemporaries(in: path)
        for name in AtomicFile.entries(of: path) where RunDirectory.isDirectory(path + "/" + name) {
            AtomicFile.removeStaleTemporaries(in: path + "/" + name)
        }
        let contents = AtomicFile.entries(of: path).filter { $0 != RunDirectory.lockName }
        switch intent {
        case .resume:
            break
        case .fresh:
            if !contents.isEmpty {
                release()
                let shown =
                    contents.prefix(3).joined(separator: ", ") + (contents.count > 3 ? ", …" : "")
                throw FileWriteError(
                    path: path,
                    reason:
                        "it already holds files (\(shown)); continue that run with --resume \(path), replace it with --force, or choose another --out"
                )
            }
        case .replace:
            for name in contents where isRunFile(name) {
                let full = path + "/" + name
                if RunDirectory.isDirectory(full) {
                    for inner in AtomicFile.entries(of: full) where isRunFile(inner) {
                        unlink(full + "/" + inner)
                    }
                    rmdir(full)
                } else {
                    unlink(full)
                }
            }
        }
    }

    deinit { release() }

    /// Whether another process holds `path` now (a run training into it): its checkpoint may
    /// change while it is read.
    public static func isBusy(_ path: String) -> Bool {
        let fd = open(path + "/" + lockName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// Gives the directory up (the lock file stays, unlocked).
    public func release() {
        if descriptor >= 0 {
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The first unused directory among `base`, `base-2`, `base-3`, … (missing or empty), for
    /// runs without an explicit `--out`: two runs in a row never share a directory.
    public static func unusedDirectory(base: String) -> String {
        func available(_ p: String) -> Bool {
            var info = stat()
            guard lstat(p, &info) == 0 else { return true }
            return (info.st_mode & S_IFMT) == S_IFDIR
                && AtomicFile.entries(of: p).allSatisfy { $0 == lockName }
        }
        if available(base) { return base }
        var n = 2
        while !available("\(base)-\(n)") { n += 1 }
        return "\(base)-\(n)"
    }
}
