import RecurTensor

/// Gradient clipping over a list of parameters.
public enum GradientClipping {
    /// The L2 norm of all gradients together (accumulated in Float64).
    public static func globalNorm(_ parameters: [(name: String, parameter: Parameter)]) -> Float {
        var total = 0.0
        for (_, p) in parameters {
            p.gradient.withUnsafeBufferPointer { g in
                guard let base = g.baseAddress else { return }
                var i = 0
                while i < g.count {
                    let n = Swift.min(4096, g.count - i)
                    total += Double(VectorMath.dot(base + i, base + i, count: n))
                    i += n
                }
            }
        }
        return Float(total.squareRoot())
    }

    /// Scales all gradients so that their global L2 norm is at most `maxNorm`
    /// (PyTorch `clip_grad_norm_`: factor maxNorm / (norm + 1e-6), applied only when below 1).
    ///
    /// - Returns: the norm before clipping (NaN or infinity when a gradient is not finite;
    ///   nothing is scaled then).
    @discardableResult
    public static func clipByNorm(
        _ parameters: [(name: String, parameter: Parameter)], maxNorm: Float
    ) -> Float {
        precondition(maxNorm > 0, "clipByNorm: maxNorm must be positive, got \(maxNorm)")
        let norm = globalNorm(parameters)
        guard norm.isFinite else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 {
            for (_, p) in parameters { p.gradient *= factor }
        }
        return norm
    }

    /// Clamps every gradient element to [-clip, clip] (PyTorch `clip_grad_value_`).
    public static func clipByValue(
        _ parameters: [(name: String, parameter: Parameter)], clip: Float
    ) {
        precondition(clip > 0, "clipByValue: clip must be positive, got \(clip)")
        for (_, p) in parameters { p.gradient = p.gradient.clamped(to: -clip...clip) }
    }
}
