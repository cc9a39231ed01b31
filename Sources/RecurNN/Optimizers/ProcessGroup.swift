import RecurTensor

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
    /// Runs `body` (writing files) on rank 0 alone; when it throws there, every process throws
    /// (rank 0 its error, the others `RootProcessFailed`), so none is left waiting.
    public func atRoot(_ body: () throws -> Void) throws {
        var failure: (any Error)?
        if isRoot {
            do { try body() } catch { failure = error }
        }
        if any(failure != nil) { throw failure ?? RootProcessFailed() }
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
