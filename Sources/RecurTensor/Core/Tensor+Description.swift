// Printing: NumPy-like nested brackets, elided in the middle for large tensors.

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// Nested rows in brackets, for example `[[1.0, 2.0], [3.0, 4.0]]`; dimensions longer than
    /// 8 show their first and last 3 entries around `...`.
    public var description: String {
        if rank == 0 { return format(storage.base[0]) }
        var out = ""
        withUnsafeBufferPointer { buffer in
            describe(buffer, axis: 0, offset: 0, strides: Shape.strides(of: shape), into: &out)
        }
        return out
    }

    /// The shape followed by the elements.
    public var debugDescription: String { "Tensor(shape: \(shape), \(description))" }

    private func describe(
        _ buffer: UnsafeBufferPointer<Float>, axis: Int, offset: Int, strides: [Int],
        into out: inout String
    ) {
        let n = shape[axis]
        let indices: [Int?] = n > 8 ? [0, 1, 2, nil, n - 3, n - 2, n - 1] : (0..<n).map { $0 }
        out += "["
        for (position, index) in indices.enumerated() {
            if position > 0 {
                out += axis == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1)
            }
            guard let index else {
                out += "..."
                continue
            }
            let o = offset + index * strides[axis]
            if axis == rank - 1 {
                out += format(buffer[o])
            } else {
                describe(buffer, axis: axis + 1, offset: o, strides: strides, into: &out)
            }
        }
        out += "]"
    }

    private func format(_ x: Float) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }
}
