import RecurTensor

/// The Elman RNN cell, as PyTorch's `nn.RNN`.
///
/// ```
/// h' = tanh(W_ih x + b_ih + W_hh h + b_hh)      (or relu(…) with nonlinearity relu)
/// ```
/// Stored for backward: h' itself. Backward: da = dh ⊙ (1 - h'²) (tanh) or dh ⊙ [h' > 0] (relu).
public struct RNNKernel: RecurrentCellKernel {
    /// The elementwise nonlinearity.
    public enum Nonlinearity: String, Sendable, Codable, CaseIterable {
        case tanh, relu
    }

    /// tanh or ReLU.
    public let nonlinearity: Nonlinearity

    /// The kernel with the given nonlinearity (`nn.RNN`'s default is tanh).
    public init(nonlinearity: Nonlinearity = .tanh) { self.nonlinearity = nonlinearity }

    /// PyTorch's mode name of the cell.
    public var mode: String { nonlinearity == .tanh ? "RNN_TANH" : "RNN_RELU" }
    /// Gates per hidden unit (G).
    public var gateCount: Int { 1 }
    /// Whether the cell carries a cell state c besides h.
    public var hasCellState: Bool { false }
    /// Extra activations per row kept for backward, in units of H.
    public var auxiliaryWidth: Int { 0 }
    /// Whether backward writes a separate recurrent pre-activation gradient.
    public var separateRecurrentGradient: Bool { false }

    /// One time step forward over `s.rows` and `s.units` (the equations above).
    public func forward(_ s: CellForwardStep) {
        let h = s.hiddenSize
        let relu = nonlinearity == .relu
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
            let rec = s.recurrent + b * h
            let gates = s.gates + b * h
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                let a =
                    Lanes.load(x + j, n) + Lanes.load(rec + j, n) + Lanes.load(bi + j, n)
                    + Lanes.load(bh + j, n)
                var hv: SIMD16<Float>
                if relu {
                    hv = a
                    hv.replace(with: 0, where: a .< 0)
                } else {
                    hv = VectorMath.tanh(a)
                }
                Lanes.store(hv, gates + j, n)
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
        let relu = nonlinearity == .relu
        for b in s.rows {
            let db = s.inputBiasGradient + b * s.biasGradientRowStride
            let dhIn = s.hiddenGradient + b * h
            let dhOut = s.hiddenGradientPrevious + b * h
            let gates = s.gates + b * h
            guard s.isActive(b) else {
                Lanes.copy(s.units, from: dhIn, to: dhOut)
                Lanes.zero(s.units, gates)
                continue
            }
            let dOut = s.outputGradient.map { $0 + b * s.outputStride }
            // Full 16-lane chunks in the hot loop (n is a constant 16 there, so the loads
            // compile to plain vector moves); a partial chunk only when H is not a multiple of 16.
            @inline(__always) func chunk(_ j: Int, _ n: Int) {
                var dh = Lanes.load(dhIn + j, n)
                if let dOut { dh += Lanes.load(dOut + j, n) }
                let hv = Lanes.load(gates + j, n)
                var da: SIMD16<Float>
                if relu {
                    da = dh
                    da.replace(with: 0, where: hv .<= 0)
                } else {
                    da = dh * (1 - hv * hv)
                }
                Lanes.store(da, gates + j, n)
                Lanes.accumulate(da, db + j, n)
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
