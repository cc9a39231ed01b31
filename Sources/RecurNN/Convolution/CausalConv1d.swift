// Causal dilated 1-D convolution as one GEMM (im2col).
//
// Legend: B batch, T time, C_in / C_out channels, K taps, d dilation, s_k = (K-1-k)·d.
// Layout: channels last, x [B, T, C_in] → y [B, T, C_out] (PyTorch's Conv1d is [B, C, T]; the
// weights use PyTorch's [C_out, C_in, K] layout so they load into nn.Conv1d unchanged).
//
//   y[b, t] = bias + Σ_k W[:, :, k] · x[b, t - s_k]        (x at negative t is 0)
//
// Forward gathers X_col [B·T, K·C_in], whose k-th block of columns holds x shifted back by s_k
// steps (zeros before the sequence start), and multiplies once: Y = X_col · W_colᵀ with
// W_col [C_out, K·C_in]. Backward is two GEMMs, dW_col = dYᵀ · X_col and dX_col = dY · W_col,
// and dX_col's blocks are added back shifted (col2im). One GEMM with inner size K·C_in runs
// near peak where K GEMMs with inner size C_in, each re-reading and re-writing Y, did not;
// no padding rows are computed. A 1×1 convolution multiplies x itself.

import RecurBase
import RecurTensor

/// A causal, dilated 1-D convolution (PyTorch `nn.Conv1d` with left padding (K-1)·d), with
/// optional weight normalization (Salimans & Kingma 2016: w = g · v / ‖v‖ per output channel).
public final class CausalConv1d: Module {
    /// Input channels (C_in).
    public let inChannels: Int
    /// Output channels (C_out).
    public let outChannels: Int
    /// Taps per filter (K).
    public let kernelSize: Int
    /// Steps between taps; the filter sees `(K - 1) · dilation + 1` steps back.
    public let dilation: Int
    /// `[C_out, C_in, K]` (without weight normalization).
    public let weight: Parameter?
    /// Weight normalization: direction `v` `[C_out, C_in, K]` and gain `g` `[C_out, 1, 1]`.
    public let weightDirection: Parameter?
    /// The gain g `[C_out, 1, 1]` (weight normalization only).
    public let weightGain: Parameter?
    /// `[C_out]`.
    public let bias: Parameter
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// Creates the layer with PyTorch's initialization (uniform ±1/√(C_in·K)); with weight
    /// normalization, g starts at ‖v‖ so that the initial weights are the same.
    public init(
        inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1,
        weightNormalization: Bool = false,
        rng: inout Xoshiro256
    ) {
        precondition(
            inChannels > 0 && outChannels > 0 && kernelSize > 0 && dilation > 0,
            "CausalConv1d: sizes must be positive")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        let bound = 1 / Float(inChannels * kernelSize).squareRoot()
        let w = Tensor.uniform(
            [outChannels, inChannels, kernelSize], in: -bound...bound, using: &rng)
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

    /// Visits `weight` (or `weight_g` and `weight_v` with weight normalization) and `bias`.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        if let weight { visit(.parameter("weight", weight)) }
        if let weightGain, let weightDirection {
            visit(.parameter("weight_g", weightGain))
            visit(.parameter("weight_v", weightDirection))
        }
        visit(.parameter("bias", bias))
    }

    /// P = (K-1)·d: how far back the output at t looks.
    public var padding: Int { (kernelSize - 1) * dilation }

    /// The effective weight `[C_out, C_in, K]`.
    public var effectiveWeight: Tensor {
        if let weight { return weight.value }
        guard let v = weightDirection?.value, let g = weightGain?.value else {
            preconditionFailure("CausalConv1d: no weight")
        }
        let norms = (v * v).reshaped([outChannels, -1]).sum(axis: 1, keepingDimension: true)
            .squareRoot()
        return (v.reshaped([outChannels, -1]) * (g.reshaped([outChannels, 1]) / norms)).reshaped(
            v.shape)
    }

    /// W_col [C_out, K·C_in] from W [C_out, C_in, K]: column k·C_in + i holds W[:, i, k].
    func columnWeight(_ w: Tensor) -> Tensor {
        w.permuted([0, 2, 1]).reshaped([outChannels, kernelSize * inChannels])
    }

    /// The inverse of `columnWeight`, for the weight gradient.
    func kernelWeight(_ m: Tensor) -> Tensor {
        m.reshaped([outChannels, kernelSize, inChannels]).permuted([0, 2, 1])
    }

