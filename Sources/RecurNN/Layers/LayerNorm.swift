import RecurTensor

/// Layer normalization over the last dimension, as PyTorch's `nn.LayerNorm(D)`.
///
/// ```
/// y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta     (biased variance)
/// ```
/// Shapes: x `[…, D]` → y `[…, D]`; `weight` (gamma) and `bias` (beta) `[D]`, initialized to 1
/// and 0.
public final class LayerNorm: Module {
    /// The per-feature gain γ, initialized to 1.
    public let weight: Parameter
    /// The per-feature shift β, initialized to 0.
    public let bias: Parameter
    /// Added to the denominator for numerical stability.
    public let epsilon: Float
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// Normalization over `size` features (γ = 1, β = 0).
    public init(size: Int, epsilon: Float = 1e-5) {
        precondition(size > 0, "LayerNorm: size must be positive")
        weight = Parameter(Tensor.ones([size]))
        bias = Parameter(Tensor.zeros([size]))
        self.epsilon = epsilon
    }

    /// Visits `weight` and `bias` (PyTorch's names).
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.parameter("weight", weight))
        visit(.parameter("bias", bias))
    }

    /// Forward as one tape node with a fused backward:
    /// dx = (1/σ) (ĝ - mean(ĝ) - x̂ mean(ĝ ⊙ x̂)), ĝ = dy ⊙ gamma.
    public func callAsFunction(_ x: Variable) -> Variable {
        let input = x.value
        let d = weight.shape[0]
        precondition(input.shape.last == d, "LayerNorm: input \(input.shape) must end in \(d)")
        let rows = input.count / d
        var normalized = Tensor(uninitializedShape: input.shape)
        var inverseStd = [Float](repeating: 0, count: rows)
        var y = Tensor(uninitializedShape: input.shape)
        input.withUnsafeBufferPointer { xs in
            normalized.withUnsafeMutableBufferPointer { ns in
                y.withUnsafeMutableBufferPointer { ys in
                    weight.value.withUnsafeBufferPointer { g in
                        bias.value.withUnsafeBufferPointer { b in
                            for r in 0..<rows {
                                var mean = 0.0
                                for j in 0..<d { mean += Double(xs[r * d + j]) }
                                mean /= Double(d)
                                var variance = 0.0
                                for j in 0..<d {
                                    let c = Double(xs[r * d + j]) - mean
                                    variance += c * c
                                }
                                variance /= Double(d)
                                let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                                inverseStd[r] = inv
                                for j in 0..<d {
                                    let n = (xs[r * d + j] - Float(mean)) * inv
                                    ns[r * d + j] = n
                                    ys[r * d + j] = n * g[j] + b[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        let tape = x.tape
        let inputs = [x, tape.parameter(weight), tape.parameter(bias)]
        let gamma = weight.value
        return tape.record(y, inputs: inputs) { [weight, bias] g in
            var dx = Tensor(uninitializedShape: input.shape)
            g.withUnsafeBufferPointer { gs in
                normalized.withUnsafeBufferPointer { ns in
                    gamma.withUnsafeBufferPointer { gm in
                        dx.withUnsafeMutableBufferPointer { dxs in
                            weight.gradient.withUnsafeMutableBufferPointer { dg in
                                bias.gradient.withUnsafeMutableBufferPointer { db in
                                    for r in 0..<rows {
                                        var meanG: Float = 0
                                        var meanGX: Float = 0
                                        for j in 0..<d {
                                            let gh = gs[r * d + j] * gm[j]
                                            meanG += gh
                                            meanGX += gh * ns[r * d + j]
                                            dg[j] += gs[r * d + j] * ns[r * d + j]
                                            db[j] += gs[r * d + j]
                                        }
                                        meanG /= Float(d)
                                        meanGX /= Float(d)
                                        for j in 0..<d {
                                            let gh = gs[r * d + j] * gm[j]
                                            dxs[r * d + j] =
                                                inverseStd[r]
                                                * (gh - meanG - ns[r * d + j] * meanGX)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            tape.accumulate(dx, into: x)
        }
    }
}
