import CRecurMPI
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// Why MPI could not start.
public struct MPIUnavailable: Error, CustomStringConvertible, Sendable {
    /// What failed (libmpi missing, not Open MPI, MPI_Init failing).
    public var reason: String
    /// One line saying what went wrong.
    public var description: String { "cannot start MPI: \(reason)" }
}

/// The processes of an Open MPI job (`MPI_COMM_WORLD`) as a `ProcessGroup`.
///
/// Open MPI is loaded at run time (`libmpi.so.40`, with `dlopen`), so a binary that uses this type
/// still runs as one process on a machine without MPI. There is one world per process: `start()`
/// returns the same group every time.
///
/// ```swift
/// let group = try MPIProcessGroup.start()   // under mpirun -np 2: rank 0 and rank 1
/// let trainer = try CharLMTrainer(..., group: group)
/// ```
public final class MPIProcessGroup: ProcessGroup {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The number of processes in `MPI_COMM_WORLD`.
    public let size: Int
    nonisolated(unsafe) private static var world: MPIProcessGroup?
    /// MPI counts are 32-bit: longer buffers go in pieces.
    private static let piece = 1 << 28

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Loads Open MPI and joins the job that started this process.
    ///
    /// - Parameter library: the MPI library to load; nil: `RECUR_MPI_LIBRARY` when set, else
    ///   Open MPI's `libmpi.so.40` from the system's library path.
    /// - Throws: `MPIUnavailable` when libmpi is missing, is not Open MPI, or cannot initialize.
    public static func start(library: String? = nil) throws -> MPIProcessGroup {
        if let world { return world }
        let name = library ?? getenv("RECUR_MPI_LIBRARY").map { String(cString: $0) }
        var message = [CChar](repeating: 0, count: 512)
        guard recur_mpi_start(name, &message, message.count) == 0 else {
            let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            throw MPIUnavailable(reason: String(decoding: bytes, as: UTF8.self))
        }
        let group = MPIProcessGroup(rank: Int(recur_mpi_rank()), size: Int(recur_mpi_size()))
        world = group
        return group
    }

    /// Ends MPI; call once, after the last collective, before the process exits.
    public static func finish() {
        if world != nil { recur_mpi_finish() }
    }

    /// Ends the whole job at once (a process that must not leave the others waiting).
    public static func abort(code: Int32) {
        if world != nil { recur_mpi_abort(code) }
    }

    /// Sums `values` over every process, in place.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        pieces(values.count) { check(recur_mpi_allreduce_sum_float(base + $0, $1)) }
    }

    /// Sums `values` over every process, in place.
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress else { return }
        pieces(values.count) { check(recur_mpi_allreduce_sum_double(base + $0, $1)) }
    }

    /// Takes the maximum of `values` over every process, in place.
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) {
        guard let base = values.baseAddress else { return }
        pieces(values.count) { check(recur_mpi_allreduce_max_double(base + $0, $1)) }
    }

    /// Copies `root`'s bytes to every process.
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
        guard let base = bytes.baseAddress else { return }
        pieces(bytes.count) { check(recur_mpi_broadcast_bytes(base + $0, $1, Int32(root))) }
    }

    private func pieces(_ count: Int, _ body: (Int, Int32) -> Void) {
        var offset = 0
        while offset < count {
            let n = min(Self.piece, count - offset)
            body(offset, Int32(n))
            offset += n
        }
    }

    /// Open MPI's default error handler ends the job before a call returns an error; if one is
    /// returned anyway, the job cannot go on consistently.
    private func check(_ code: Int32) {
        guard code != 0 else { return }
        let line = Array("Error: an MPI collective failed (code \(code)); ending the job\n".utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        recur_mpi_abort(1)
        exit(1)
    }
}
