import RecurTensor

/// RMSProp (Tieleman & Hinton 2012) as in PyTorch's `optim.RMSprop`.
///
/// ```
/// g = ∇ + wd · p
/// v = α v + (1 - α) g²
/// d = √v + ε      (centered: d = √(v - ḡ²) + ε with ḡ = α ḡ + (1 - α) g)
/// b = μ b + g / d,  p = p - lr · b      (without momentum: p = p - lr · g / d)
/// ```
public final class RMSProp: Optimizer {
    /// The learning rate (a schedule may change it between steps).
    public var learningRate: Float
    /// The smoothing constant of the squared-gradient average.
    public let alpha: Float
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// Momentum factor (0: none).
    public let momentum: Float
    /// Whether to divide by the gradient's estimated variance instead of its second moment.
    public let centered: Bool
    /// L2 weight decay, added to the gradient.
    public let weightDecay: Float
    /// The parameters it updates, with their names.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Updates taken.
    public private(set) var stepCount = 0
    private var slots: OptimizerSlots

    /// RMSProp over `parameters` with PyTorch's defaults.
    public init(
        parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-2,
        alpha: Float = 0.99,
        epsilon: Float = 1e-8, momentum: Float = 0, centered: Bool = false, weightDecay: Float = 0
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        self.weightDecay = weightDecay
        var names = ["square_avg"]
        if momentum > 0 { names.append("momentum_buffer") }
        if centered { names.append("grad_avg") }
        slots = OptimizerSlots(parameters: parameters, slotNames: names)
    }

    /// Updates every parameter from its gradient, then zeroes the gradients.
    public func step() {
        let (lr, a, eps, mu, wd, centered) = (
            learningRate, alpha, epsilon, momentum, weightDecay, self.centered
        )
        for (i, (_, p)) in parameters.enumerated() {
            withBuffers(p, &slots.slots, index: i) { value, gradient, s, n in
                let v = s[0]
                let buffer: UnsafeMutablePointer<Float>? = mu > 0 ? s[1] : nil
                let average: UnsafeMutablePointer<Float>? = centered ? s[mu > 0 ? 2 : 1] : nil
                for j in 0..<n {
                    let g = gradient[j] + wd * value[j]
                    v[j] = a * v[j] + (1 - a) * g * g
                    let d: Float
                    if let average {
                        average[j] = a * average[j] + (1 - a) * g
                        d = (v[j] - average[j] * average[j]).squareRoot() + eps
                    } else {
                        d = v[j].squareRoot() + eps
                    }
                    if let buffer {
                        buffer[j] = mu * buffer[j] + g / d
                        value[j] -= lr * buffer[j]
                    } else {
                        value[j] -= lr * g / d
                    }
                }
            }
            p.zeroGradient()
        }
        stepCount += 1
    }

    /// The optimizer's state (step count and per-parameter buffers), for checkpoints.
    public var state: OptimizerState {
        OptimizerState(kind: "rmsprop", step: stepCount, tensors: slots.snapshot())
    }

    /// Restores a `state` taken from an optimizer of the same kind over the same parameters.
    public func load(_ state: OptimizerState) throws {
        try checkKind(state, "rmsprop")
        try slots.load(state.tensors, kind: "rmsprop")
        stepCount = state.step
    }
}

/// Adagrad (Duchi et al. 2011) as in PyTorch `optim.Adagrad`:
/// ```
/// g = ∇ + wd · p,   s = s + g²,   lr_t = lr / (1 + (t - 1) · lr_decay)
/// p = p - lr_t · g / (√s + ε)
/// ```
public final class Adagrad: Optimizer {
    /// The learning rate (a schedule may change it between steps).
    public var learningRate: Float
    /// The rate is divided by `1 + (step - 1) · learningRateDecay`.
    public let learningRateDecay: Float
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// L2 weight decay, added to the gradient.
    public let weightDecay: Float
    /// The parameters it updates, with their names.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Updates taken.
    public private(set) var stepCount = 0
    private var slots: OptimizerSlots

    /// Adagrad over `parameters` with PyTorch's defaults.
    public init(
        parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-2,
        learningRateDecay: Float = 0, epsilon: Float = 1e-10, weightDecay: Float = 0,
        initialAccumulator: Float = 0
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.learningRateDecay = learningRateDecay
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        slots = OptimizerSlots(parameters: parameters, slotNames: ["sum"])
        if initialAccumulator != 0 {
            for i in slots.slots[0].indices { slots.slots[0][i].fill(initialAccumulator) }
        }
    }

    /// Updates every parameter from its gradient, then zeroes the gradients.
    public func step() {
        stepCount += 1
        let lr = learningRate / (1 + Float(stepCount - 1) * learningRateDecay)
        let (eps, wd) = (epsilon, weightDecay)
        for (i, (_, p)) in parameters.enumerated() {
            withBuffers(p, &slots.slots, index: i) { value, gradient, s, n in
                for j in 0..<n {
                    let g = gradient[j] + wd * value[j]
                    s[0][j] += g * g
                    value[j] -= lr * g / (s[0][j].squareRoot() + eps)
                }
            }
            p.zeroGradient()
        }
    }

    /// The optimizer's state (step count and per-parameter buffers), for checkpoints.
    public var state: OptimizerState {
        OptimizerState(kind: "adagrad", step: stepCount, tensors: slots.snapshot())
    }

    /// Restores a `state` taken from an optimizer of the same kind over the same parameters.
    public func load(_ state: OptimizerState) throws {
        try checkKind(state, "adagrad")
        try slots.load(state.tensors, kind: "adagrad")
        stepCount = state.step
    }
}
