// Reshape, transpose/permute, slicing along the first axis, concatenate/stack/split.
// Every result is contiguous; only `reshaped` shares storage with its input.

extension Tensor {
    /// The same elements with a new shape of equal element count; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.reduce(1) {
                $0 * $1.element
            }
            precondition(
                known > 0 && count % known == 0,
                "Tensor.reshaped: cannot reshape \(shape) into \(newShape)")
            resolved[unknown] = count / known
        }
        Shape.validate(resolved, in: "Tensor.reshaped")
        precondition(
            Shape.count(of: resolved) == count,
            "Tensor.reshaped: cannot reshape \(shape) (\(count) elements) into \(newShape)")
        return Tensor(shape: resolved, storage: storage)
    }

    /// The matrix transpose of a rank-2 tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "Tensor.transposed: needs rank 2, got shape \(shape)")
        return permuted([1, 0])
    }

    /// The tensor with its axes reordered: result axis i is this tensor's axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.count == rank && Set(axes) == Set(0..<rank),
            "Tensor.permuted: \(axes) is not a permutation of the axes of shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let sourceStrides = Shape.strides(of: shape)
        let readStrides = axes.map { sourceStrides[$0] }
        var result = Tensor(uninitializedShape: newShape)
        if count == 0 { return result }
        withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { destination in
                guard let s = source.baseAddress, let d = destination.baseAddress else { return }
                let r = newShape.count
                // 2-D blocks for the common matrix transpose keep both sides cache-friendly.
                if r == 2 {
                    let (rows, columns) = (newShape[0], newShape[1])
                    let (rs, cs) = (readStrides[0], readStrides[1])
                    let block = 32
                    for i0 in stride(from: 0, to: rows, by: block) {
                        for j0 in stride(from: 0, to: columns, by: block) {
                            for i in i0..<min(i0 + block, rows) {
                                for j in j0..<min(j0 + block, columns) {
                                    d[i * columns + j] = s[i * rs + j * cs]
                                }
                            }
                        }
                    }
                    return
                }
                var index = [Int](repeating: 0, count: r)
                var offset = 0
                let inner = newShape[r - 1]
                let innerStride = readStrides[r - 1]
                var out = 0
                while out < destination.count {
                    for j in 0..<inner { d[out + j] = s[offset + j * innerStride] }
                    out += inner
                    var axis = r - 2
                    while axis >= 0 {
                        index[axis] += 1
                        offset += readStrides[axis]
                        if index[axis] < newShape[axis] { break }
                        offset -= readStrides[axis] * newShape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return result
    }

    /// Swaps two axes.
    public func transposed(_ axis0: Int, _ axis1: Int) -> Tensor {
        var axes = Array(0..<rank)
        let a = Shape.axis(axis0, rank: rank, in: "Tensor.transposed")
        let b = Shape.axis(axis1, rank: rank, in: "Tensor.transposed")
        axes.swapAt(a, b)
        return permuted(axes)
    }

    /// The sub-tensor at `index` along the first axis (rank drops by one).
    public subscript(_ index: Int) -> Tensor {
        precondition(rank >= 1, "Tensor[\(index)]: rank-0 tensor cannot be indexed")
        precondition(
            index >= 0 && index < shape[0],
            "Tensor[\(index)]: index out of range for shape \(shape)")
        return self[index..<(index + 1)].reshaped(Array(shape.dropFirst()))
    }

    /// The rows in `range` along the first axis.
    public subscript(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1, "Tensor[\(range)]: rank-0 tensor cannot be sliced")
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[0],
            "Tensor[\(range)]: range out of bounds for shape \(shape)")
        var newShape = shape
        newShape[0] = range.count
        let rowSize = shape.count > 1 ? Shape.count(of: Array(shape.dropFirst())) : 1
        var result = Tensor(uninitializedShape: newShape)
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                db.update(from: sb + range.lowerBound * rowSize, count: range.count * rowSize)
            }
        }
        return result
    }

    /// The rows at `indices` along the first axis (a gather; indices may repeat).
    public func gathering(rows indices: [Int]) -> Tensor {
        precondition(rank >= 1, "Tensor.gathering: rank-0 tensor")
        let rowSize = count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = indices.count
        var result = Tensor(uninitializedShape: newShape)
        withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { d in
                guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                for (i, row) in indices.enumerated() {
                    precondition(
                        row >= 0 && row < shape[0],
                        "Tensor.gathering: row \(row) out of range for shape \(shape)")
                    (db + i * rowSize).update(from: sb + row * rowSize, count: rowSize)
                }
            }
        }
        return result
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.concatenate: no tensors")
        let first = tensors[0]
        let a = Shape.axis(axis, rank: first.rank, in: "Tensor.concatenate")
        for t in tensors {
            precondition(
                t.rank == first.rank
                    && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                "Tensor.concatenate: shapes \(first.shape) and \(t.shape) differ outside axis \(a)")
        }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = Shape.count(of: Array(first.shape[..<a]))
        let inner = Shape.count(of: Array(first.shape[(a + 1)...]))
        var result = Tensor(uninitializedShape: shape)
        result.withUnsafeMutableBufferPointer { d in
            guard let db = d.baseAddress else { return }
            let outRow = shape[a] * inner
            var column = 0
            for t in tensors {
                let run = t.shape[a] * inner
                t.withUnsafeBufferPointer { s in
                    guard let sb = s.baseAddress else { return }
                    for o in 0..<outer {
                        (db + o * outRow + column).update(from: sb + o * run, count: run)
                    }
                }
                column += run
            }
        }
        return result
    }

    /// Stacks equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "Tensor.stack: no tensors")
        let shape = tensors[0].shape
        for t in tensors {
            precondition(t.shape == shape, "Tensor.stack: shapes \(shape) and \(t.shape) differ")
        }
        let a = Shape.axis(axis, rank: shape.count + 1, in: "Tensor.stack")
        var expanded = shape
        expanded.insert(1, at: a)
        return concatenate(tensors.map { $0.reshaped(expanded) }, axis: a)
    }

    /// Splits along `axis` into pieces of the given sizes (which must add up to the dimension).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank, in: "Tensor.split")
        precondition(
            sizes.reduce(0, +) == shape[a] && sizes.allSatisfy { $0 >= 0 },
            "Tensor.split: sizes \(sizes) do not add up to dimension \(shape[a]) of shape \(shape)")
        let outer = Shape.count(of: Array(shape[..<a]))
        let inner = Shape.count(of: Array(shape[(a + 1)...]))
        var pieces: [Tensor] = []
        var start = 0
        withUnsafeBufferPointer { s in
            for size in sizes {
                var pieceShape = shape
                pieceShape[a] = size
                var piece = Tensor(uninitializedShape: pieceShape)
                piece.withUnsafeMutableBufferPointer { d in
                    guard let sb = s.baseAddress, let db = d.baseAddress else { return }
                    for o in 0..<outer {
                        (db + o * size * inner).update(
                            from: sb + o * shape[a] * inner + start * inner, count: size * inner)
                    }
                }
                pieces.append(piece)
                start += size
            }
        }
        return pieces
    }

    /// Splits along `axis` into `parts` equal pieces.
    public func split(parts: Int, axis: Int = 0) -> [Tensor] {
        let a = Shape.axis(axis, rank: rank, in: "Tensor.split")
        precondition(
            parts > 0 && shape[a] % parts == 0,
            "Tensor.split: dimension \(shape[a]) of shape \(shape) is not divisible into \(parts) parts"
        )
        return split(sizes: Array(repeating: shape[a] / parts, count: parts), axis: a)
    }
}
