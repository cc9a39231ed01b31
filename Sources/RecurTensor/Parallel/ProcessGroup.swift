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

    /// Rank `root`'s value of `value`, on every process.
    public func broadcast(_ value: Double, root: Int = 0) -> Double {
        guard size > 1 else { return value }
        var copy = value
        withUnsafeMutableBytes(of: &copy) { broadcast($0, root: root) }
        return copy
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
        let count = parameters.reduce(0) { $0 + $1.value.count }
        if buffer.count != count { buffer = [Float](repeating: 0, count: count) }
        var totals = [weight, loss.isFinite ? loss * weight : .nan, stop ? 1 : 0, Double(items)]
        let factor = Float(weight)
        buffer.withUnsafeMutableBufferPointer { fused in
            var offset = 0
            for p in parameters {
                let n = p.value.count
                let g = p.gradient.unsafeBase
                for i in 0..<n { fused[offset + i] = weight > 0 ? g[i] * factor : 0 }
                offset += n
            }
            allReduceSum(fused)
        }
        totals.withUnsafeMutableBufferPointer { allReduceSum($0) }
        let total = totals[0]
        let scale = total > 0 ? Float(1 / total) : 0
        buffer.withUnsafeBufferPointer { fused in
            var offset = 0
            for p in parameters {
                let n = p.value.count
                let g = p.gradient.unsafeMutableBase()
                for i in 0..<n { g[i] = fused[offset + i] * scale }
                offset += n
            }
        }
        return (total > 0 ? totals[1] / total : 0, Int(totals[3]), totals[2] > 0)
    }

    /// This process's generator for one step's dropout masks and sampling: `shared` itself for
    /// one process; for several, one derived from `shared`, the step and the rank without
    /// advancing `shared`, so each process draws its own masks while the run's generator (which
    /// a checkpoint saves, and which draws what all processes share, such as a TCN's window
    /// positions) stays the same everywhere.
    public func stepGenerator(_ shared: Xoshiro256, step: Int) -> Xoshiro256 {
        guard size > 1 else { return shared }
        var copy = shared
        return copy.split(stream: UInt64(step) << 20 | UInt64(rank))
    }

    /// Copies rank 0's values of `parameters` (weights) to every process, in one broadcast.
    public func broadcastValues(_ parameters: [Parameter]) {
        guard size > 1 else { return }
        var fused = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.value.count })
        var offset = 0
        for p in parameters {
            fused.withUnsafeMutableBufferPointer { buffer in
                _ = UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + p.value.count)])
                    .initialize(
                        from: UnsafeBufferPointer(start: p.value.unsafeBase, count: p.value.count)
                    )
            }
            offset += p.value.count
        }
        fused.withUnsafeMutableBufferPointer { broadcast($0, root: 0) }
        offset = 0
        for p in parameters {
            let target = p.value.unsafeMutableBase()
            for i in 0..<p.value.count { target[i] = fused[offset + i] }
            offset += p.value.count
        }
    }

    /// Whether every process holds the same `checksum` as rank 0 (a digest of its data and
    /// settings); every process learns the answer.
    public func agree(on checksum: UInt64) -> Bool {
        guard size > 1 else { return true }
        var root = checksum
        withUnsafeMutableBytes(of: &root) { broadcast($0, root: 0) }
        return !any(root != checksum)
    }
}

/// A step that failed on rank 0 (which reports why); the other processes stop with this.
public struct RootProcessFailed: Error, CustomStringConvertible, Sendable {
    /// One line (the CLI prints only rank 0's errors).
    public var description: String { "rank 0 of this job failed" }
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

/// A 64-bit FNV-1a digest, to check that processes hold the same data and settings.
public struct Checksum: Sendable {
    /// The digest so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// An empty digest.
    public init() {}

    /// Adds bytes.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }

    /// Adds the bytes of `values`.
    public mutating func add<T>(_ values: [T]) {
        values.withUnsafeBytes { add($0) }
    }

    /// Adds the UTF-8 of `text`.
    public mutating func add(_ text: String) {
        add(Array(text.utf8))
    }
}
