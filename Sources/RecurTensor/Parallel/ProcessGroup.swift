import RecurBase

/// The processes that train one model together (synchronous data parallelism): each computes
/// the gradient of its share of a batch, and collectives make every process take the same step.
///
/// Trainers see only this protocol, so none depends on a transport: `SingleProcess` (the
/// default) does nothing; `MPIProcessGroup` (module `RecurDistributed`) runs the collectives
/// over Open MPI. Every process must call the same collectives in the same order.
public protocol ProcessGroup: AnyObject {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every process by their elementwise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every process by their elementwise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces `values` on every process by their elementwise maximum over all processes.
    func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>)
    /// Copies process `root`'s bytes to every process.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int)
}

/// One process: every collective is the identity.
public final class SingleProcess: ProcessGroup {
    /// Always 0.
    public var rank: Int { 0 }
    /// Always 1.
    public var size: Int { 1 }

    /// A group of one.
    public init() {}

    /// Leaves `values` as they are (the sum over one process).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {}
    /// Leaves `values` as they are (the sum over one process).
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {}
    /// Leaves `values` as they are (the maximum over one process).
    public func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) {}
    /// Leaves `bytes` as they are (this process is the root).
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
}

extension ProcessGroup {
    /// Whether this process is rank 0, the one that writes files and prints.
    public var isRoot: Bool { rank == 0 }

    /// This process's share of `count` rows: contiguous, sizes differing by at most one.
    public func share(of count: Int) -> Range<Int> {
        let base = count / size
        let extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Every process's values summed (a convenience over the buffer call).
    public func sum(_ values: [Double]) -> [Double] {
        var copy = values
        if size > 1 { copy.withUnsafeMutableBufferPointer { allReduceSum($0) } }
        return copy
    }

    /// Whether any process says yes.
    public func any(_ flag: Bool) -> Bool {
        guard size > 1 else { return flag }
        var value = [flag ? 1.0 : 0.0]
        value.withUnsafeMutableBufferPointer { allReduceMax($0) }
        return value[0] > 0
    }

    /// Copies rank `root`'s floats to every process.
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int = 0) {
        guard size > 1 else { return }
        broadcast(UnsafeMutableRawBufferPointer(values), root: root)
    }

    /// Averages `parameters`' gradients over every process, each weighted by its `weight`, in
    /// one all-reduce of all of them (not one call per parameter).
    ///
    /// Each process's gradients are means over its `weight` terms (a char-LM's symbols, a
    /// translation batch's target tokens); afterwards every process holds the mean over all
    /// processes' terms, which is what one process with the whole batch computes. A process with
    /// no terms joins with zeros. A stop request travels in the same collective.
    ///
    /// - Parameters:
    ///   - parameters: the trained parameters, in the same order on every process.
    ///   - loss: this process's mean loss (NaN poisons the result, so every process sees it).
    ///   - items: this process's items, for throughput.
    ///   - weight: the number of terms `loss` and the gradients are means over.
    ///   - stop: whether this process was asked to stop.
    ///   - buffer: scratch space, reused across calls.
    /// - Returns: the mean loss over all terms, the items of all processes, and whether any asked
    ///   to stop.
    public func averageGradients(
        _ parameters: [Parameter], loss: Double, items: Int, weight: Double, stop: Bool = false,
        buffer: inout [Float]
    ) -> (loss: Double, items: Int, stop: Bool) {
        var totals = [weight, loss.isFinite ? loss * weight : .nan, stop ? 1 : 0, Double(items)]
        Self.pack(parameters, gradients: true, scale: weight > 0 ? Float(weight) : 0, into: &buffer)
        buffer.withUnsafeMutableBufferPointer { allReduceSum($0) }
        totals.withUnsafeMutableBufferPointer { allReduceSum($0) }
        let total = totals[0]
        Self.unpack(
            buffer, into: parameters, gradients: true, scale: total > 0 ? Float(1 / total) : 0)
        return (total > 0 ? totals[1] / total : 0, Int(totals[3]), totals[2] > 0)
    }

    /// Copies `scale` × every parameter's gradient (or value) into `buffer`, one after another.
    static func pack(
        _ parameters: [Parameter], gradients: Bool, scale: Float, into buffer: inout [Float]
    ) {
        let count = parameters.reduce(0) { $0 + $1.value.count }
        if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
        buffer.withUnsafeMutableBufferPointer { fused in
            var offset = 0
            for p in parameters {
                let source = gradients ? p.gradient.unsafeBase : p.value.unsafeBase
                VectorMath.scale(scale, source, fused.start + offset, count: p.value.count)
                offset += p.value.count
            }
        }
    }

