// Causal dilated 1-D convolution as one GEMM per kernel tap.
//
// Legend: B batch, T time, C_in / C_out channels, K taps, d dilation, P = (K-1)·d left padding.
// Layout: channels last, x [B, T, C_in] → y [B, T, C_out] (PyTorch's Conv1d is [B, C, T]; the
// weights use PyTorch's [C_out, C_in, K] layout so they load into nn.Conv1d unchanged).
//
//   y[b, t] = bias + Σ_k W[:, :, k] · x[b, t - (K-1-k)·d]        (x at negative t is 0)
//
// The input is copied into a zero-padded flat buffer X̃ [B·(P+T), C_in]; then tap k is a single
// GEMM over all batch rows, Ỹ[r] += X̃[r - s_k] W_kᵀ with s_k = (K-1-k)·d, because the shift is
// the same for every sequence in the flat layout. Rows of Ỹ that fall in padding are dropped.

import RecurTensor

/// A causal, dilated 1-D convolution (PyTorch `nn.Conv1d` with left padding (K-1)·d), with
/// optional weight normalization (Salimans & Kingma 2016: w = g · v / ‖v‖ per output channel).
public final class CausalConv1d: Module {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let dilation: Int
    /// `[C_out, C_in, K]` (without weight normalization).
    public let weight: Parameter?
    /// Weight normalization: direction `v` `[C_out, C_in, K]` and gain `g` `[C_out, 1, 1]`.
    public let weightDirection: Parameter?
    public let weightGain: Parameter?
    public let bias: Parameter
    public var isTraining = true

