// Factory functions: constant, range and seeded random tensors.

extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// A tensor with every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, repeating: value)
    }

    /// A tensor of zeros with the same shape as `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// The rank-1 tensor `start, start + step, …` up to but excluding `end`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0 && step.isFinite, "Tensor.arange: step must be finite and non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        var t = Tensor(uninitializedShape: [n])
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = start + Float(i) * step }
        }
        return t
    }

    /// The rank-1 tensor `0, 1, …, count - 1`.
    public static func arange(_ count: Int) -> Tensor { arange(0, Float(count)) }

    /// The n×n identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        var t = zeros([n, n])
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i * n + i] = 1 }
        }
        return t
    }

    /// Independent uniform samples from `range`, drawn from `rng` in row-major order.
    public static func uniform(
        _ shape: [Int], in range: ClosedRange<Float>, using rng: inout some RandomNumberGenerator
    ) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let low = range.lowerBound
        let width = range.upperBound - range.lowerBound
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = low + width * rng.nextFloat() }
        }
        return t
    }

    /// Independent normal samples, drawn from `rng` in row-major order.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
        using rng: inout some RandomNumberGenerator
    ) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = mean + standardDeviation * rng.nextGaussian() }
        }
        return t
    }
}
