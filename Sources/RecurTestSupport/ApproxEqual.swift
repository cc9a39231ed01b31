import RealModule
import RecurTensor

/// The largest element-wise difference between two tensors, absolute and relative.
public struct TensorDifference: CustomStringConvertible, Sendable {
    /// The largest absolute difference.
    public var maxAbsolute: Double
    /// The largest relative difference.
    public var maxRelative: Double
    /// Whether the two tensors have the same shape.
    public var shapesMatch: Bool
    /// The differences (or the shape mismatch) in one line.
    public var description: String {
        shapesMatch
            ? "max |Δ| = \(maxAbsolute), max relative Δ = \(maxRelative)" : "shapes differ"
    }
}

extension Tensor {
    /// Element-wise comparison against `other`: relative error uses max(|a|, |b|, floor).
    public func difference(from other: Tensor, floor: Double = 1e-6) -> TensorDifference {
        guard shape == other.shape else {
            return TensorDifference(
                maxAbsolute: .infinity, maxRelative: .infinity, shapesMatch: false)
        }
        var maxAbsolute = 0.0
        var maxRelative = 0.0
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                for i in 0..<a.count {
                    let x = Double(a[i])
                    let y = Double(b[i])
                    if x.isNaN || y.isNaN {
                        if x.isNaN != y.isNaN {
                            maxAbsolute = .infinity
                            maxRelative = .infinity
                        }
                        continue
                    }
                    if x == y { continue }
                    let d = abs(x - y)
                    maxAbsolute = Swift.max(maxAbsolute, d)
                    maxRelative = Swift.max(maxRelative, d / Swift.max(abs(x), abs(y), floor))
                }
            }
        }
        return TensorDifference(
            maxAbsolute: maxAbsolute, maxRelative: maxRelative, shapesMatch: true)
    }

    /// Whether every element is within `relativeTolerance · max(|a|, |b|)` or `absoluteTolerance`
    /// of `other`'s (swift-numerics `isApproximatelyEqual` semantics, element-wise).
    public func isApproximatelyEqual(
        to other: Tensor, relativeTolerance: Float = 1e-5, absoluteTolerance: Float = 1e-6
    ) -> Bool {
        guard shape == other.shape else { return false }
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                for i in 0..<a.count {
                    if !a[i].isApproximatelyEqual(
                        to: b[i], absoluteTolerance: absoluteTolerance,
                        relativeTolerance: relativeTolerance)
                    {
                        return false
                    }
                }
                return true
            }
        }
    }
}
