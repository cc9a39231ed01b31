import ArgumentParser
import BLASDirect
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

/// `recur bench …`: micro-benchmarks of the tensor core against their peers, in one run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the tensor core against its peers (B0 in BENCHMARKS.md).",
        subcommands: [GemmBench.self, ActivationBench.self]
    )
}

/// Best-of-`rounds` seconds per call of `body`, each round long enough to time reliably.
func bestSecondsPerCall(rounds: Int = 5, minimumSeconds: Double = 0.05, _ body: () -> Void) -> Double {
    body()
    var repeats = 1
    while true {
        let start = MonotonicClock.seconds()
        for _ in 0..<repeats { body() }
        let elapsed = MonotonicClock.seconds() - start
        if elapsed >= minimumSeconds || repeats >= 1 << 20 { break }
        repeats *= 2
    }
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = MonotonicClock.seconds()
        for _ in 0..<repeats { body() }
        best = min(best, (MonotonicClock.seconds() - start) / Double(repeats))
    }
    return best
}

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

struct ActivationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Vectorized exp/tanh/sigmoid/log against a plain loop of libm calls.",
        discussion: """
            Each function runs over 2^20 inputs (uniform in [-10, 10]; log: [1e-3, 100]). The \
            error is measured against the same function in Double precision, in units in the \
            last place of the Float result.
            """
    )

    enum Function: String, CaseIterable {
        case exp, tanh, sigmoid, log
    }

    func run() throws {
        let n = 1 << 20
        var rng = Xoshiro256(seed: 2)
        let symmetric = Tensor.uniform([n], in: -10...10, using: &rng)
        let positive = Tensor.uniform([n], in: 1e-3...100, using: &rng)
        var y = Tensor.zeros([n])
        for function in Function.allCases {
            let input = function == .log ? positive : symmetric
            let (vectorSeconds, scalarSeconds) = input.withUnsafeBufferPointer { source in
                y.withUnsafeMutableBufferPointer { destination in
                    let x = source.baseAddress!
                    let out = destination.baseAddress!
                    return (
                        bestSecondsPerCall { Self.vectorized(function, x, out, n) },
                        bestSecondsPerCall { Self.libm(function, x, out, n) }
                    )
                }
            }
            _ = input.withUnsafeBufferPointer { source in
                y.withUnsafeMutableBufferPointer { Self.vectorized(function, source.baseAddress!, $0.baseAddress!, n) }
            }
            var worstULP = 0.0
            let xs = input.scalars
            let ys = y.scalars
            for i in 0..<n {
                let r = Self.reference(function, Double(xs[i]))
                let ulp = Double(Float(r).magnitude.ulp)
                if Double(ys[i]) != r && ulp > 0 { worstULP = max(worstULP, abs(Double(ys[i]) - r) / ulp) }
            }
            let line: JSONValue = .object([
                ("bench", "activation"), ("function", .string(function.rawValue)),
                ("recur_ns_per_element", .rounded(vectorSeconds / Double(n) * 1e9, 3)),
                ("libm_ns_per_element", .rounded(scalarSeconds / Double(n) * 1e9, 3)),
                ("speedup", .rounded(scalarSeconds / vectorSeconds, 2)),
                ("max_ulp_error", .rounded(worstULP, 3)),
            ])
            print(line.text)
        }
    }

    static func vectorized(
        _ f: Function, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch f {
        case .exp: VectorMath.exp(x, y, count: n)
        case .tanh: VectorMath.tanh(x, y, count: n)
        case .sigmoid: VectorMath.sigmoid(x, y, count: n)
        case .log: VectorMath.log(x, y, count: n)
        }
    }

    /// The peer: one libm call per element, in a plain loop.
    static func libm(
        _ f: Function, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch f {
        case .exp: for i in 0..<n { y[i] = expf(x[i]) }
        case .tanh: for i in 0..<n { y[i] = tanhf(x[i]) }
        case .sigmoid: for i in 0..<n { y[i] = 1 / (1 + expf(-x[i])) }
        case .log: for i in 0..<n { y[i] = logf(x[i]) }
        }
    }

    static func reference(_ f: Function, _ x: Double) -> Double {
        switch f {
        case .exp: return Glibc.exp(x)
        case .tanh: return Glibc.tanh(x)
        case .sigmoid: return 1 / (1 + Glibc.exp(-x))
        case .log: return Glibc.log(x)
        }
    }
}
