import RecurTensor

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay
/// (PyTorch's `optim.SGD`).
///
/// ```
/// g = ∇ + wd · p
/// b = μ b + (1 - dampening) g        (b = g on the first step)
/// g = g + μ b  (Nesterov)  or  g = b
/// p = p - lr · g
/// ```
public final class SGD: Optimizer {
    /// The learning rate (a schedule may change it between steps).
    public var learningRate: Float
    /// Momentum factor (0: plain SGD).
    public let momentum: Float
    /// Dampening of the momentum buffer's update.
    public let dampening: Float
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool
    /// L2 weight decay, added to the gradient.
    public let weightDecay: Float
    /// The parameters it updates, with their names.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Updates taken.
    public private(set) var stepCount = 0
    private var slots: OptimizerSlots

    /// SGD over `parameters` with PyTorch's defaults.
    public init(
        parameters: [(name: String, parameter: Parameter)], learningRate: Float,
        momentum: Float = 0,
        dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0
    ) {
        precondition(
            !nesterov || (momentum > 0 && dampening == 0),
            "SGD: Nesterov needs momentum > 0 and no dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        slots = OptimizerSlots(
            parameters: parameters, slotNames: momentum > 0 ? ["momentum_buffer"] : [])
    }

    /// Updates every parameter from its gradient, then zeroes the gradients.
    public func step() {
        let first = stepCount == 0
        let (lr, mu, damp, wd, nesterov) = (
            learningRate, momentum, dampening, weightDecay, self.nesterov
        )
        for (i, (_, p)) in parameters.enumerated() {
            withBuffers(p, &slots.slots, index: i) { value, gradient, s, n in
                for j in 0..<n {
                    var g = gradient[j] + wd * value[j]
                    if mu > 0 {
                        let b = first ? g : mu * s[0][j] + (1 - damp) * g
                        s[0][j] = b
                        g = nesterov ? g + mu * b : b
                    }
                    value[j] -= lr * g
                }
            }
            p.zeroGradient()
        }
        stepCount += 1
    }

    /// The optimizer's state (step count and per-parameter buffers), for checkpoints.
    public var state: OptimizerState {
        OptimizerState(kind: "sgd", step: stepCount, tensors: slots.snapshot())
    }

    /// Restores a `state` taken from an optimizer of the same kind over the same parameters.
    public func load(_ state: OptimizerState) throws {
        try checkKind(state, "sgd")
        try slots.load(state.tensors, kind: "sgd")
        stepCount = state.step
    }
}
