import RealModule
import RecurTensor

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as PyTorch computes them.
///
/// ```
/// Adam:  g = ∇ + wd · p                  AdamW:  p = p · (1 - lr · wd),  g = ∇
/// m = β1 m + (1 - β1) g
/// v = β2 v + (1 - β2) g²
/// p = p - (lr / (1 - β1^t)) · m / (√v / √(1 - β2^t) + ε)
/// ```
public final class Adam: Optimizer {
    /// The learning rate (a schedule may change it between steps).
    public var learningRate: Float
    /// Decay of the first-moment (mean) estimate.
    public let beta1: Float
    /// Decay of the second-moment (uncentered variance) estimate.
    public let beta2: Float
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// L2 weight decay, added to the gradient.
    public let weightDecay: Float
    /// Decoupled weight decay (AdamW) instead of L2 added to the gradient.
    public let decoupledWeightDecay: Bool
    /// The parameters it updates, with their names.
    public let parameters: [(name: String, parameter: Parameter)]
    /// Updates taken (Adam's bias correction uses it).
    public private(set) var stepCount = 0
    private var slots: OptimizerSlots

    /// Adam over `parameters` with PyTorch's defaults; `decoupledWeightDecay` makes it AdamW.
    public init(
        parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
        decoupledWeightDecay: Bool = false
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        slots = OptimizerSlots(parameters: parameters, slotNames: ["exp_avg", "exp_avg_sq"])
    }

    /// AdamW with PyTorch's default weight decay of 0.01.
    public static func adamW(
        parameters: [(name: String, parameter: Parameter)], learningRate: Float = 1e-3,
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01
    ) -> Adam {
        Adam(
            parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2,
            epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    private var kind: String { decoupledWeightDecay ? "adamw" : "adam" }

    /// Updates every parameter from its gradient, then zeroes the gradients.
    public func step() {
        stepCount += 1
        let t = Float(stepCount)
        let (b1, b2, eps, lr, wd) = (beta1, beta2, epsilon, learningRate, weightDecay)
        let correction1 = 1 - Float.pow(b1, t)
        let correction2Root = (1 - Float.pow(b2, t)).squareRoot()
        let stepSize = lr / correction1
        let decay = decoupledWeightDecay ? 1 - lr * wd : 1
        let l2 = decoupledWeightDecay ? 0 : wd
        for (i, (_, p)) in parameters.enumerated() {
            withBuffers(p, &slots.slots, index: i) { value, gradient, s, n in
                let m = s[0]
                let v = s[1]
                // Element-wise, so the split across threads cannot change the result.
                ThreadPool.shared.parallelRanges(count: n, granularity: 8192) { range in
                    var j = range.lowerBound
                    while j + 16 <= range.upperBound {
                        var pv = UnsafeRawPointer(value + j).loadUnaligned(as: SIMD16<Float>.self)
                        pv = pv * decay
                        let g =
                            UnsafeRawPointer(gradient + j).loadUnaligned(as: SIMD16<Float>.self)
                            + l2 * pv
                        let mv =
                            b1 * UnsafeRawPointer(m + j).loadUnaligned(as: SIMD16<Float>.self)
                            + (1 - b1) * g
                        let vv =
                            b2 * UnsafeRawPointer(v + j).loadUnaligned(as: SIMD16<Float>.self)
                            + (1 - b2) * (g * g)
                        let denominator = vv.squareRoot() / correction2Root + eps
                        pv = pv - stepSize * (mv / denominator)
                        UnsafeMutableRawPointer(m + j).storeBytes(of: mv, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(v + j).storeBytes(of: vv, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(value + j).storeBytes(
                            of: pv, as: SIMD16<Float>.self)
                        j += 16
                    }
                    while j < range.upperBound {
                        let pv = value[j] * decay
                        let g = gradient[j] + l2 * pv
                        m[j] = b1 * m[j] + (1 - b1) * g
                        v[j] = b2 * v[j] + (1 - b2) * (g * g)
                        value[j] =
                            pv - stepSize * (m[j] / (v[j].squareRoot() / correction2Root + eps))
                        j += 1
                    }
                }
            }
            p.zeroGradient()
        }
    }

    /// The optimizer's state (step count and per-parameter buffers), for checkpoints.
    public var state: OptimizerState {
        OptimizerState(kind: kind, step: stepCount, tensors: slots.snapshot())
    }

    /// Restores a `state` taken from an optimizer of the same kind over the same parameters.
    public func load(_ state: OptimizerState) throws {
        try checkKind(state, kind)
        try slots.load(state.tensors, kind: kind)
        stepCount = state.step
    }
}
