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
    public init() {}
    public var mode: String { "GRU" }
    public var gateCount: Int { 3 }
    public var hasCellState: Bool { false }
    public var auxiliaryWidth: Int { 1 }
    public var separateRecurrentGradient: Bool { true }

    public func forward(_ s: CellForwardStep) {
        let h = s.hiddenSize
        let g3 = 3 * h
        for b in s.rows {
            let hPrev = s.hiddenPrevious + b * h
            let hNext = s.hiddenNext + b * h
            let out = s.output + b * s.outputStride
            guard s.isActive(b) else {
                hNext.update(from: hPrev, count: h)
                out.update(repeating: 0, count: h)
                continue
            }
            let x = s.inputRow(b)
            let rec = s.recurrent + b * g3
            let gates = s.gates + b * g3
            let hnStore = s.auxiliary + b * h
            var j = 0
            while j < h {
                let n = min(16, h - j)
                let r = VectorMath.sigmoid(
                    Lanes.load(x + j, n) + Lanes.load(rec + j, n) + Lanes.load(s.biasHH + j, n))
                let z = VectorMath.sigmoid(
                    Lanes.load(x + h + j, n) + Lanes.load(rec + h + j, n) + Lanes.load(s.biasHH + h + j, n))
                let hn = Lanes.load(rec + 2 * h + j, n) + Lanes.load(s.biasHH + 2 * h + j, n)
                let nv = VectorMath.tanh(Lanes.load(x + 2 * h + j, n) + r * hn)
                let hp = Lanes.load(hPrev + j, n)
                let hv = nv + z * (hp - nv)
                Lanes.store(r, gates + j, n)
                Lanes.store(z, gates + h + j, n)
                Lanes.store(nv, gates + 2 * h + j, n)
                Lanes.store(hn, hnStore + j, n)
                Lanes.store(hv, hNext + j, n)
                Lanes.store(hv, out + j, n)
                j += 16
            }
        }
    }

    public func backward(_ s: CellBackwardStep) {
        let h = s.hiddenSize
        let g3 = 3 * h
        for b in s.rows {
            let dhIn = s.hiddenGradient + b * h
            let dhOut = s.hiddenGradientPrevious + b * h
            let gates = s.gates + b * g3
            let dRec = s.recurrentGradient + b * g3
            guard s.isActive(b) else {
                dhOut.update(from: dhIn, count: h)
                gates.update(repeating: 0, count: g3)
                dRec.update(repeating: 0, count: g3)
                continue
            }
            let hn = s.auxiliary + b * h
            let hPrev = s.hiddenPrevious + b * h
            let dOut = s.outputGradient.map { $0 + b * s.outputStride }
            var j = 0
            while j < h {
                let n = min(16, h - j)
                var dh = Lanes.load(dhIn + j, n)
                if let dOut { dh += Lanes.load(dOut + j, n) }
                let r = Lanes.load(gates + j, n)
                let z = Lanes.load(gates + h + j, n)
                let nv = Lanes.load(gates + 2 * h + j, n)
                let dan = dh * (1 - z) * (1 - nv * nv)
                let dar = dan * Lanes.load(hn + j, n) * r * (1 - r)
                let daz = dh * (Lanes.load(hPrev + j, n) - nv) * z * (1 - z)
                Lanes.store(dar, gates + j, n)
                Lanes.store(daz, gates + h + j, n)
                Lanes.store(dan, gates + 2 * h + j, n)
                Lanes.store(dar, dRec + j, n)
                Lanes.store(daz, dRec + h + j, n)
                Lanes.store(dan * r, dRec + 2 * h + j, n)
                Lanes.store(dh * z, dhOut + j, n)
                j += 16
            }
        }
    }
}
