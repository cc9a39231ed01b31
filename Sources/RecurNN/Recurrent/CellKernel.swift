// Shared definitions of the fused recurrent cell kernels.
//
// Dimension legend for every file in Recurrent/:
//   T time steps, B batch, I input features, H hidden units, G gates per unit
//   (LSTM 4: i|f|g|o, GRU 3: r|z|n, RNN 1), D directions (1 or 2), L layers.
//
// A kernel processes the hidden units `units` of every row (batch entry) of one time step, so
// the threads of a step each own a slice of units (and of the gate columns that feed them).
// Row strides are in floats. Pre-activations come in two parts: the input part x W_ihᵀ (one
// GEMM over all steps, or rows of a token table E W_ihᵀ) and the recurrent part h W_hhᵀ (one
// GEMM per step); the kernel adds both biases itself (GRU needs b_hn inside the reset gate's
// product), and its backward accumulates the bias gradients for its units on the way.

import RecurTensor

/// Pointers for one forward time step of a cell kernel.
///
/// Opaque outside the package: only the recurrent engine builds steps (the fields and the
/// initializer are `package`), so the type appears in `RecurrentCellKernel` without exposing
/// raw pointers.
public struct CellForwardStep {
    /// Rows of the batch to process.
    package var rows: Range<Int>
    /// Hidden units to process (a multiple of 16 wide, except at the end).
    package var units: Range<Int>
    /// H.
    package var hiddenSize: Int
    /// `b_ih`, `[G·H]`.
    package var biasIH: UnsafePointer<Float>
    /// Input part of the pre-activations: row b at `input + b * inputStride`, or, with
    /// `inputRowIndex`, at `input + inputRowIndex[b] * inputStride` (a token table).
    package var input: UnsafePointer<Float>
    /// Floats between consecutive rows of `input`.
    package var inputStride: Int
    /// Per row, the table row to read (token input), or nil.
    package var inputRowIndex: UnsafePointer<Int32>?
    /// Recurrent part `h_{t-1} W_hhᵀ`, `[B, G·H]`.
    package var recurrent: UnsafePointer<Float>
    /// `b_hh`, `[G·H]`.
    package var biasHH: UnsafePointer<Float>
    /// `h_{t-1}` and `c_{t-1}`, `[B, H]` (c unused by GRU/RNN).
    package var hiddenPrevious: UnsafePointer<Float>
    /// `c_{t-1}`, `[B, H]` (unused by GRU and RNN).
    package var cellPrevious: UnsafePointer<Float>
    /// Gate activations stored for backward, `[B, G·H]` (may alias `input` when
    /// `inputRowIndex` is nil: each element is read before it is written).
    package var gates: UnsafeMutablePointer<Float>
    /// Extra activations for backward, `[B, auxiliaryWidth·H]` (LSTM tanh c, GRU W_hn h + b_hn).
    package var auxiliary: UnsafeMutablePointer<Float>
    /// New state `h_t`, `c_t`, `[B, H]`.
    package var hiddenNext: UnsafeMutablePointer<Float>
    /// `c_t`, `[B, H]` (unused by GRU and RNN).
    package var cellNext: UnsafeMutablePointer<Float>
    /// The layer output row for this step (`h_t`, or 0 where the row is past its length).
    package var output: UnsafeMutablePointer<Float>
    /// Floats between consecutive rows of `output`.
    package var outputStride: Int
    /// Per-row sequence lengths (nil: all rows active) and this step's time index.
    package var lengths: UnsafePointer<Int32>?
    /// This step's time index t.
    package var time: Int

    @inline(__always)
    func isActive(_ b: Int) -> Bool { lengths.map { time < Int($0[b]) } ?? true }

    @inline(__always)
    func inputRow(_ b: Int) -> UnsafePointer<Float> {
        if let inputRowIndex { return input + Int(inputRowIndex[b]) * inputStride }
        return input + b * inputStride
    }

    /// Creates a step description (every pointer must stay valid while the kernel runs).
    package init(
        rows: Range<Int>,
        units: Range<Int>,
        hiddenSize: Int,
        biasIH: UnsafePointer<Float>,
        input: UnsafePointer<Float>,
        inputStride: Int,
        inputRowIndex: UnsafePointer<Int32>?,
        recurrent: UnsafePointer<Float>,
        biasHH: UnsafePointer<Float>,
        hiddenPrevious: UnsafePointer<Float>,
        cellPrevious: UnsafePointer<Float>,
        gates: UnsafeMutablePointer<Float>,
        auxiliary: UnsafeMutablePointer<Float>,
        hiddenNext: UnsafeMutablePointer<Float>,
        cellNext: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>,
        outputStride: Int,
        lengths: UnsafePointer<Int32>?,
        time: Int
    ) {
        self.rows = rows
        self.units = units
        self.hiddenSize = hiddenSize
        self.biasIH = biasIH
        self.input = input
        self.inputStride = inputStride
        self.inputRowIndex = inputRowIndex
        self.recurrent = recurrent
        self.biasHH = biasHH
        self.hiddenPrevious = hiddenPrevious
        self.cellPrevious = cellPrevious
        self.gates = gates
        self.auxiliary = auxiliary
        self.hiddenNext = hiddenNext
        self.cellNext = cellNext
        self.output = output
        self.outputStride = outputStride
        self.lengths = lengths
        self.time = time
    }
}

