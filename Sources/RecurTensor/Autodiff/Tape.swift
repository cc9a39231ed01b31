/// A reverse-mode automatic differentiation tape.
///
/// Every differentiable operation on `Variable`s appends one node holding its value and a
/// backward closure. `backward(from:)` walks the nodes in reverse order (iteratively, so deep
/// BPTT graphs cannot overflow the stack), hands each node its output gradient, and the closure
/// accumulates (`+=`) gradients into its inputs. Leaves made from a `Parameter` accumulate
/// straight into `Parameter.gradient`.
///
/// Operations are coarse (a whole LSTM sequence, a fused cross-entropy), so a training step adds
/// tens of nodes, not thousands. Reuse one tape across steps with `reset()`.
///
/// ```swift
/// let tape = Tape()
/// let w = tape.parameter(weight)              // Parameter
/// let x = tape.constant(input)
/// let loss = (x.matmul(w)).tanh().sum()
/// tape.backward(from: loss)                   // weight.gradient now holds d loss / d weight
/// ```
public final class Tape {
    @usableFromInline
    struct Node {
        var value: Tensor
        var gradient: Tensor?
        var backward: ((Tensor) -> Void)?
        var parameter: Parameter?
        var requiresGradient: Bool
    }

    @usableFromInline var nodes: [Node] = []

    /// When false, operations compute values but record no backward closures (inference).
    public var isRecording = true

    /// Creates an empty tape.
    public init() {}

    /// Number of recorded nodes.
    public var count: Int { nodes.count }

    /// Drops every node (keeping the capacity) so the tape can record the next step.
    public func reset() { nodes.removeAll(keepingCapacity: true) }

    /// Runs `body` without recording backward closures (PyTorch's `no_grad`).
    public func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
        let saved = isRecording
        isRecording = false
        defer { isRecording = saved }
        return try body()
    }

    /// A leaf that needs no gradient.
    public func constant(_ value: Tensor) -> Variable {
        nodes.append(
            Node(
                value: value, gradient: nil, backward: nil, parameter: nil, requiresGradient: false)
        )
        return Variable(tape: self, index: nodes.count - 1)
    }

    /// A leaf whose gradient is kept on the tape (read it with `gradient(of:)`).
    public func variable(_ value: Tensor) -> Variable {
        nodes.append(
            Node(
                value: value, gradient: nil, backward: nil, parameter: nil,
                requiresGradient: isRecording))
        return Variable(tape: self, index: nodes.count - 1)
    }

    /// A leaf bound to a parameter: its gradient accumulates into `parameter.gradient`.
    public func parameter(_ parameter: Parameter) -> Variable {
        nodes.append(
            Node(
                value: parameter.value, gradient: nil, backward: nil, parameter: parameter,
                requiresGradient: isRecording))
        return Variable(tape: self, index: nodes.count - 1)
    }

    /// Records the result of an operation.
    ///
    /// `backward` receives the gradient of the result and must call `accumulate(_:into:)` for
    /// each input that `requiresGradient`. It is dropped when no input needs a gradient or the
    /// tape is not recording.
    public func record(
        _ value: Tensor, inputs: [Variable], backward: @escaping (Tensor) -> Void
    ) -> Variable {
        let needs = isRecording && inputs.contains { nodes[$0.index].requiresGradient }
        nodes.append(
            Node(
                value: value, gradient: nil, backward: needs ? backward : nil, parameter: nil,
                requiresGradient: needs))
        return Variable(tape: self, index: nodes.count - 1)
    }

    /// Records an operation with several results that share one backward pass (a recurrent
    /// layer's output and final states).
    ///
    /// `backward` receives one gradient per result (nil for results that got none) and runs
    /// once, when the first result is reached in the reverse sweep; the other results are
    /// recorded after it and pass their gradients to it.
    public func recordMultiple(
        _ values: [Tensor], inputs: [Variable], backward: @escaping ([Tensor?]) -> Void
    ) -> [Variable] {
        precondition(!values.isEmpty, "Tape.recordMultiple: no values")
        let needs = isRecording && inputs.contains { nodes[$0.index].requiresGradient }
        let box = GradientBox(count: values.count)
        let primary = record(values[0], inputs: inputs) { g in
            box.gradients[0] = g
            backward(box.gradients)
        }
        guard needs else {
            return [primary] + values.dropFirst().map { constant($0) }
        }
        var results = [primary]
        for (k, value) in values.enumerated().dropFirst() {
            results.append(
                record(value, inputs: [primary]) { [unowned self] g in
                    box.gradients[k] = g
                    // Make sure the primary node runs even if its own result got no gradient.
                    if self.nodes[primary.index].gradient == nil {
                        self.nodes[primary.index].gradient = Tensor.zeros(values[0].shape)
                    }
                })
        }
        return results
    }

    /// Gradients collected for a multi-result node.
    private final class GradientBox {
        var gradients: [Tensor?]
        init(count: Int) { gradients = Array(repeating: nil, count: count) }
    }

    /// Whether gradients flow into this variable.
    public func requiresGradient(_ v: Variable) -> Bool { nodes[v.index].requiresGradient }

    /// Adds `gradient` to the accumulated gradient of `v` (or of its parameter).
    public func accumulate(_ gradient: Tensor, into v: Variable) {
        let i = v.index
        guard nodes[i].requiresGradient else { return }
        precondition(
            gradient.shape == nodes[i].value.shape,
            "Tape.accumulate: gradient shape \(gradient.shape) differs from value shape \(nodes[i].value.shape)"
        )
        if let parameter = nodes[i].parameter {
            parameter.accumulateGradient(gradient)
        } else if var existing = nodes[i].gradient {
            nodes[i].gradient = nil  // keep `existing` uniquely referenced: add in place
            existing += gradient
            nodes[i].gradient = existing
        } else {
            nodes[i].gradient = gradient
        }
    }

    /// Back-propagates from `root`, seeding its gradient with `seed` (default: ones, which for a
    /// scalar loss is d loss / d loss = 1).
    ///
    /// Consumes the graph: values and leaf gradients stay readable, but a second `backward` needs
    /// the operations recorded again (after `reset()`).
    public func backward(from root: Variable, seed: Tensor? = nil) {
        precondition(root.tape === self, "Tape.backward: variable belongs to another tape")
        let start = seed ?? Tensor.ones(nodes[root.index].value.shape)
        accumulate(start, into: root)
        for i in stride(from: root.index, through: 0, by: -1) {
            guard let g = nodes[i].gradient, let backward = nodes[i].backward else { continue }
            backward(g)
            // Intermediate gradients are no longer needed; leaves keep theirs.
            nodes[i].gradient = nil
        }
        // The graph is consumed, as in PyTorch without `retain_graph`. Backward closures
        // capture the variables they read, and variables hold their tape, so until they are
        // dropped every tape is a reference cycle: a fresh `Tape()` per training step that is
        // never reset leaked all its activations (85 MB per TCN step, measured).
        for i in nodes.indices { nodes[i].backward = nil }
    }

    /// The gradient accumulated for a leaf made with `variable(_:)` (nil if none flowed).
    public func gradient(of v: Variable) -> Tensor? { nodes[v.index].gradient }

    /// The value of a variable.
    public func value(of v: Variable) -> Tensor { nodes[v.index].value }
}

/// A handle to a value recorded on a `Tape`.
public struct Variable {
    /// The tape holding the value.
    public let tape: Tape
    /// Position on the tape.
    public let index: Int

    /// The value.
    public var value: Tensor { tape.value(of: self) }
    /// The value's shape.
    public var shape: [Int] { value.shape }
}
