// Shared definitions of the fused recurrent cell kernels.
//
// Dimension legend for every file in Recurrent/:
//   T time steps, B batch, I input features, H hidden units, G gates per unit
//   (LSTM 4: i|f|g|o, GRU 3: r|z|n, RNN 1), D directions (1 or 2), L layers.
//
// A kernel processes rows (batch entries) `rows` of one time step. Row strides are in floats.
// Pre-activations are split in two parts: the input part (x W_ihᵀ + b_ih, from one GEMM over
// all steps or from a token table) and the recurrent part (h W_hhᵀ, one GEMM per step); the
// kernel adds b_hh itself because GRU needs it inside the reset gate's product.

import RecurTensor

/// Pointers for one forward time step of a cell kernel.
public struct CellForwardStep {
    /// Rows of the batch to process.
    public var rows: Range<Int>
    /// H.
    public var hiddenSize: Int
    /// Input part of the pre-activations: row b at `input + b * inputStride`, or, with
    /// `inputRowIndex`, at `input + inputRowIndex[b] * inputStride` (a token table).
    public var input: UnsafePointer<Float>
    public var inputStride: Int
    public var inputRowIndex: UnsafePointer<Int32>?
    /// Recurrent part `h_{t-1} W_hhᵀ`, `[B, G·H]`.
    public var recurrent: UnsafePointer<Float>
    /// `b_hh`, `[G·H]`.
    public var biasHH: UnsafePointer<Float>
    /// `h_{t-1}` and `c_{t-1}`, `[B, H]` (c unused by GRU/RNN).
    public var hiddenPrevious: UnsafePointer<Float>
    public var cellPrevious: UnsafePointer<Float>
    /// Gate activations stored for backward, `[B, G·H]` (may alias `input` when
    /// `inputRowIndex` is nil: each element is read before it is written).
    public var gates: UnsafeMutablePointer<Float>
    /// Extra activations for backward, `[B, auxiliaryWidth·H]` (LSTM tanh c, GRU W_hn h + b_hn).
    public var auxiliary: UnsafeMutablePointer<Float>
    /// New state `h_t`, `c_t`, `[B, H]`.
    public var hiddenNext: UnsafeMutablePointer<Float>
    public var cellNext: UnsafeMutablePointer<Float>
    /// The layer output row for this step (`h_t`, or 0 where the row is past its length).
    public var output: UnsafeMutablePointer<Float>
    public var outputStride: Int
    /// Per-row sequence lengths (nil: all rows active) and this step's time index.
    public var lengths: UnsafePointer<Int32>?
    public var time: Int

    @inline(__always)
    func isActive(_ b: Int) -> Bool { lengths.map { time < Int($0[b]) } ?? true }

    @inline(__always)
    func inputRow(_ b: Int) -> UnsafePointer<Float> {
        if let inputRowIndex { return input + Int(inputRowIndex[b]) * inputStride }
        return input + b * inputStride
    }
}

/// Pointers for one backward time step of a cell kernel.
public struct CellBackwardStep {
    public var rows: Range<Int>
    public var hiddenSize: Int
    /// Stored activations `[B, G·H]`; overwritten in place with d pre-activation (input side).
    public var gates: UnsafeMutablePointer<Float>
    /// Stored auxiliary activations.
    public var auxiliary: UnsafePointer<Float>
    /// `h_{t-1}`, `c_{t-1}` as used in the forward step.
    public var hiddenPrevious: UnsafePointer<Float>
    public var cellPrevious: UnsafePointer<Float>
    /// d loss / d output at this step (row stride `outputStride`), or nil.
    public var outputGradient: UnsafePointer<Float>?
    public var outputStride: Int
    /// d loss / d h_t flowing back from step t+1, `[B, H]`.
    public var hiddenGradient: UnsafePointer<Float>
    /// Written: the part of d loss / d h_{t-1} that does not go through W_hh (the GEMM adds the
    /// rest), `[B, H]`.
    public var hiddenGradientPrevious: UnsafeMutablePointer<Float>
    /// d loss / d c, updated in place from c_t to c_{t-1} (LSTM).
    public var cellGradient: UnsafeMutablePointer<Float>
    /// Written when the recurrent pre-activation gradient differs from the input one (GRU),
    /// `[B, G·H]`.
    public var recurrentGradient: UnsafeMutablePointer<Float>
    public var lengths: UnsafePointer<Int32>?
    public var time: Int

    @inline(__always)
    func isActive(_ b: Int) -> Bool { lengths.map { time < Int($0[b]) } ?? true }
}

/// The per-step math of a recurrent cell, fused into one pass over memory.
public protocol RecurrentCellKernel: Sendable {
    /// PyTorch's mode name (`LSTM`, `GRU`, `RNN_TANH`, `RNN_RELU`).
    var mode: String { get }
    /// G.
    var gateCount: Int { get }
    /// Whether the cell carries c besides h.
    var hasCellState: Bool { get }
    /// Auxiliary floats per row, in units of H.
    var auxiliaryWidth: Int { get }
    /// Whether backward writes a separate recurrent pre-activation gradient.
    var separateRecurrentGradient: Bool { get }
    /// One forward step over `step.rows`.
    func forward(_ step: CellForwardStep)
    /// One backward step over `step.rows`.
    func backward(_ step: CellBackwardStep)
}

/// 16-lane helpers for the kernels.
@usableFromInline
enum Lanes {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ n: Int) -> SIMD16<Float> {
        n >= 16 ? UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) : VectorMath.load(p, count: n)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        VectorMath.store(v, p, count: n)
    }

    /// Copies a row (or zeroes it when `source` is nil).
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>?, _ destination: UnsafeMutablePointer<Float>, _ n: Int) {
        if let source { destination.update(from: source, count: n) } else { destination.update(repeating: 0, count: n) }
    }
}
