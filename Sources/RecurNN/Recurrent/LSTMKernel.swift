import RecurTensor

/// The LSTM cell (Hochreiter & Schmidhuber 1997, with forget gate), as PyTorch's `nn.LSTM`.
///
///
/// ```
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)
/// f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)
/// o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g
/// h' = o ⊙ tanh(c')
/// ```
/// Gates are packed i|f|g|o along the last axis (PyTorch's order), so `weight_ih` is `[4H, I]`.
/// Stored for backward: the four activations and tanh(c').
///
/// Backward (per unit, dh = d loss / d h', dc = d loss / d c' from step t+1):
/// ```
/// do = dh ⊙ tanh c'                 dc += dh ⊙ o ⊙ (1 - tanh² c')
/// di = dc ⊙ g   df = dc ⊙ c   dg = dc ⊙ i   dc_prev = dc ⊙ f
/// d pre-activations: di·i(1-i) | df·f(1-f) | dg·(1-g²) | do·o(1-o)
/// ```
public struct LSTMKernel: RecurrentCellKernel {
    /// The cell's kernel (it has no settings).
    public init() {}
    /// PyTorch's mode name of the cell.
    public var mode: String { "LSTM" }
    /// Gates per hidden unit (G).
    public var gateCount: Int { 4 }
    /// Whether the cell carries a cell state c besides h.
    public var hasCellState: Bool { true }
    /// Extra activations per row kept for backward, in units of H.
    public var auxiliaryWidth: Int { 1 }
    /// Whether backward writes a separate recurrent pre-activation gradient.
    public var separateRecurrentGradient: Bool { false }

    /// One time step forward over `s.rows` and `s.units` (the equations above).
    public func forward(_ s: CellForwardStep) {
        let h = s.hiddenSize
        let g4 = 4 * h
        let (bi, bh) = (s.biasIH, s.biasHH)
        for b in s.rows {
            let hPrev = s.hiddenPrevious + b * h
            let cPrev = s.cellPrevious + b * h
            let hNext = s.hiddenNext + b * h
            let cNext = s.cellNext + b * h
            let out = s.output + b * s.outputStride
            guard s.isActive(b) else {
                Lanes.copy(s.units, from: hPrev, to: hNext)
                Lanes.copy(s.units, from: cPrev, to: cNext)
                Lanes.zero(s.units, out)
                continue
            }
            let x = s.inputRow(b)
            let r = s.recurrent + b * g4
            let gates = s.gates + b * g4
            let tanhC = s.auxiliary + b * h
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                @inline(__always) func pre(_ k: Int) -> SIMD16<Float> {
                    let o = k * h + j
                    return Lanes.load(x + o, n) + Lanes.load(r + o, n) + Lanes.load(bi + o, n)
                        + Lanes.load(bh + o, n)
                }
                let i = VectorMath.sigmoid(pre(0))
                let f = VectorMath.sigmoid(pre(1))
                let g = VectorMath.tanh(pre(2))
                let o = VectorMath.sigmoid(pre(3))
                let c = f * Lanes.load(cPrev + j, n) + i * g
                let tc = VectorMath.tanh(c)
                let hv = o * tc
                Lanes.store(i, gates + j, n)
                Lanes.store(f, gates + h + j, n)
                Lanes.store(g, gates + 2 * h + j, n)
                Lanes.store(o, gates + 3 * h + j, n)
                Lanes.store(tc, tanhC + j, n)
                Lanes.store(c, cNext + j, n)
                Lanes.store(hv, hNext + j, n)
                Lanes.store(hv, out + j, n)
            }
            var j = s.units.lowerBound
            while j + 16 <= s.units.upperBound {
                chunk(j, 16)
                j += 16
            }
            if j < s.units.upperBound { chunk(j, s.units.upperBound - j) }
        }
    }

    /// One time step backward over `s.rows` and `s.units`.
    public func backward(_ s: CellBackwardStep) {
        let h = s.hiddenSize
        let g4 = 4 * h
        for b in s.rows {
            let db = s.inputBiasGradient + b * s.biasGradientRowStride
            let dhIn = s.hiddenGradient + b * h
            let dhOut = s.hiddenGradientPrevious + b * h
            let dc = s.cellGradient + b * h
            let gates = s.gates + b * g4
            guard s.isActive(b) else {
                Lanes.copy(s.units, from: dhIn, to: dhOut)
                for k in 0..<4 { Lanes.zero(s.units, gates + k * h) }
                continue
            }
            let tanhC = s.auxiliary + b * h
            let cPrev = s.cellPrevious + b * h
            let dOut = s.outputGradient.map { $0 + b * s.outputStride }
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                var dh = Lanes.load(dhIn + j, n)
                if let dOut { dh += Lanes.load(dOut + j, n) }
                let i = Lanes.load(gates + j, n)
                let f = Lanes.load(gates + h + j, n)
                let g = Lanes.load(gates + 2 * h + j, n)
                let o = Lanes.load(gates + 3 * h + j, n)
                let tc = Lanes.load(tanhC + j, n)
                let dcv = Lanes.load(dc + j, n) + dh * o * (1 - tc * tc)
                let dai = dcv * g * i * (1 - i)
                let daf = dcv * Lanes.load(cPrev + j, n) * f * (1 - f)
                let dag = dcv * i * (1 - g * g)
                let dao = dh * tc * o * (1 - o)
                Lanes.store(dai, gates + j, n)
                Lanes.store(daf, gates + h + j, n)
                Lanes.store(dag, gates + 2 * h + j, n)
                Lanes.store(dao, gates + 3 * h + j, n)
                Lanes.accumulate(dai, db + j, n)
                Lanes.accumulate(daf, db + h + j, n)
                Lanes.accumulate(dag, db + 2 * h + j, n)
                Lanes.accumulate(dao, db + 3 * h + j, n)
                Lanes.store(dcv * f, dc + j, n)
                Lanes.store(SIMD16(repeating: 0), dhOut + j, n)
            }
            var j = s.units.lowerBound
            while j + 16 <= s.units.upperBound {
                chunk(j, 16)
                j += 16
            }
            if j < s.units.upperBound { chunk(j, s.units.upperBound - j) }
        }
    }
}
