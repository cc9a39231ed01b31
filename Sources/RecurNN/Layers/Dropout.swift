import RecurTensor

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
/// by 1/(1-p); in evaluation, the identity (PyTorch `nn.Dropout`).
public final class Dropout: Layer {
    /// Probability of zeroing an element.
    public let probability: Float
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// Dropout that zeroes each element with `probability` in training.
    public init(probability: Float) {
        precondition(
            probability >= 0 && probability < 1,
            "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
    }

    /// Visits nothing: the layer has no parameters.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {}

    /// Elements per independently seeded block of a mask.
    static let block = 4096

    /// A mask of 0 and 1/(1-p).
    ///
    /// One draw from `rng` seeds the mask; block j of 4096 elements
    /// comes from its own generator seeded with that draw and j, so blocks fill in parallel and
    /// the mask is the same for any thread count.
    public static func mask(shape: [Int], probability p: Float, rng: inout Xoshiro256) -> Tensor {
        var mask = Tensor(uninitializedShape: shape)
        mask.withUnsafeMutableBufferPointer { m in
            guard let base = m.baseAddress else { return }
            fillMask(base, count: m.count, probability: p, rng: &rng)
        }
        return mask
    }

    /// Writes the mask `mask(shape:probability:rng:)` would make into `count` floats at `mask`
    /// (for callers that keep a workspace instead of allocating one per step).
    public static func fillMask(
        _ mask: UnsafeMutablePointer<Float>, count: Int, probability p: Float, rng: inout Xoshiro256
    ) {
        let scale = 1 / (1 - p)
        // nextFloat() < p, in integers: the top 24 bits k drop the element when k·2⁻²⁴ < p,
        // that is when k < ⌈p·2²⁴⌉.
        let threshold = UInt64((Double(p) * 0x1p24).rounded(.up))
        let seed = rng.next()
        // Chunk bounds are multiples of the block, so every block is filled by one thread.
        Tensor.forEachChunk(count: count, granularity: block) { range in
            for start in stride(from: range.lowerBound, to: range.upperBound, by: block) {
                var generator = Xoshiro256(
                    seed: seed ^ (UInt64(start / block) &* 0x9E37_79B9_7F4A_7C15))
                for i in start..<min(range.upperBound, start + block) {
                    mask[i] = generator.next() >> 40 < threshold ? 0 : scale
                }
            }
        }
    }

    /// Applies dropout to a tape variable in a training pass (the identity in inference, in
    /// evaluation mode or with p = 0), drawing the mask from the context's generator.
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        guard context.isTraining(self) && probability > 0 else { return x }
        let mask = Dropout.mask(shape: x.shape, probability: probability, rng: &context.generator)
        return x * x.tape.constant(mask)
    }
}
