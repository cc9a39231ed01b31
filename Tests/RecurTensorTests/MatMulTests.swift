import RecurBase
import RecurTensor
import RecurTestSupport
import Testing

@Suite("Matrix products")
struct MatMulTests {
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (3, 5, 7), (17, 33, 9), (50, 128, 512), (64, 1, 64), (129, 257, 65),
        (300, 300, 300),
    ]

    @Test("BLAS matmul equals the naive reference", arguments: shapes)
    func blasMatchesNaive(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        var rng = Xoshiro256(seed: UInt64(m * 1000 + k))
        let a = Tensor.uniform([m, k], in: -1...1, using: &rng)
        let b = Tensor.uniform([k, n], in: -1...1, using: &rng)
        let fast = a.matmul(b)
        let slow = a.naiveMatmul(b)
        #expect(
            fast.isApproximatelyEqual(
                to: slow, relativeTolerance: 1e-4, absoluteTolerance: 1e-4 * Float(k).squareRoot()))
    }

    @Test("transposed operands")
    func transposed() {
        var rng = Xoshiro256(seed: 2)
        let a = Tensor.uniform([4, 6], in: -1...1, using: &rng)
        let b = Tensor.uniform([5, 6], in: -1...1, using: &rng)
        let expected = a.naiveMatmul(b.transposed())
        #expect(a.matmul(b, transposeOther: true).isApproximatelyEqual(to: expected))
        #expect(
            a.transposed().matmul(b, transposeSelf: true, transposeOther: true)
                .isApproximatelyEqual(to: expected))
        #expect(
            a.transposed().matmul(b.transposed(), transposeSelf: true).isApproximatelyEqual(
                to: expected))
    }

    @Test("batched products")
    func batched() {
        var rng = Xoshiro256(seed: 4)
        let a = Tensor.uniform([3, 2, 4, 5], in: -1...1, using: &rng)
        let b = Tensor.uniform([3, 2, 5, 6], in: -1...1, using: &rng)
        let c = a.matmul(b)
        #expect(c.shape == [3, 2, 4, 6])
        #expect(
            c[2][1].isApproximatelyEqual(to: a[2][1].naiveMatmul(b[2][1]), relativeTolerance: 1e-5))
        let w = Tensor.uniform([5, 7], in: -1...1, using: &rng)
        let d = a.matmul(w)
        #expect(d.shape == [3, 2, 4, 7])
        #expect(d[1][0].isApproximatelyEqual(to: a[1][0].naiveMatmul(w), relativeTolerance: 1e-5))
        let e = w.transposed().matmul(b)
        #expect(e.shape == [3, 2, 7, 6])
        #expect(
            e[0][1].isApproximatelyEqual(
                to: w.transposed().naiveMatmul(b[0][1]), relativeTolerance: 1e-5))
        #expect(Tensor([1, 2]).matmul(Tensor([[1, 0, 1], [0, 1, 1]])).scalars == [1, 2, 3])
        #expect(Tensor([[1, 2], [3, 4]]).matmul(Tensor([1, 1])).scalars == [3, 7])
    }

    @Test("parallel split gives the same bits as one call")
    func parallelIsDeterministic() {
        var rng = Xoshiro256(seed: 8)
        let a = Tensor.uniform([400, 256], in: -1...1, using: &rng)
        let b = Tensor.uniform([256, 512], in: -1...1, using: &rng)
        let parallel = a.matmul(b)
        var serial = Tensor.zeros([400, 512])
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                serial.withUnsafeMutableBufferPointer { pc in
                    BLAS.gemmSerial(
                        false, false, 400, 512, 256, 1, pa.start, 256, pb.start, 512,
                        0, pc.start, 512)
                }
            }
        }
        #expect(parallel.isBitIdentical(to: serial))
    }

    @Test("OpenBLAS runs kernels that match the CPU")
    func kernelChoice() {
        let kernel = BLAS.kernel
        #expect(!kernel.coreName.isEmpty)
        // The pure decision function, on both paths.
        let avx512: Set<String> = [
            "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd",
        ]
        #expect(BLAS.preferredCore(flags: avx512, current: "Prescott") == "SkylakeX")
        #expect(BLAS.preferredCore(flags: avx512, current: "SkylakeX") == nil)
        #expect(BLAS.preferredCore(flags: avx512, current: "Cooperlake") == nil)
        #expect(
            BLAS.preferredCore(flags: ["avx", "avx2", "fma"], current: "Prescott") == "Haswell")
        #expect(BLAS.preferredCore(flags: ["avx", "avx2", "fma"], current: "Zen") == nil)
        #expect(BLAS.preferredCore(flags: ["avx"], current: "Core2") == "Sandybridge")
        #expect(BLAS.preferredCore(flags: ["sse3"], current: "Prescott") == nil)
        // On this machine: whatever OpenBLAS detected, the kernel now in use is no weaker than
        // the CPU allows (unless the user forced one).
        if kernel.reason != .userForced {
            #expect(BLAS.preferredCore(flags: BLAS.hostCPUFlags, current: kernel.coreName) == nil)
        }
    }
}

@Suite("Packed-panel products (recurrent GEMMs)")
struct PanelGEMMTests {
    /// (rows m, K, blocks, block width, units): widths that are not multiples of 16, every row
    /// remainder of the 8/4/2/1 tiles, panel counts that leave groups of 1, 2 and 4.
    static let cases: [(Int, Int, Int, Int, Range<Int>)] = [
        (1, 1, 1, 1, 0..<1), (15, 7, 4, 37, 0..<37), (50, 128, 4, 128, 64..<128),
        (7, 33, 3, 20, 16..<20),
        (64, 40, 1, 100, 0..<48), (3, 5, 2, 16, 0..<16), (11, 64, 4, 48, 16..<48),
    ]

    @Test(
        "C (+)= A · B over a unit slice of every block equals the naive product", arguments: cases)
    func matchesNaive(shape: (Int, Int, Int, Int, Range<Int>)) {
        let (m, k, blocks, width, units) = shape
        let n = blocks * width
        var rng = Xoshiro256(seed: UInt64(m * 7919 + k * 31 + width))
        let a = Tensor.uniform([m, k], in: -1...1, using: &rng)
        let b = Tensor.uniform([k, n], in: -1...1, using: &rng)
        let initial = Tensor.uniform([m, n], in: -1...1, using: &rng)
        let product = a.naiveMatmul(b)
        for transposed in [false, true] {
            // The same B given as itself or as Bᵀ (a weight stored [N, K]).
            let source = transposed ? b.transposed() : b
            var packed = Tensor.zeros([
                PanelGEMM.packedCount(k: k, blocks: blocks, blockWidth: width)
            ])
            PanelGEMM.pack(
                source.unsafeBase, stride: transposed ? k : n, k: k, blocks: blocks,
                blockWidth: width,
                transposed: transposed, into: packed.unsafeMutableBase())
            for accumulate in [false, true] {
                var c = initial
                PanelGEMM.multiply(
                    m: m, k: k, a: a.unsafeBase, lda: k, packed: packed.unsafeBase, blocks: blocks,
                    blockWidth: width,
                    units: units, c: c.unsafeMutableBase(), ldc: n, accumulate: accumulate)
                for row in 0..<m {
                    for column in 0..<n {
                        let selected = units.contains(column % width)
                        let old = initial[at: row, column]
                        let expected =
                            selected ? (accumulate ? old : 0) + product[at: row, column] : old
                        #expect(
                            abs(c[at: row, column] - expected) <= 1e-5 * Float(k).squareRoot()
                                + 1e-5 * abs(expected))
                    }
                }
            }
        }
    }
}
