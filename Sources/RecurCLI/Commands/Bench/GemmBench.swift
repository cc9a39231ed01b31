import ArgumentParser
import BLASDirect
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "SGEMM GFLOP/s through Recur's matmul beside OpenBLAS called directly from C.",
        discussion: """
            Shapes: the input projection [T·B, I]×[I, G·H] and recurrent product [B, H]×[H, G·H] of \
            the B1 (LSTM/GRU, hidden 128) and B1-L (hidden 512) configurations, plus 1024³ and 2048³. \
            Prints one JSON line per shape and a summary line with the smallest ratio.
            """
    )

    @OptionGroup var runtime: RuntimeOptions

    @Flag(help: "Only the small shapes (fast smoke run).")
    var quick = false

    static let shapes: [(name: String, m: Int, k: Int, n: Int)] = [
        ("B1 lstm input l1", 2500, 64, 512), ("B1 lstm input l2", 2500, 128, 512),
        ("B1 lstm recurrent", 50, 128, 512), ("B1 gru input", 2500, 128, 384),
        ("B1 gru recurrent", 50, 128, 384), ("B1-L lstm input l1", 6400, 64, 2048),
        ("B1-L lstm input l2", 6400, 512, 2048), ("B1-L lstm recurrent", 64, 512, 2048),
        ("square 1024", 1024, 1024, 1024), ("square 2048", 2048, 2048, 2048),
    ]

    func run() throws {
        runtime.apply()
        let kernel = BLAS.kernel
        let threads = runtime.threadCount
        var worst = Double.infinity
        var rng = Xoshiro256(seed: 1)
        for shape in Self.shapes where !quick || shape.m * shape.n * shape.k < 1 << 26 {
            let a = Tensor.uniform([shape.m, shape.k], in: -1...1, using: &rng)
            let b = Tensor.uniform([shape.k, shape.n], in: -1...1, using: &rng)
            let flops = 2.0 * Double(shape.m * shape.n * shape.k)
            // Recur's matmul as the layers call it: into a reused output tensor.
            var c = Tensor.zeros([shape.m, shape.n])
            let recurSeconds = bestSecondsPerCall { a.matmul(b, into: &c) }
            let recur = flops / recurSeconds * 1e-9
            let callsPerRound = max(1, Int(0.05 / max(recurSeconds, 1e-7)))
            let direct = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        blas_direct_sgemm_gflops(
                            Int32(shape.m), Int32(shape.n), Int32(shape.k), Int32(threads),
                            Int32(callsPerRound), 5, pa.baseAddress, pb.baseAddress, pc.baseAddress)
                    }
                }
            }
            let ratio = recur / direct
            worst = min(worst, ratio)
            let line: JSONValue = .object([
                ("bench", "gemm"), ("shape", .string(shape.name)),
                ("m", .int(shape.m)), ("k", .int(shape.k)), ("n", .int(shape.n)),
                ("recur_gflops", .rounded(recur, 1)), ("openblas_gflops", .rounded(direct, 1)),
                ("ratio", .rounded(ratio, 3)), ("threads", .int(threads)),
                ("kernel", .string(kernel.coreName)),
            ])
            print(line.text)
        }
        let summary: JSONValue = .object([
            ("bench", "gemm-summary"), ("kernel", .string(kernel.coreName)),
            ("kernel_reason", .string(kernel.reason.rawValue)),
            ("detected_kernel", .string(kernel.detectedCoreName)),
            ("direct_kernel", .string(String(cString: blas_direct_corename()))),
            ("min_ratio", .rounded(worst, 3)), ("threads", .int(threads)),
        ])
        print(summary.text)
    }
}
