import RecurTensor

/// The GRU cell (Cho et al. 2014), PyTorch `nn.GRU` semantics:
///
/// ```
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)
/// z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 - z) ⊙ n + z ⊙ h
/// ```
/// Gates are packed r|z|n. Stored for backward: r, z, n and hn = W_hn h + b_hn.
///
/// Backward (dh = d loss / d h'):
/// ```
/// dn = dh ⊙ (1 - z)     dz = dh ⊙ (h - n)     dh_prev (direct) = dh ⊙ z
/// da_n = dn ⊙ (1 - n²)  dr = da_n ⊙ hn
/// input side:     dr·r(1-r) | dz·z(1-z) | da_n
/// recurrent side: dr·r(1-r) | dz·z(1-z) | da_n ⊙ r
/// ```
public struct GRUKernel: RecurrentCellKernel {
    /// The cell's kernel (it has no settings).
    public init() {}
    /// PyTorch's mode name of the cell.
    public var mode: String { "GRU" }
    /// Gates per hidden unit (G).
    public var gateCount: Int { 3 }
    /// Whether the cell carries a cell state c besides h.
    public var hasCellState: Bool { false }
    /// Extra activations per row kept for backward, in units of H.
    public var auxiliaryWidth: Int { 1 }
    /// Whether backward writes a separate recurrent pre-activation gradient.
    public var separateRecurrentGradient: Bool { true }

    /// One time step forward over `s.rows` and `s.units` (the equations above).
    public func forward(_ s: CellForwardStep) {
        let h = s.hiddenSize
        let g3 = 3 * h
        let (bi, bh) = (s.biasIH, s.biasHH)
        for b in s.rows {
            let hPrev = s.hiddenPrevious + b * h
            let hNext = s.hiddenNext + b * h
            let out = s.output + b * s.outputStride
            guard s.isActive(b) else {
                Lanes.copy(s.units, from: hPrev, to: hNext)
                Lanes.zero(s.units, out)
                continue
            }
            let x = s.inputRow(b)
            let rec = s.recurrent + b * g3
            let gates = s.gates + b * g3
            let hnStore = s.auxiliary + b * h
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                let (o0, o1, o2) = (j, h + j, 2 * h + j)
                let r = VectorMath.sigmoid(
                    Lanes.load(x + o0, n) + Lanes.load(rec + o0, n) + Lanes.load(bi + o0, n)
                        + Lanes.load(bh + o0, n))
                let z = VectorMath.sigmoid(
                    Lanes.load(x + o1, n) + Lanes.load(rec + o1, n) + Lanes.load(bi + o1, n)
                        + Lanes.load(bh + o1, n))
                let hn = Lanes.load(rec + o2, n) + Lanes.load(bh + o2, n)
                let nv = VectorMath.tanh(Lanes.load(x + o2, n) + Lanes.load(bi + o2, n) + r * hn)
                let hp = Lanes.load(hPrev + j, n)
                let hv = nv + z * (hp - nv)
                Lanes.store(r, gates + o0, n)
                Lanes.store(z, gates + o1, n)
                Lanes.store(nv, gates + o2, n)
                Lanes.store(hn, hnStore + j, n)
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
        let g3 = 3 * h
        for b in s.rows {
            let dbi = s.inputBiasGradient + b * s.biasGradientRowStride
            let dbh = s.recurrentBiasGradient + b * s.biasGradientRowStride
            let dhIn = s.hiddenGradient + b * h
            let dhOut = s.hiddenGradientPrevious + b * h
            let gates = s.gates + b * g3
            let dRec = s.recurrentGradient + b * g3
            guard s.isActive(b) else {
                Lanes.copy(s.units, from: dhIn, to: dhOut)
                for k in 0..<3 {
                    Lanes.zero(s.units, gates + k * h)
                    Lanes.zero(s.units, dRec + k * h)
                }
                continue
            }
            let hn = s.auxiliary + b * h
            let hPrev = s.hiddenPrevious + b * h
            let dOut = s.outputGradient.map { $0 + b * s.outputStride }
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                var dh = Lanes.load(dhIn + j, n)
                if let dOut { dh += Lanes.load(dOut + j, n) }
                let r = Lanes.load(gates + j, n)
                let z = Lanes.load(gates + h + j, n)
                let nv = Lanes.load(gates + 2 * h + j, n)
                let dan = dh * (1 - z) * (1 - nv * nv)
                let dar = dan * Lanes.load(hn + j, n) * r * (1 - r)
                let daz = dh * (Lanes.load(hPrev + j, n) - nv) * z * (1 - z)
                let dhn = dan * r
                Lanes.store(dar, gates + j, n)
                Lanes.store(daz, gates + h + j, n)
                Lanes.store(dan, gates + 2 * h + j, n)
                Lanes.store(dar, dRec + j, n)
                Lanes.store(daz, dRec + h + j, n)
                Lanes.store(dhn, dRec + 2 * h + j, n)
                Lanes.accumulate(dar, dbi + j, n)
                Lanes.accumulate(daz, dbi + h + j, n)
                Lanes.accumulate(dan, dbi + 2 * h + j, n)
                Lanes.accumulate(dar, dbh + j, n)
                Lanes.accumulate(daz, dbh + h + j, n)
                Lanes.accumulate(dhn, dbh + 2 * h + j, n)
                Lanes.store(dh * z, dhOut + j, n)
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
