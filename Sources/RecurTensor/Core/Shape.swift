/// Helpers for row-major shapes: element counts, strides, offsets and broadcasting.
public enum Shape {
    /// The number of elements of a tensor of this shape (1 for rank 0).
    @inlinable
    public static func count(of shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// Traps with a message naming `op` if a dimension is negative.
    @inlinable
    public static func validate(_ shape: [Int], in op: String) {
        for d in shape {
            precondition(d >= 0, "\(op): negative dimension in shape \(shape)")
        }
    }

    /// Row-major strides, in elements.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The flat offset of a full index; traps when it is out of range.
    public static func offset(of index: [Int], in shape: [Int]) -> Int {
        precondition(
            index.count == shape.count,
            "Tensor subscript: index \(index) has \(index.count) components for shape \(shape)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(
                i >= 0 && i < shape[axis],
                "Tensor subscript: index \(index) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// Normalizes a possibly negative axis (`-1` is the last) for a tensor of `rank`.
    public static func axis(_ axis: Int, rank: Int, in op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
        return a
    }

    /// The NumPy broadcast of two shapes; traps naming both shapes when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int], in op: String) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(
                da == db || da == 1 || db == 1,
                "\(op): shapes \(a) and \(b) cannot be broadcast together")
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Strides for reading a tensor of `shape` as if broadcast to `target` (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(of: shape)
        let pad = target.count - shape.count
        return (0..<target.count).map { i in
            i < pad || shape[i - pad] == 1 ? 0 : own[i - pad]
        }
    }
}