    /// Copies `scale` × `buffer`'s pieces back into every parameter's gradient (or value), in
    /// place (see `pack`).
    static func unpack(
        _ buffer: [Float], into parameters: [Parameter], gradients: Bool, scale: Float
    ) {
        buffer.withUnsafeBufferPointer { fused in
            var offset = 0
            for p in parameters {
                let target =
                    gradients ? p.gradient.unsafeMutableBase() : p.value.unsafeMutableBase()
                VectorMath.scale(scale, fused.start + offset, target, count: p.value.count)
                offset += p.value.count
            }
        }
    }

    /// Runs `body` with this process's generator for one step's dropout masks and sampling:
    /// the run's generator `shared` itself for one process (so it advances as always); for
    /// several, one derived from `shared`, the step and the rank without advancing `shared`, so
    /// each process draws its own masks while the run's generator (which a checkpoint saves, and
    /// which draws what all processes share, such as a TCN's window positions) stays the same
    /// everywhere.
    public func withStepGenerator<R>(
        _ shared: inout Xoshiro256, step: Int, _ body: (inout Xoshiro256) throws -> R
    ) rethrows -> R {
        guard size > 1 else { return try body(&shared) }
        var copy = shared
        var own = copy.split(stream: UInt64(step) << 20 | UInt64(rank))
        return try body(&own)
    }

    /// Copies rank 0's values of `parameters` (weights) to every process, in one broadcast.
    public func broadcastValues(_ parameters: [Parameter]) {
        guard size > 1 else { return }
        var fused: [Float] = []
        Self.pack(parameters, gradients: false, scale: 1, into: &fused)
        fused.withUnsafeMutableBufferPointer { broadcast($0, root: 0) }
        Self.unpack(fused, into: parameters, gradients: false, scale: 1)
    }

    /// Checks that a global batch of `batch` rows splits evenly over the processes.
    ///
    /// - Throws: `DataParallelError.batchNotDivisible` (on rank 0; `RootProcessFailed` on the
    ///   others, which meet the same).
    public func requireEvenShares(of batch: Int) throws {
        guard batch % size == 0 else {
            throw agreed(DataParallelError.batchNotDivisible(batch: batch, processes: size))
        }
    }

    /// Checks that every process holds rank 0's `digest` (of its data and settings; the same
    /// length on every process), computed only when there are several processes.
    ///
    /// - Throws: `DataParallelError.processesDisagree` on rank 0 and `RootProcessFailed` on the
    ///   others when any differs.
    public func requireAgreement(on digest: () -> [UInt8]) throws {
        guard size > 1 else { return }
        let mine = digest()
        var root = mine
        root.withUnsafeMutableBytes { broadcast($0, root: 0) }
        if any(root != mine) { throw agreed(DataParallelError.processesDisagree) }
    }
}

/// Why processes cannot train together.
public enum DataParallelError: Error, CustomStringConvertible, Sendable {
    /// The global batch does not split evenly over the processes.
    case batchNotDivisible(batch: Int, processes: Int)
    /// A process read other data or settings than rank 0.
    case processesDisagree

    /// One line saying what went wrong and what to do.
    public var description: String {
        switch self {
        case .batchNotDivisible(let batch, let processes):
            return
                "--batch \(batch) (the global batch) does not split evenly over \(processes) processes; use a multiple of \(processes)"
        case .processesDisagree:
            return
                "the processes of this job read different data or settings (their checksums differ from rank 0's): give every rank the same file and options"
        }
    }
}

/// A step that failed on rank 0 (which reports why); the other processes stop with this.
public struct RootProcessFailed: Error, CustomStringConvertible, Sendable {
    /// One line (the CLI prints only rank 0's errors).
    public var description: String { "rank 0 of this job failed" }
}

/// Another process of the job failed (and reports why); this one stops with it.
public struct OtherProcessFailed: Error, CustomStringConvertible, Sendable {
    /// One line.
    public var description: String { "another process of this job failed (its message says why)" }

    /// The failure of another process.
    public init() {}
}

extension ProcessGroup {
    /// `error` on rank 0, `RootProcessFailed` on the others: for a failure every process meets
    /// alike (a setting they share), which rank 0 alone should report.
    public func agreed(_ error: any Error) -> any Error { isRoot ? error : RootProcessFailed() }

    /// Runs `body` (writing files) on rank 0 alone and returns its result there (nil on the
    /// others); when it throws on rank 0, every process throws (rank 0 its error, the others
    /// `RootProcessFailed`), so none is left waiting.
    @discardableResult
    public func atRoot<T>(_ body: () throws -> T) throws -> T? {
        var failure: (any Error)?
        var result: T?
        if isRoot {
            do { result = try body() } catch { failure = error }
        }
        if any(failure != nil) { throw failure ?? RootProcessFailed() }
        return result
    }
}
