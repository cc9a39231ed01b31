import ArgumentParser
import BLASDirect
import RecurBase
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

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
                    let x = source.start
                    let out = destination.start
                    return (
                        bestSecondsPerCall { Self.vectorized(function, x, out, n) },
                        bestSecondsPerCall { Self.libm(function, x, out, n) }
                    )
                }
            }
            _ = input.withUnsafeBufferPointer { source in
                y.withUnsafeMutableBufferPointer {
                    Self.vectorized(function, source.start, $0.start, n)
                }
            }
            var worstULP = 0.0
            let xs = input.scalars
            let ys = y.scalars
            for i in 0..<n {
                let r = Self.reference(function, Double(xs[i]))
                let ulp = Double(Float(r).magnitude.ulp)
                if Double(ys[i]) != r && ulp > 0 {
                    worstULP = max(worstULP, abs(Double(ys[i]) - r) / ulp)
                }
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
