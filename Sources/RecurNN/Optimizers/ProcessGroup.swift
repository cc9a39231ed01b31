import RecurTensor

/// The processes that train one model together (synchronous data parallelism): each computes
/// the gradient of its share of a batch, and collectives make every process take the same step.
///
/// Trainers see only this protocol, so none depends on a transport: `SingleProcess` (the
/// default) does nothing; a multi-process implementation (MPI) plugs in here.
public protocol ProcessGroup: AnyObject {
    /// This process's index, `0..<size`.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every process by their elementwise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every process by their elementwise sum over all processes.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Copies process `root`'s `values` to every process.
    func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int)
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
    /// Leaves `values` as they are (this process is the root).
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, root: Int) {}
}
