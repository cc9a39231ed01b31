import RecurBase
import RecurTensor

/// The saved state of an optimizer: its step count and per-parameter slot tensors, keyed
/// `"<parameter name>.<slot>"` (for example `"rnn.weight_hh_l0.exp_avg"`).
public struct OptimizerState: Sendable {
    /// The optimizer's kind, checked on load.
    public var kind: String
    /// Number of updates taken.
    public var step: Int
    /// Slot tensors.
    public var tensors: [String: Tensor]

    /// A state from its parts (as a checkpoint stores them).
    public init(kind: String, step: Int, tensors: [String: Tensor]) {
        self.kind = kind
        self.step = step
        self.tensors = tensors
    }
}

extension OptimizerState {
    /// The slot tensors under the `optimizer.` prefix, for a training-state file.
    public func packed() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (k, v) in tensors { result["optimizer." + k] = v }
        return result
    }

    /// The optimizer tensors of a training-state file (those under `optimizer.`).
    public init(unpacking training: [String: Tensor], kind: String, step: Int) {
        var slots: [String: Tensor] = [:]
        for (k, v) in training where k.hasPrefix("optimizer.") {
            slots[String(k.dropFirst(10))] = v
        }
        self.init(kind: kind, step: step, tensors: slots)
    }
}

/// Updates a fixed list of named parameters from their gradients.
///
/// `step()` applies one update with the current `learningRate` and then zeroes every gradient.
/// State (momentum buffers, moment estimates) is saved and restored through `state` and
/// `load(_:)`, so a resumed run continues exactly.
public protocol Optimizer: AnyObject {
    /// The learning rate the next `step()` uses (schedules set it).
    var learningRate: Float { get set }
    /// Number of updates taken so far.
    var stepCount: Int { get }
    /// The named parameters this optimizer updates.
    var parameters: [(name: String, parameter: Parameter)] { get }
    /// Applies one update and zeroes the gradients.
    func step()
    /// A snapshot of the optimizer's state.
    var state: OptimizerState { get }
    /// Restores a snapshot taken from an optimizer of the same kind over the same parameters.
    func load(_ state: OptimizerState) throws
}

/// Per-parameter slot buffers shared by the optimizers.
struct OptimizerSlots {
    let names: [String]
    let slotNames: [String]
    /// The buffers, indexed `slots[slot][parameter]`.
    var slots: [[Tensor]]

    init(parameters: [(name: String, parameter: Parameter)], slotNames: [String]) {
        names = parameters.map(\.name)
        self.slotNames = slotNames
        slots = slotNames.map { _ in parameters.map { Tensor.zeros($0.parameter.shape) } }
    }

    func snapshot() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (s, slot) in slotNames.enumerated() {
            for (p, name) in names.enumerated() { result[name + "." + slot] = slots[s][p] }
        }
        return result
    }

    mutating func load(_ tensors: [String: Tensor], kind: String) throws {
        for (s, slot) in slotNames.enumerated() {
            for (p, name) in names.enumerated() {
                let key = name + "." + slot
                guard let t = tensors[key] else { throw CheckpointError.missingTensor(name: key) }
                guard t.shape == slots[s][p].shape else {
                    throw CheckpointError.shapeMismatch(
                        name: key, expected: slots[s][p].shape, found: t.shape)
                }
                slots[s][p] = t
            }
        }
        let expected = Set(names.flatMap { n in slotNames.map { n + "." + $0 } })
        if let extra = tensors.keys.first(where: { !expected.contains($0) }) {
            throw CheckpointError.unexpectedTensor(name: extra)
        }
    }
}

extension Optimizer {
    /// Sets every parameter's gradient to zero.
    public func zeroGradients() {
        for (_, p) in parameters { p.zeroGradient() }
    }

    func checkKind(_ state: OptimizerState, _ kind: String) throws {
        guard state.kind == kind else {
            throw CheckpointError.mismatch(what: "optimizer", expected: kind, found: state.kind)
        }
    }
}

/// Runs `body` over the elements of a parameter, its gradient and up to three slots as raw
/// buffers (the optimizers' inner loops).
@inline(__always)
func withBuffers(
    _ p: Parameter, _ slots: inout [[Tensor]], index: Int,
    _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, [UnsafeMutablePointer<Float>], Int)
        -> Void
) {
    let count = p.value.count
    p.value.withUnsafeMutableBufferPointer { value in
        p.gradient.withUnsafeBufferPointer { gradient in
            // `unsafeMutableBase()` (unique storage, valid until the tensor is reassigned or
            // resized, which nothing does during `body`), not a pointer escaping a closure.
            var pointers: [UnsafeMutablePointer<Float>] = []
            for s in 0..<slots.count {
                pointers.append(slots[s][index].unsafeMutableBase())
            }
            body(value.start, gradient.start, pointers, count)
        }
    }
}
