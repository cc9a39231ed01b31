// The workspaces of a recurrent layer: per-direction buffers and the recycled cache.

import RecurBase
import RecurTensor

/// Buffers of one layer and direction, reused across calls.
final class DirectionBuffers {
    var gates = Tensor()  // [T, B, G·H]: input projection → activations → d pre-activations
    var auxiliary = Tensor()  // [T, B, aux·H]
    var hiddenPrevious = Tensor()  // [T, B, H]: h_{t-1} as used at step t
    var cellPrevious = Tensor()  // [T, B, H]
    var recurrentGradient = Tensor()  // [T, B, G·H] (GRU)
    var scratch = Tensor()  // [B, G·H]: h W_hhᵀ of the current step
    var packedHH = Tensor()  // W_hhᵀ packed for the forward steps (PanelGEMM)
    var packedHHBackward = Tensor()  // W_hh packed for the backward steps
    var table = Tensor()  // [V, G·H]: token table E W_ihᵀ (layer 0)
    var tableGradient = Tensor()  // [V, G·H]
    var hiddenGradient = Tensor()  // [B, H]
    var hiddenGradientNext = Tensor()  // [B, H]
    var cellGradient = Tensor()  // [B, H]
    // [B, biasAccumulatorWidth]: per row, input-side (and recurrent-side) bias gradient sums.
    var biasGradients = Tensor()
    var packedFrom: Tensor?  // after an inference pass: the W_hh value packedHH was made from
    // After an inference pass: (E, W_ih) the table came from.
    var tableFrom: (Tensor?, Tensor?) = (nil, nil)
}

/// What a forward pass recorded for its backward pass; owned by the layer and recycled.
public final class RecurrentCache {
    enum Source {
        case none
        case tensor(Tensor)
        case tokens([Int32], Embedding)
    }

    var source: Source = .none
    var isLive = false
    var timeSteps = 0
    var batch = 0
    /// Per-row sequence lengths (empty: all rows run every step) and the token ids, at
    /// addresses that stay valid for the whole pass (an array's address is valid only inside its
    /// `withUnsafeBufferPointer`).
    let lengths = StableInt32Buffer()
    let tokens = StableInt32Buffer()
    var usesDropout = false
    var isInferencePass = false  // packed W_hh and token tables may be kept for the next pass
    var directions: [[DirectionBuffers]]
    var layerOutputs: [Tensor]  // [T, B, D·H] per layer
    var layerInputs: [Tensor]  // [T, B, D·H] per layer ≥ 1 (after dropout)
    var layerGradients: [Tensor]  // d loss / d output of layer l (for l < L-1)
    var masks: [Tensor]  // dropout masks, layer outputs 0..<L-1
    var finalState: RecurrentState
    var initialGradient: RecurrentState
    var initialState: RecurrentState?
    var inputGradient = Tensor()  // [T, B, I]
    private var recurrenceJob: AnyObject?

    /// The layer's reusable recurrence job.
    func job<K>(for layer: RecurrentLayer<K>) -> RecurrenceJob<K> {
        if let job = recurrenceJob as? RecurrenceJob<K> { return job }
        let job = RecurrenceJob<K>(kernel: layer.kernel)
        recurrenceJob = job
        return job
    }

    init(layers: Int, directions: Int) {
        self.directions = (0..<layers).map { _ in (0..<directions).map { _ in DirectionBuffers() } }
        layerOutputs = Array(repeating: Tensor(), count: layers)
        layerInputs = Array(repeating: Tensor(), count: layers)
        layerGradients = Array(repeating: Tensor(), count: layers)
        masks = Array(repeating: Tensor(), count: layers)
        finalState = RecurrentState(hidden: Tensor())
        initialGradient = RecurrentState(hidden: Tensor())
    }

    var isTensorSource: Bool {
        if case .tensor = source { return true }
        return false
    }

    /// Runs `body` on a state's cell tensor (created empty when missing), taken out of the state
    /// meanwhile so that it is uniquely referenced and resizing or writing it does not copy.
    private static func withCell<R>(
        of state: inout RecurrentState, _ body: (inout Tensor) -> R
    ) -> R {
        var cell = state.cell ?? Tensor()
        state.cell = nil
        defer { state.cell = cell }
        return body(&cell)
    }

    func ensureCell(_ a: Int, _ b: Int, _ c: Int) {
        Self.withCell(of: &finalState) { $0.resize(a, b, c) }
    }

    func cellBase() -> UnsafeMutablePointer<Float> {
        Self.withCell(of: &finalState) { $0.unsafeMutableBase() }
    }

    func ensureInitialCellGradient(_ a: Int, _ b: Int, _ c: Int) {
        Self.withCell(of: &initialGradient) { $0.resize(a, b, c) }
    }

    func initialCellGradientBase() -> UnsafeMutablePointer<Float> {
        Self.withCell(of: &initialGradient) { $0.unsafeMutableBase() }
    }

    func initialHidden(_ index: Int) -> UnsafePointer<Float>? {
        guard let s = initialState else { return nil }
        return s.hidden.unsafeBase + index * batch * (s.hidden.shape[2])
    }

    func initialCell(_ index: Int) -> UnsafePointer<Float>? {
        guard let c = initialState?.cell else { return nil }
        return c.unsafeBase + index * batch * c.shape[2]
    }
}

/// Int32 values at a stable address, for pointers the recurrence job keeps for a whole pass.
final class StableInt32Buffer {
    private(set) var base: UnsafeMutablePointer<Int32>
    private(set) var count = 0
    private var capacity = 16

    init() { base = .allocate(capacity: 16) }

    deinit { base.deallocate() }

    /// Holds `count` values, `value(i)` for each i, growing the buffer when needed.
    func assign(count: Int, _ value: (Int) -> Int32) {
        if count > capacity {
            base.deallocate()
            capacity = count
            base = .allocate(capacity: capacity)
        }
        for i in 0..<count { base[i] = value(i) }
        self.count = count
    }
}
