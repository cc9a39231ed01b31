import RealModule
import RecurTensor

/// The outcome of a finite-difference gradient check.
public struct GradientCheckReport: CustomStringConvertible, Sendable {
    /// One compared coordinate.
    public struct Entry: Sendable {
        /// The input or parameter checked.
        public var target: String
        /// The element checked (flat index).
        public var index: Int
        /// The gradient the backward pass computed.
        public var analytic: Double
        /// The central-difference estimate.
        public var numeric: Double
        /// The relative error between the two.
        public var error: Double
    }

    /// Every compared coordinate.
    public var entries: [Entry] = []
    /// Relative tolerance the check used.
    public var tolerance: Double
    /// Absolute slack added to the tolerance (for gradients that are ~0).
    public var absoluteTolerance: Double

    /// Whether every coordinate agrees within the tolerance.
    public var passed: Bool { !entries.isEmpty && failures.isEmpty }

    /// Coordinates that disagree.
    public var failures: [Entry] {
        entries.filter { !($0.error <= tolerance) }
    }

    /// The largest scaled error.
    public var worstError: Double { entries.map(\.error).max() ?? .nan }

    /// The worst error and every failing element, one per line.
    public var description: String {
        var s =
            "gradient check: \(entries.count) coordinates, worst error \(worstError) (tolerance \(tolerance))"
        for f in failures.prefix(8) {
            s += "\n  \(f.target)[\(f.index)]: analytic \(f.analytic), numeric \(f.numeric)"
        }
        return s
    }
}

/// Central-difference gradient checks for tape operations and layers.
///
/// The function under test may return any shape; the check reduces it to the scalar
/// `Σ output ⊙ R` with a fixed random `R`, so every output element's Jacobian row is exercised.
/// The analytic gradient comes from `Tape.backward`; the numeric one from
/// `(L(x + ε) - L(x - ε)) / 2ε` with the loss accumulated in Float64. A coordinate passes when
/// `|analytic - numeric| ≤ tolerance · max(1, |analytic|, |numeric|)`, scaled by `scale`
/// (the typical gradient magnitude) so tiny gradients are compared absolutely.
public enum GradientCheck {
    /// Checks the gradients with respect to `inputs` (as tape variables) and `parameters`.
    ///
    /// - Parameters:
    ///   - inputs: values of the differentiable inputs; `f` receives them as variables.
    ///   - parameters: parameters `f` reads through `tape.parameter(_:)`.
    ///   - epsilon: finite-difference step.
    ///   - tolerance: relative tolerance (see the type's discussion).
    ///   - samples: coordinates checked per tensor (all when the tensor is smaller).
    ///   - seed: seeds the projection `R` and the coordinate sample.
    ///   - f: builds the output from a fresh tape and the input variables.
    public static func check(
        inputs: [Tensor], parameters: [Parameter] = [], epsilon: Float = 1e-2,
        tolerance: Double = 1e-2, samples: Int = 40, seed: UInt64 = 7,
        _ f: (Tape, [Variable]) -> Variable
    ) -> GradientCheckReport {
        var rng = Xoshiro256(seed: seed)
        // Analytic pass.
        for p in parameters { p.zeroGradient() }
        let tape = Tape()
        let variables = inputs.map { tape.variable($0) }
        let output = f(tape, variables)
        let projection = Tensor.uniform(output.shape, in: -1...1, using: &rng)
        let loss = (output * tape.constant(projection)).sum()
        tape.backward(from: loss)
        let inputGradients = variables.map { tape.gradient(of: $0) ?? Tensor.zeros($0.shape) }
        let parameterGradients = parameters.map(\.gradient)

        func evaluate(_ values: [Tensor]) -> Double {
            let t = Tape()
            t.isRecording = false
            let out = f(t, values.map { t.constant($0) }).value
            precondition(
                out.shape == projection.shape,
                "GradientCheck: output shape changed from \(projection.shape) to \(out.shape)")
            var total = 0.0
            out.withUnsafeBufferPointer { o in
                projection.withUnsafeBufferPointer { r in
                    for i in 0..<o.count { total += Double(o[i]) * Double(r[i]) }
                }
            }
            return total
        }

        var report = GradientCheckReport(tolerance: tolerance, absoluteTolerance: 0)
        var all: [(String, Int, Double, Double)] = []
        // Numeric pass over inputs.
        for (k, input) in inputs.enumerated() {
            for index in sampleIndices(count: input.count, samples: samples, using: &rng) {
                var plus = inputs
                var minus = inputs
                plus[k].withUnsafeMutableBufferPointer { $0[index] += epsilon }
                minus[k].withUnsafeMutableBufferPointer { $0[index] -= epsilon }
                let numeric = (evaluate(plus) - evaluate(minus)) / (2 * Double(epsilon))
                let analytic = Double(inputGradients[k].withUnsafeBufferPointer { $0[index] })
                all.append(("input\(k)", index, analytic, numeric))
            }
        }
        // Numeric pass over parameters.
        for (k, p) in parameters.enumerated() {
            let original = p.value
            for index in sampleIndices(count: original.count, samples: samples, using: &rng) {
                var plus = original
                plus.withUnsafeMutableBufferPointer { $0[index] += epsilon }
                p.value = plus
                let up = evaluate(inputs)
                var minus = original
                minus.withUnsafeMutableBufferPointer { $0[index] -= epsilon }
                p.value = minus
                let down = evaluate(inputs)
                p.value = original
                let analytic = Double(parameterGradients[k].withUnsafeBufferPointer { $0[index] })
                all.append(("parameter\(k)", index, analytic, (up - down) / (2 * Double(epsilon))))
            }
        }
        let scale = max(1e-3, all.map { max(abs($0.2), abs($0.3)) }.max() ?? 0)
        for (target, index, analytic, numeric) in all {
            let error = abs(analytic - numeric) / max(scale * 0.1, abs(analytic), abs(numeric))
            report.entries.append(
                .init(
                    target: target, index: index, analytic: analytic, numeric: numeric, error: error
                ))
        }
        return report
    }

    static func sampleIndices(count: Int, samples: Int, using rng: inout Xoshiro256) -> [Int] {
        if count <= samples { return Array(0..<count) }
        var chosen = Set<Int>()
        while chosen.count < samples { chosen.insert(rng.nextInt(below: count)) }
        return chosen.sorted()
    }
}
