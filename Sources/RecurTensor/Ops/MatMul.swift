// Matrix products through BLAS, with NumPy-style batching, and the naive reference they are
// tested against.

extension Tensor {
    /// The matrix product of the last two axes, batched over the leading axes.
    ///
    /// - `[M, K] × [K, N] → [M, N]`; with `transposeSelf`/`transposeOther` the operand's last
    ///   two axes are used transposed (`[K, M]`, `[N, K]`), without copying.
    /// - `[b…, M, K] × [K, N]`: one GEMM with the batch folded into M.
    /// - `[b…, M, K] × [b…, K, N]`: one GEMM per batch entry (batch shapes must be equal, or one
    ///   operand rank 2).
    /// - Rank-1 operands are promoted as in NumPy (`[K] × [K, N] → [N]`).
    ///
    /// Shapes that do not fit trap with both shapes in the message.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false)
        -> Tensor
    {
        precondition(
            rank >= 1 && other.rank >= 1,
            "matmul: rank-0 operand (shapes \(shape) and \(other.shape))")
        if rank == 1 {
            let r = reshaped([1, shape[0]]).matmul(
                other, transposeSelf: false, transposeOther: transposeOther)
            var s = r.shape
            s.remove(at: s.count - 2)
            return r.reshaped(s)
        }
        if other.rank == 1 {
            let r = matmul(other.reshaped([other.shape[0], 1]), transposeSelf: transposeSelf)
            return r.reshaped(Array(r.shape.dropLast()))
        }
        let (m, k) =
            transposeSelf ? (shape[rank - 1], shape[rank - 2]) : (shape[rank - 2], shape[rank - 1])
        let (k2, n) =
            transposeOther
            ? (other.shape[other.rank - 1], other.shape[other.rank - 2])
            : (other.shape[other.rank - 2], other.shape[other.rank - 1])
        precondition(
            k == k2,
            "matmul: inner dimensions differ: \(shape)\(transposeSelf ? "ᵀ" : "") × \(other.shape)\(transposeOther ? "ᵀ" : "")"
        )
        let batchA = Array(shape.dropLast(2))
        let batchB = Array(other.shape.dropLast(2))
        precondition(
            batchA == batchB || batchA.isEmpty || batchB.isEmpty,
            "matmul: batch dimensions \(batchA) and \(batchB) differ (shapes \(shape) and \(other.shape))"
        )
        let batch = batchA.isEmpty ? batchB : batchA
        let batchCount = Shape.count(of: batch)
        var result = Tensor(uninitializedShape: batch + [m, n])
        let lda = shape[rank - 1]
        let ldb = other.shape[other.rank - 1]
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    guard let ab = a.baseAddress, let bb = b.baseAddress, let cb = c.baseAddress
                    else { return }
                    if batchB.isEmpty && !transposeSelf {
                        // Fold the batch into M: one large GEMM.
                        BLAS.gemm(
                            transposeA: false, transposeB: transposeOther, m: batchCount * m, n: n,
                            k: k,
                            a: ab, lda: lda, b: bb, ldb: ldb, c: cb, ldc: n)
                        return
                    }
                    let strideA = batchA.isEmpty ? 0 : m * k
                    let strideB = batchB.isEmpty ? 0 : k * n
                    for i in 0..<batchCount {
                        BLAS.gemm(
                            transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                            a: ab + i * strideA, lda: lda, b: bb + i * strideB, ldb: ldb,
                            c: cb + i * m * n, ldc: n)
                    }
                }
            }
        }
        return result
    }

    /// Writes the rank-2 product `op(self) · op(other)` into `output`, reusing its storage when
    /// it is unshared and large enough (the layers' workspace pattern: no allocation per step).
    ///
    /// With `accumulate`, adds to `output`'s current contents instead (which must then already
    /// have the product's shape).
    public func matmul(
        _ other: Tensor, into output: inout Tensor, transposeSelf: Bool = false,
        transposeOther: Bool = false, accumulate: Bool = false
    ) {
        precondition(
            rank == 2 && other.rank == 2,
            "matmul(into:): needs rank-2 operands, got \(shape) and \(other.shape)")
        let (m, k) = transposeSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (k2, n) =
            transposeOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        precondition(k == k2, "matmul(into:): inner dimensions differ: \(shape) × \(other.shape)")
        if accumulate {
            precondition(
                output.shape == [m, n],
                "matmul(into:accumulate:): output shape \(output.shape) is not [\(m), \(n)]")
        } else {
            output.resize(to: [m, n])
        }
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { c in
                    guard let ab = a.baseAddress, let bb = b.baseAddress, let cb = c.baseAddress
                    else { return }
                    BLAS.gemm(
                        transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                        a: ab, lda: shape[1], b: bb, ldb: other.shape[1], beta: accumulate ? 1 : 0,
                        c: cb, ldc: n)
                }
            }
        }
    }

    /// The same product as `matmul` for rank-2 operands, computed with plain loops in Float64:
    /// the reference that tests compare the BLAS path against.
    public func naiveMatmul(_ other: Tensor) -> Tensor {
        precondition(
            rank == 2 && other.rank == 2 && shape[1] == other.shape[0],
            "naiveMatmul: shapes \(shape) and \(other.shape) do not multiply")
        let (m, k, n) = (shape[0], shape[1], other.shape[1])
        var result = Tensor(uninitializedShape: [m, n])
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    for i in 0..<m {
                        for j in 0..<n {
                            var total = 0.0
                            for p in 0..<k { total += Double(a[i * k + p]) * Double(b[p * n + j]) }
                            c[i * n + j] = Float(total)
                        }
                    }
                }
            }
        }
        return result
    }
}