    /// Forward on x `[B, T, C_in]` as one tape node.
    public func callAsFunction(_ x: Variable) -> Variable {
        let input = x.value
        precondition(
            input.rank == 3 && input.shape[2] == inChannels,
            "CausalConv1d: input must be [B, T, \(inChannels)], got \(input.shape)")
        let (b, t) = (input.shape[0], input.shape[1])
        let (cin, cout, k) = (inChannels, outChannels, kernelSize)
        let rows = b * t
        let w = effectiveWeight
        let wCol = columnWeight(w)
        // X_col [B·T, K·C_in]: block k of row (b, t) is x[b, t - s_k], or zeros.
        let columns: Tensor
        if k == 1 {
            columns = input.reshaped([rows, cin])
        } else {
            var gathered = Tensor(uninitializedShape: [rows, k * cin])
            gathered.withUnsafeMutableBufferPointer { d in
                input.withUnsafeBufferPointer { s in
                    let (dst, src) = (d.start, s.start)
                    ThreadPool.shared.parallelRanges(count: b) { sequences in
                        for batch in sequences {
                            for tap in 0..<k {
                                let shift = (k - 1 - tap) * self.dilation
                                let zeroed = min(shift, t)
                                for step in 0..<zeroed {
                                    (dst + ((batch * t + step) * k + tap) * cin).update(
                                        repeating: 0, count: cin)
                                }
                                for step in zeroed..<t {
                                    (dst + ((batch * t + step) * k + tap) * cin).update(
                                        from: src + (batch * t + step - shift) * cin, count: cin)
                                }
                            }
                        }
                    }
                }
            }
            columns = gathered
        }
        // Y = X_col · W_colᵀ + bias.
        var y = Tensor(uninitializedShape: [b, t, cout])
        y.withUnsafeMutableBufferPointer { d in
            bias.value.withUnsafeBufferPointer { bias in
                ThreadPool.shared.parallelRanges(count: rows, granularity: 64) { range in
                    for row in range {
                        (d.start + row * cout).update(from: bias.start, count: cout)
                    }
                }
            }
        }
        BLAS.gemm(
            transposeB: true, m: rows, n: cout, k: k * cin, a: columns.unsafeBase, lda: k * cin,
            b: wCol.unsafeBase, ldb: k * cin,
            beta: 1, c: y.unsafeMutableBase(), ldc: cout)
        let tape = x.tape
        var inputs = [x, tape.parameter(bias)]
        if let weight { inputs.append(tape.parameter(weight)) }
        if let weightGain, let weightDirection {
            inputs += [tape.parameter(weightGain), tape.parameter(weightDirection)]
        }
        return tape.record(y, inputs: inputs) { g in
            self.bias.gradient += g.reshaped([rows, cout]).sum(axis: 0)
            // dW_col = dYᵀ · X_col
            var dWCol = Tensor(uninitializedShape: [cout, k * cin])
            BLAS.gemm(
                transposeA: true, m: cout, n: k * cin, k: rows, a: g.unsafeBase, lda: cout,
                b: columns.unsafeBase, ldb: k * cin,
                c: dWCol.unsafeMutableBase(), ldc: k * cin)
            self.accumulateWeightGradient(self.kernelWeight(dWCol))
            guard tape.requiresGradient(x) else { return }
            // dX_col = dY · W_col, then each block added back at its shift.
            if k == 1 {
                var dx = Tensor(uninitializedShape: input.shape)
                BLAS.gemm(
                    m: rows, n: cin, k: cout, a: g.unsafeBase, lda: cout, b: wCol.unsafeBase,
                    ldb: cin, c: dx.unsafeMutableBase(), ldc: cin)
                tape.accumulate(dx, into: x)
                return
            }
            var dColumns = Tensor(uninitializedShape: [rows, k * cin])
            BLAS.gemm(
                m: rows, n: k * cin, k: cout, a: g.unsafeBase, lda: cout, b: wCol.unsafeBase,
                ldb: k * cin,
                c: dColumns.unsafeMutableBase(), ldc: k * cin)
            var dx = Tensor(uninitializedShape: input.shape)
            dx.withUnsafeMutableBufferPointer { d in
                dColumns.withUnsafeBufferPointer { s in
                    let (dst, src) = (d.start, s.start)
                    // Tap K-1 has no shift: it initializes dx; the others add at their shifts.
                    ThreadPool.shared.parallelRanges(count: b) { sequences in
                        for batch in sequences {
                            for step in 0..<t {
                                (dst + (batch * t + step) * cin).update(
                                    from: src + ((batch * t + step) * k + k - 1) * cin, count: cin)
                            }
                            for tap in 0..<(k - 1) {
                                let shift = (k - 1 - tap) * self.dilation
                                guard shift < t else { continue }
                                for step in shift..<t {
                                    VectorMath.axpy(
                                        1, src + ((batch * t + step) * k + tap) * cin,
                                        dst + (batch * t + step - shift) * cin, count: cin)
                                }
                            }
                        }
                    }
                }
            }
            tape.accumulate(dx, into: x)
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
                                    dv[o * n + j] +=
                                        gs[o] / norm * (dw[o * n + j] - dot * vs[o * n + j] / norm)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