    /// Creates the layer with PyTorch's initialization (uniform ±1/√(C_in·K)); with weight
    /// normalization, g starts at ‖v‖ so that the initial weights are the same.
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1, weightNormalization: Bool = false,
        rng: inout Xoshiro256
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && dilation > 0, "CausalConv1d: sizes must be positive")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        let bound = 1 / Float(inChannels * kernelSize).squareRoot()
        let w = Tensor.uniform([outChannels, inChannels, kernelSize], in: -bound...bound, using: &rng)
        bias = Parameter(Tensor.uniform([outChannels], in: -bound...bound, using: &rng))
        if weightNormalization {
            weightDirection = Parameter(w)
            let norms = (w * w).reshaped([outChannels, -1]).sum(axis: 1).squareRoot()
            weightGain = Parameter(norms.reshaped([outChannels, 1, 1]))
            weight = nil
        } else {
            weight = Parameter(w)
            weightDirection = nil
            weightGain = nil
        }
    }

    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        if let weight { visit(prefix + "weight", weight) }
        if let weightGain, let weightDirection {
            visit(prefix + "weight_g", weightGain)
            visit(prefix + "weight_v", weightDirection)
        }
        visit(prefix + "bias", bias)
    }

    /// P = (K-1)·d: how far back the output at t looks.
    public var padding: Int { (kernelSize - 1) * dilation }

    /// The effective weight `[C_out, C_in, K]`.
    public var effectiveWeight: Tensor {
        if let weight { return weight.value }
        guard let v = weightDirection?.value, let g = weightGain?.value else { preconditionFailure("CausalConv1d: no weight") }
        let norms = (v * v).reshaped([outChannels, -1]).sum(axis: 1, keepingDimension: true).squareRoot()
        return (v.reshaped([outChannels, -1]) * (g.reshaped([outChannels, 1]) / norms)).reshaped(v.shape)
    }

    /// Tap k's matrix W_k [C_out, C_in], from the effective weight.
    func taps(_ w: Tensor) -> [Tensor] {
        let k = kernelSize
        return (0..<k).map { tap in
            var m = Tensor(uninitializedShape: [outChannels, inChannels])
            w.withUnsafeBufferPointer { src in
                m.withUnsafeMutableBufferPointer { dst in
                    for o in 0..<outChannels {
                        for i in 0..<inChannels { dst[o * inChannels + i] = src[(o * inChannels + i) * k + tap] }
                    }
                }
            }
            return m
        }
    }

    /// Forward on x `[B, T, C_in]` as one tape node.
    public func callAsFunction(_ x: Variable) -> Variable {
        let input = x.value
        precondition(input.rank == 3 && input.shape[2] == inChannels, "CausalConv1d: input must be [B, T, \(inChannels)], got \(input.shape)")
        let (b, t) = (input.shape[0], input.shape[1])
        let p = padding
        let rows = b * (p + t)
        let w = effectiveWeight
        let tapWeights = taps(w)
        // X̃: zero-padded flat input [B·(P+T), C_in].
        var padded = Tensor.zeros([rows, inChannels])
        padded.withUnsafeMutableBufferPointer { d in
            input.withUnsafeBufferPointer { s in
                for batch in 0..<b {
                    (d.baseAddress! + (batch * (p + t) + p) * inChannels).update(
                        from: s.baseAddress! + batch * t * inChannels, count: t * inChannels)
                }
            }
        }
        var flat = Tensor.zeros([rows, outChannels])
        for (k, wk) in tapWeights.enumerated() {
            let shift = (kernelSize - 1 - k) * dilation
            if shift >= rows { continue }
            BLAS.gemm(
                transposeB: true, m: rows - shift, n: outChannels, k: inChannels, a: padded.unsafeBase, lda: inChannels,
                b: wk.unsafeBase, ldb: inChannels, beta: 1, c: flat.unsafeMutableBase() + shift * outChannels, ldc: outChannels)
        }
        var y = Tensor(uninitializedShape: [b, t, outChannels])
        y.withUnsafeMutableBufferPointer { d in
            flat.withUnsafeBufferPointer { s in
                bias.value.withUnsafeBufferPointer { bias in
                    for batch in 0..<b {
                        for step in 0..<t {
                            let src = s.baseAddress! + (batch * (p + t) + p + step) * outChannels
                            let dst = d.baseAddress! + (batch * t + step) * outChannels
                            for o in 0..<outChannels { dst[o] = src[o] + bias[o] }
                        }
                    }
                }
            }
        }
        let tape = x.tape
        var inputs = [x, tape.parameter(bias)]
        if let weight { inputs.append(tape.parameter(weight)) }
        if let weightGain, let weightDirection { inputs += [tape.parameter(weightGain), tape.parameter(weightDirection)] }
        return tape.record(y, inputs: inputs) { g in
            // dỸ: the gradient in the padded flat layout (zero in padding rows).
            var dFlat = Tensor.zeros([rows, self.outChannels])
            dFlat.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    for batch in 0..<b {
                        (d.baseAddress! + (batch * (p + t) + p) * self.outChannels).update(
                            from: s.baseAddress! + batch * t * self.outChannels, count: t * self.outChannels)
                    }
                }
            }
            self.bias.gradient += g.reshaped([b * t, self.outChannels]).sum(axis: 0)
            var dW = Tensor.zeros(w.shape)
            var dPadded = Tensor.zeros([rows, self.inChannels])
            let needsInput = tape.requiresGradient(x)
            for (k, wk) in tapWeights.enumerated() {
                let shift = (self.kernelSize - 1 - k) * self.dilation
                if shift >= rows { continue }
                // dW_k = dỸ[shift...]ᵀ X̃[..rows-shift]
                var dWk = Tensor.zeros([self.outChannels, self.inChannels])
                BLAS.gemm(
                    transposeA: true, m: self.outChannels, n: self.inChannels, k: rows - shift,
                    a: dFlat.unsafeBase + shift * self.outChannels, lda: self.outChannels, b: padded.unsafeBase,
                    ldb: self.inChannels, c: dWk.unsafeMutableBase(), ldc: self.inChannels)
                dW.withUnsafeMutableBufferPointer { d in
                    dWk.withUnsafeBufferPointer { s in
                        for o in 0..<self.outChannels {
                            for i in 0..<self.inChannels { d[(o * self.inChannels + i) * self.kernelSize + k] += s[o * self.inChannels + i] }
                        }
                    }
                }
                if needsInput {
                    BLAS.gemm(
                        m: rows - shift, n: self.inChannels, k: self.outChannels,
                        a: dFlat.unsafeBase + shift * self.outChannels, lda: self.outChannels, b: wk.unsafeBase,
                        ldb: self.inChannels, beta: 1, c: dPadded.unsafeMutableBase(), ldc: self.inChannels)
                }
            }
            self.accumulateWeightGradient(dW)
            if needsInput {
                var dx = Tensor(uninitializedShape: input.shape)
                dx.withUnsafeMutableBufferPointer { d in
                    dPadded.withUnsafeBufferPointer { s in
                        for batch in 0..<b {
                            (d.baseAddress! + batch * t * self.inChannels).update(
                                from: s.baseAddress! + (batch * (p + t) + p) * self.inChannels, count: t * self.inChannels)
                        }
                    }
                }
                tape.accumulate(dx, into: x)
            }
        }
    }

    /// Routes dL/dw to the weight, or through weight normalization to g and v:
    /// dg = Σ dw ⊙ v̂,  dv = (g / ‖v‖) (dw - dg · v̂)   (per output channel).
    func accumulateWeightGradient(_ dW: Tensor) {
        if let weight {
            weight.gradient += dW
            return
        }
        guard let v = weightDirection, let g = weightGain else { return }
        let n = inChannels * kernelSize
        v.value.withUnsafeBufferPointer { vs in
            dW.withUnsafeBufferPointer { dw in
                g.value.withUnsafeBufferPointer { gs in
                    v.gradient.withUnsafeMutableBufferPointer { dv in
                        g.gradient.withUnsafeMutableBufferPointer { dg in
                            for o in 0..<outChannels {
                                var norm2: Float = 0
                                for j in 0..<n { norm2 += vs[o * n + j] * vs[o * n + j] }
                                let norm = norm2.squareRoot()
                                var dot: Float = 0
                                for j in 0..<n { dot += dw[o * n + j] * vs[o * n + j] / norm }
                                dg[o] += dot
                                for j in 0..<n {
                                    dv[o * n + j] += gs[o] / norm * (dw[o * n + j] - dot * vs[o * n + j] / norm)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