/// Pointers for one backward time step of a cell kernel.
///
/// Opaque outside the package: only the recurrent engine builds steps (the fields and the
/// initializer are `package`), so the type appears in `RecurrentCellKernel` without exposing
/// raw pointers.
public struct CellBackwardStep {
    /// The batch rows this call processes.
    package var rows: Range<Int>
    /// The hidden units this call processes (multiples of 16 apart from the end).
    package var units: Range<Int>
    /// H.
    package var hiddenSize: Int
    /// Stored activations `[B, G·H]`; overwritten in place with d pre-activation (input side).
    package var gates: UnsafeMutablePointer<Float>
    /// Stored auxiliary activations.
    package var auxiliary: UnsafePointer<Float>
    /// `h_{t-1}`, `c_{t-1}` as used in the forward step.
    package var hiddenPrevious: UnsafePointer<Float>
    /// `c_{t-1}` as used in the forward step (LSTM).
    package var cellPrevious: UnsafePointer<Float>
    /// d loss / d output at this step (row stride `outputStride`), or nil.
    package var outputGradient: UnsafePointer<Float>?
    /// Floats between consecutive rows of `outputGradient`.
    package var outputStride: Int
    /// d loss / d h_t flowing back from step t+1, `[B, H]`.
    package var hiddenGradient: UnsafePointer<Float>
    /// Written: the part of d loss / d h_{t-1} that does not go through W_hh (the GEMM adds the
    /// rest), `[B, H]`.
    package var hiddenGradientPrevious: UnsafeMutablePointer<Float>
    /// d loss / d c, updated in place from c_t to c_{t-1} (LSTM).
    package var cellGradient: UnsafeMutablePointer<Float>
    /// Written when the recurrent pre-activation gradient differs from the input one (GRU),
    /// `[B, G·H]`.
    package var recurrentGradient: UnsafeMutablePointer<Float>
    /// Bias-gradient accumulators `[G·H]` (`+=` for the units processed): the input side's, and
    /// the recurrent side's when it differs (GRU).
    ///
    /// Row b accumulates at `b · biasGradientRowStride` from these (0: all rows into one
    /// accumulator).
    package var inputBiasGradient: UnsafeMutablePointer<Float>
    /// The recurrent side's bias-gradient accumulator (GRU; the input side's otherwise).
    package var recurrentBiasGradient: UnsafeMutablePointer<Float>
    /// Floats between the accumulators of consecutive rows (0: one accumulator for all rows).
    package var biasGradientRowStride: Int
    /// Per-row sequence lengths (nil: all rows active at every step).
    package var lengths: UnsafePointer<Int32>?
    /// This step's time index t.
    package var time: Int

    @inline(__always)
    func isActive(_ b: Int) -> Bool { lengths.map { time < Int($0[b]) } ?? true }

    /// Creates a step description (every pointer must stay valid while the kernel runs).
    package init(
        rows: Range<Int>,
        units: Range<Int>,
        hiddenSize: Int,
        gates: UnsafeMutablePointer<Float>,
        auxiliary: UnsafePointer<Float>,
        hiddenPrevious: UnsafePointer<Float>,
        cellPrevious: UnsafePointer<Float>,
        outputGradient: UnsafePointer<Float>?,
        outputStride: Int,
        hiddenGradient: UnsafePointer<Float>,
        hiddenGradientPrevious: UnsafeMutablePointer<Float>,
        cellGradient: UnsafeMutablePointer<Float>,
        recurrentGradient: UnsafeMutablePointer<Float>,
        inputBiasGradient: UnsafeMutablePointer<Float>,
        recurrentBiasGradient: UnsafeMutablePointer<Float>,
        biasGradientRowStride: Int = 0,
        lengths: UnsafePointer<Int32>?,
        time: Int
    ) {
        self.rows = rows
        self.units = units
        self.hiddenSize = hiddenSize
        self.gates = gates
        self.auxiliary = auxiliary
        self.hiddenPrevious = hiddenPrevious
        self.cellPrevious = cellPrevious
        self.outputGradient = outputGradient
        self.outputStride = outputStride
        self.hiddenGradient = hiddenGradient
        self.hiddenGradientPrevious = hiddenGradientPrevious
        self.cellGradient = cellGradient
        self.recurrentGradient = recurrentGradient
        self.inputBiasGradient = inputBiasGradient
        self.recurrentBiasGradient = recurrentBiasGradient
        self.biasGradientRowStride = biasGradientRowStride
        self.lengths = lengths
        self.time = time
    }
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
        n >= 16
            ? UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
            : VectorMath.load(p, count: n)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        VectorMath.store(v, p, count: n)
    }

    /// p[0..<n] += v.
    @inline(__always)
    static func accumulate(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        store(load(p, n) + v, p, n)
    }

    /// Copies `units` of a row.
    @inline(__always)
    static func copy(
        _ units: Range<Int>, from source: UnsafePointer<Float>,
        to destination: UnsafeMutablePointer<Float>
    ) {
        (destination + units.lowerBound).update(from: source + units.lowerBound, count: units.count)
    }

    /// Zeroes `units` of a row.
    @inline(__always)
    static func zero(_ units: Range<Int>, _ destination: UnsafeMutablePointer<Float>) {
        (destination + units.lowerBound).update(repeating: 0, count: units.count)
    }
}
