// Reductions over one axis (sum, mean, max, argmax) and over all elements.
// An axis reduction views the tensor as [outer, n, inner] with n the reduced dimension.

extension Tensor {
    /// (outer, n, inner) for a reduction over `axis`.
    func reductionGeometry(_ axis: Int, op: String) -> (outer: Int, n: Int, inner: Int, axis: Int) {
        let a = Shape.axis(axis, rank: rank, in: op)
        return (
            Shape.count(of: Array(shape[..<a])), shape[a],
            Shape.count(of: Array(shape[(a + 1)...])), a
        )
    }

    func reducedShape(_ axis: Int, keepingDimension: Bool) -> [Int] {
        var s = shape
        if keepingDimension { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    /// The sum of all elements (accumulated in Float64 for accuracy).
    public func sum() -> Float {
        withUnsafeBufferPointer { p in
            var total = 0.0
            var i = 0
            while i < p.count {
                let end = min(i + 256, p.count)
                var partial: Float = 0
                if let base = p.baseAddress { partial = VectorMath.sum(base + i, count: end - i) }
                total += Double(partial)
                i = end
            }
            return Float(total)
        }
    }

    /// The mean of all elements (NaN for an empty tensor).
    public func mean() -> Float { count == 0 ? .nan : sum() / Float(count) }

    /// Sums over `axis`; the axis is removed unless `keepingDimension`.
    public func sum(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let g = reductionGeometry(axis, op: "Tensor.sum(axis:)")
        var result = Tensor(
            shape: reducedShape(g.axis, keepingDimension: keepingDimension), repeating: 0)
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for o in 0..<g.outer {
                    let block = sb + o * g.n * g.inner
                    if g.inner == 1 {
                        db[o] = VectorMath.sum(block, count: g.n)
                    } else {
                        let out = db + o * g.inner
                        for j in 0..<g.n {
                            VectorMath.axpy(1, block + j * g.inner, out, count: g.inner)
                        }
                    }
                }
            }
        }
        return result
    }

    /// Means over `axis`.
    public func mean(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let a = Shape.axis(axis, rank: rank, in: "Tensor.mean(axis:)")
        return sum(axis: a, keepingDimension: keepingDimension) * (1 / Float(shape[a]))
    }

    /// Maximum over `axis` (the dimension must be non-empty).
    public func max(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let g = reductionGeometry(axis, op: "Tensor.max(axis:)")
        precondition(g.n > 0, "Tensor.max(axis:): axis \(g.axis) of shape \(shape) is empty")
        let indices = argmaxIndices(g)
        var result = Tensor(
            uninitializedShape: reducedShape(g.axis, keepingDimension: keepingDimension))
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                for o in 0..<g.outer {
                    for i in 0..<g.inner {
                        d[o * g.inner + i] = s[(o * g.n + indices[o * g.inner + i]) * g.inner + i]
                    }
                }
            }
        }
        return result
    }

    /// Indices of the maximum along `axis`, in row-major order of the reduced shape (the first
    /// maximum wins; NaN counts as the maximum).
    public func argmax(axis: Int) -> [Int] {
        let g = reductionGeometry(axis, op: "Tensor.argmax(axis:)")
        precondition(g.n > 0, "Tensor.argmax(axis:): axis \(g.axis) of shape \(shape) is empty")
        return argmaxIndices(g)
    }

    /// The flat index of the largest element.
    public func argmax() -> Int {
        precondition(count > 0, "Tensor.argmax: empty tensor")
        return reshaped([count]).argmax(axis: 0)[0]
    }

    /// The largest element.
    public func max() -> Float {
        precondition(count > 0, "Tensor.max: empty tensor")
        return withUnsafeBufferPointer { p in
            guard let b = p.baseAddress else { return .nan }
            return VectorMath.maximum(b, count: p.count)
        }
    }

    private func argmaxIndices(_ g: (outer: Int, n: Int, inner: Int, axis: Int)) -> [Int] {
        var result = [Int](repeating: 0, count: g.outer * g.inner)
        withUnsafeBufferPointer { s in
            for o in 0..<g.outer {
                for i in 0..<g.inner {
                    var best = 0
                    var bestValue = s[o * g.n * g.inner + i]
                    if !bestValue.isNaN {
                        for j in 1..<Swift.max(g.n, 1) {
                            let v = s[(o * g.n + j) * g.inner + i]
                            if v.isNaN {
                                best = j
                                break
                            }
                            if v > bestValue {
                                bestValue = v
                                best = j
                            }
                        }
                    }
                    result[o * g.inner + i] = best
                }
            }
        }
        return result
    }

    /// Sums this tensor down to `target`, the inverse of broadcasting `target` to this shape.
    ///
    /// Used by the gradients of broadcasting operators.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        var result = self
        // Leading axes that `target` lacks.
        while result.rank > target.count { result = result.sum(axis: 0) }
        for axis in 0..<target.count where target[axis] == 1 && result.shape[axis] != 1 {
            result = result.sum(axis: axis, keepingDimension: true)
        }
        precondition(
            result.shape == target, "Tensor.summed(toShape:): \(shape) does not reduce to \(target)"
        )
        return result
    }
}
