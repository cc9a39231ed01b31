// Numerically stable softmax and log-softmax over the last axis.

extension Tensor {
    /// Softmax over the last axis: exp(x - max) / Σ exp(x - max), stable for any finite input.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "Tensor.softmax: needs rank ≥ 1, got shape \(shape)")
        var result = Tensor(uninitializedShape: shape)
        let n = shape[rank - 1]
        guard n > 0 else { return result }
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for row in 0..<(count / n) {
                    Softmax.row(sb + row * n, db + row * n, count: n)
                }
            }
        }
        return result
    }

    /// log-softmax over the last axis: x - max - log Σ exp(x - max).
    public func logSoftmax() -> Tensor {
        precondition(rank >= 1, "Tensor.logSoftmax: needs rank ≥ 1, got shape \(shape)")
        var result = Tensor(uninitializedShape: shape)
        let n = shape[rank - 1]
        guard n > 0 else { return result }
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for row in 0..<(count / n) {
                    Softmax.logRow(sb + row * n, db + row * n, count: n)
                }
            }
        }
        return result
    }
}

/// Row kernels shared by the tensor ops, the fused cross-entropy loss and samplers.
public enum Softmax {
    /// y = softmax(x) for one row of `count` elements (y may alias x).
    ///
    /// Returns log Σ exp(x).
    @discardableResult
    @inlinable
    public static func row(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
        -> Float
    {
        let m = VectorMath.maximum(x, count: count)
        guard m.isFinite else { return rowNonFinite(x, y, count: count, maximum: m) }
        VectorMath.map(x, y, count: count, LaneFunctions.ShiftedExp(shift: m))
        let total = VectorMath.sum(y, count: count)
        let inverse = 1 / total
        VectorMath.map(y, y, count: count, LaneFunctions.Affine(scale: inverse, shift: 0))
        return m + logf(total)
    }

    /// y = log softmax(x) for one row (y may alias x).
    ///
    /// Returns log Σ exp(x).
    @discardableResult
    @inlinable
    public static func logRow(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    )
        -> Float
    {
        let m = VectorMath.maximum(x, count: count)
        guard m.isFinite else {
            let lse = rowNonFinite(x, y, count: count, maximum: m)
            VectorMath.map(x, y, count: count, LaneFunctions.Affine(scale: 1, shift: -lse))
            return lse
        }
        var total: Float = 0
        var i = 0
        var acc = SIMD16<Float>(repeating: 0)
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            acc += VectorMath.exp(v - m)
            i += 16
        }
        if i < count {
            acc += VectorMath.exp(VectorMath.load(x + i, count: count - i, fill: -.infinity) - m)
        }
        total = acc.sum()
        // (x - m) - log Σ: subtracting m first keeps small differences exact for large x.
        let logTotal = logf(total)
        VectorMath.map(x, y, count: count, LaneFunctions.ShiftTwice(m, logTotal))
        return m + logTotal
    }

    /// Rows whose maximum is ±inf or NaN: +inf entries share the mass, NaN propagates.
    @usableFromInline
    static func rowNonFinite(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, maximum m: Float
    ) -> Float {
        if m.isNaN || m == -.infinity {
            // All -inf: undefined (0/0), as in PyTorch.
            for i in 0..<count { y[i] = .nan }
            return .nan
        }
        var infinities = 0
        for i in 0..<count where x[i] == .infinity { infinities += 1 }
        for i in 0..<count { y[i] = x[i] == .infinity ? 1 / Float(infinities) : 0 }
        return .infinity
    }
}

#if canImport(Glibc)
    import Glibc
#endif
