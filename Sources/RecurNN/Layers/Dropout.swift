import RecurTensor

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
/// by 1/(1-p); in evaluation, the identity (PyTorch `nn.Dropout`).
public final class Dropout: Module {
    /// Probability of zeroing an element.
    public let probability: Float
    public var isTraining = true

    public init(probability: Float) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
    }

    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {}

    /// A mask of 0 and 1/(1-p), drawn in row-major order from `rng`.
    public static func mask(shape: [Int], probability p: Float, rng: inout Xoshiro256) -> Tensor {
        var mask = Tensor(uninitializedShape: shape)
        let scale = 1 / (1 - p)
        mask.withUnsafeMutableBufferPointer { m in
            for i in 0..<m.count { m[i] = rng.nextFloat() < p ? 0 : scale }
        }
        return mask
    }

    /// Applies dropout to a tape variable (identity in evaluation mode or with p = 0).
    public func callAsFunction(_ x: Variable, rng: inout Xoshiro256) -> Variable {
        guard isTraining && probability > 0 else { return x }
        return x * x.tape.constant(Dropout.mask(shape: x.shape, probability: probability, rng: &rng))
    }

    /// Applies dropout to a tensor.
    public func callAsFunction(_ x: Tensor, rng: inout Xoshiro256) -> Tensor {
        guard isTraining && probability > 0 else { return x }
        return x * Dropout.mask(shape: x.shape, probability: probability, rng: &rng)
    }
}
