// The fused multi-layer, optionally bidirectional recurrent sequence layer (see CellKernel.swift
// for the dimension legend).
//
// Forward, per layer and direction:
//   1. one GEMM for the input projection of all steps: gates[T·B, G·H] = X W_ihᵀ
//      (or, for token input, a [V, G·H] table E W_ihᵀ read by row); the kernels add b_ih;
//   2. per step: one GEMM h_{t-1} W_hhᵀ into a [B, G·H] scratch (`PanelGEMM`, W_hh packed once
//      per pass), then one fused kernel pass.
//   The time loop is split across the thread pool by batch rows (no synchronization) or by
//   hidden units (a barrier per step), see `RecurrenceJob`; the two directions of a
//   bidirectional layer run concurrently.
// Backward mirrors it: per step one fused kernel pass and one GEMM for d h_{t-1}; then the weight
// gradients for all steps as one GEMM each (dW_ih += dAᵀ X, dW_hh += dA_hhᵀ H_prev) and
// dX = dA W_ih. Workspaces live in a cache that is recycled, so after the first call a
// forward/backward pair allocates nothing.

import RecurBase
import RecurTensor

/// The recurrent state of every layer and direction: `hidden` and (LSTM) `cell`, each
/// `[L·D, B, H]`, ordered layer-major with the reverse direction after the forward one
/// (PyTorch's `h_n` layout).
public struct RecurrentState: Sendable {
    /// h, `[L·D, B, H]`.
    public var hidden: Tensor
    /// c, `[L·D, B, H]` (LSTM only).
    public var cell: Tensor?

    /// A state from h (and c for an LSTM).
    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}

/// A stack of recurrent layers run over whole sequences, with backpropagation through time.
///
/// Shapes: input `[T, B, I]` (time-major, like PyTorch's default `batch_first=False`), output
/// `[T, B, D·H]` (the last layer's h at every step, directions concatenated), state
/// `[L·D, B, H]`. Parameters use PyTorch's names and layouts (`weight_ih_l0` `[G·H, I]`,
/// `weight_hh_l0` `[G·H, H]`, `bias_ih_l0`, `bias_hh_l0`, `…_reverse`), so weights move between
/// Recur and `torch.nn.LSTM/GRU/RNN` unchanged.
///
/// Variable-length batches: with `lengths`, row b only runs steps `0..<lengths[b]`; its outputs
/// past the end are zero and its final state is the state at its last step (PyTorch's packed
/// sequences). Dropout (training only) applies to every layer's output except the last.
///
/// ```swift
/// var rng = Xoshiro256(seed: 1)
/// let lstm = LSTM(inputSize: 64, hiddenSize: 128, layers: 2, rng: &rng)
/// let (output, state, cache) = lstm.forward(x, rng: &rng)        // x: [T, B, 64]
/// let grads = lstm.backward(cache, outputGradient: dOutput)       // accumulates weight grads
/// ```
public final class RecurrentLayer<Kernel: RecurrentCellKernel>: Module {
    /// The cell's equations.
    public let kernel: Kernel
    /// Input features per step of the first layer (I).
    public let inputSize: Int
    /// Hidden units per layer and direction (H).
    public let hiddenSize: Int
    /// Stacked layers (L).
    public let layerCount: Int
    /// Whether each layer also runs backward in time (D = 2).
    public let isBidirectional: Bool
    /// Dropout probability between layers (training only).
    public let dropout: Float
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true
    /// How the time loop is split across threads (`automatic` picks per shape; the others exist
    /// for tests and tuning, and give the same numbers).
    public var recurrenceSplit = RecurrenceSplit.automatic
    /// The threads that run the time loop.
    public var threadPool = ThreadPool.shared

    /// `weightIH[l][d]` is `[G·H, I_l]`; likewise `weightHH` `[G·H, H]`, `biasIH`, `biasHH` `[G·H]`.
    public let weightIH: [[Parameter]]
    /// `weight_hh_l{l}`: `[G·H, H]` per layer and direction.
    public let weightHH: [[Parameter]]
    /// `bias_ih_l{l}`: `[G·H]` per layer and direction.
    public let biasIH: [[Parameter]]
    /// `bias_hh_l{l}`: `[G·H]` per layer and direction.
    public let biasHH: [[Parameter]]
    /// Parameter names without the `_l0` suffix (single cells: `weight_ih`, as `nn.LSTMCell`).
    let plainNames: Bool

    private var freeCaches: [RecurrentCache] = []

    /// D.
    public var directionCount: Int { isBidirectional ? 2 : 1 }
    /// G·H.
    var gateWidth: Int { kernel.gateCount * hiddenSize }
    /// Bias-gradient accumulators per batch row: the input side's, then the recurrent side's
    /// when the kernel keeps it apart (GRU).
    var biasAccumulatorWidth: Int { (kernel.separateRecurrentGradient ? 2 : 1) * gateWidth }

    /// Creates the layer with PyTorch's initialization: every weight and bias uniform in ±1/√H,
    /// drawn in parameter order.
    public init(
        kernel: Kernel, inputSize: Int, hiddenSize: Int, layers: Int = 1,
        bidirectional: Bool = false,
        dropout: Float = 0, plainNames: Bool = false, rng: inout Xoshiro256
    ) {
        precondition(
            inputSize > 0 && hiddenSize > 0 && layers > 0, "RecurrentLayer: sizes must be positive")
        precondition(
            dropout >= 0 && dropout < 1, "RecurrentLayer: dropout must be in [0, 1), got \(dropout)"
        )
        precondition(
            !plainNames || (layers == 1 && !bidirectional),
            "RecurrentLayer: plain names need one unidirectional layer")
        self.kernel = kernel
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        layerCount = layers
        isBidirectional = bidirectional
        self.dropout = dropout
        self.plainNames = plainNames
        let bound = 1 / Float(hiddenSize).squareRoot()
        let g = kernel.gateCount * hiddenSize
        var wih: [[Parameter]] = []
        var whh: [[Parameter]] = []
        var bih: [[Parameter]] = []
        var bhh: [[Parameter]] = []
        for l in 0..<layers {
            let input = l == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            var a: [Parameter] = []
            var b: [Parameter] = []
            var c: [Parameter] = []
            var d: [Parameter] = []
            for _ in 0..<(bidirectional ? 2 : 1) {
                a.append(Parameter(Tensor.uniform([g, input], in: -bound...bound, using: &rng)))
                b.append(
                    Parameter(Tensor.uniform([g, hiddenSize], in: -bound...bound, using: &rng)))
                c.append(Parameter(Tensor.uniform([g], in: -bound...bound, using: &rng)))
                d.append(Parameter(Tensor.uniform([g], in: -bound...bound, using: &rng)))
            }
            wih.append(a)
            whh.append(b)
            bih.append(c)
            bhh.append(d)
        }
        weightIH = wih
        weightHH = whh
        biasIH = bih
        biasHH = bhh
    }

    /// PyTorch's suffix for a layer and direction: `_l0`, `_l1_reverse`, or none for cells.
    func suffix(_ l: Int, _ d: Int) -> String {
        plainNames ? "" : "_l\(l)" + (d == 1 ? "_reverse" : "")
    }

    /// Visits every parameter under `prefix` with its PyTorch name.
    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        for l in 0..<layerCount {
            for d in 0..<directionCount {
                let s = suffix(l, d)
                visit(prefix + "weight_ih" + s, weightIH[l][d])
                visit(prefix + "weight_hh" + s, weightHH[l][d])
                visit(prefix + "bias_ih" + s, biasIH[l][d])
                visit(prefix + "bias_hh" + s, biasHH[l][d])
            }
        }
    }

    /// I_l: the input width of layer l.
    func layerInputSize(_ l: Int) -> Int { l == 0 ? inputSize : hiddenSize * directionCount }

    // MARK: - Public forward/backward

    /// Runs the layers over `input` `[T, B, I]`.
    ///
    /// - Parameters:
    ///   - input: `[T, B, I]`, time-major.
    ///   - initialState: `[L·D, B, H]` states (zeros when nil).
    ///   - lengths: per-row sequence lengths in `1…T` (all T when nil).
    ///   - rng: draws the inter-layer dropout masks in training mode.
    /// - Returns: the output `[T, B, D·H]`, the final state and the cache `backward` needs.
    public func forward(
        _ input: Tensor, initialState: RecurrentState? = nil, lengths: [Int]? = nil,
        rng: inout Xoshiro256
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache) {
        precondition(
            input.rank == 3 && input.shape[2] == inputSize,
            "\(kernel.mode): input must be [T, B, \(inputSize)], got \(input.shape)")
        let cache = takeCache()
        cache.source = .tensor(input)
        run(
            cache, timeSteps: input.shape[0], batch: input.shape[1], initialState: initialState,
            lengths: lengths, rng: &rng)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Runs the layers over token ids embedded by `embedding`, without materializing the
    /// embeddings: the first layer's input projection becomes a lookup in the table
    /// `E W_ihᵀ` `[V, G·H]` (DESIGN.md, "Algebra that saves work"; the kernel adds the biases).
    ///
    /// - Parameters:
    ///   - tokens: `T·B` ids, time-major (`tokens[t·B + b]`).
    ///   - timeSteps: T.
    ///   - batch: B.
    ///   - embedding: the embedding whose table `E` the ids index.
    ///   - initialState: `[L·D, B, H]` states (zeros when nil).
    ///   - lengths: per-row sequence lengths in `1…T` (all T when nil).
    ///   - rng: draws the inter-layer dropout masks in training mode.
    public func forward(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialState: RecurrentState? = nil, lengths: [Int]? = nil, rng: inout Xoshiro256
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache) {
        precondition(
            tokens.count == timeSteps * batch,
            "\(kernel.mode): \(tokens.count) tokens for T=\(timeSteps), B=\(batch)")
        precondition(
            embedding.embeddingSize == inputSize,
            "\(kernel.mode): embedding size \(embedding.embeddingSize) ≠ input size \(inputSize)")
        for id in tokens {
            precondition(
                id >= 0 && Int(id) < embedding.vocabularySize,
                "\(kernel.mode): token \(id) out of range")
        }
        let cache = takeCache()
        cache.source = .tokens(tokens, embedding)
        cache.stableTokens.assign(tokens)
        run(
            cache, timeSteps: timeSteps, batch: batch, initialState: initialState, lengths: lengths,
            rng: &rng)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Inference: output and final state, no cache kept.
    public func callAsFunction(
        _ input: Tensor, initialState: RecurrentState? = nil, lengths: [Int]? = nil
    ) -> (output: Tensor, state: RecurrentState) {
        var rng = Xoshiro256(seed: 0)
        let (output, state, cache) = forward(
            input, initialState: initialState, lengths: lengths, rng: &rng)
        release(cache)
        return (output, state)
    }

    /// Back-propagates through the run recorded in `cache`, accumulating (`+=`) the weight
    /// gradients.
    ///
    /// - Parameters:
    ///   - cache: what the forward pass recorded (released for reuse afterwards).
    ///   - outputGradient: d loss / d output `[T, B, D·H]` (nil: zero).
    ///   - stateGradient: d loss / d final state (nil: zero).
    ///   - needsInputGradient: whether to compute d loss / d input (skip it for the first layer
    ///     of a model whose input is data).
    /// - Returns: d loss / d input `[T, B, I]` (nil when not requested or for token input, whose
    ///   gradient goes into the embedding's weight) and d loss / d initial state.
    @discardableResult
    public func backward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState? = nil,
        needsInputGradient: Bool = true
    ) -> (input: Tensor?, initialState: RecurrentState) {
        precondition(cache.isLive, "\(kernel.mode).backward: cache already used or released")
        if let g = outputGradient {
            // Compared dimension by dimension: an array literal here would allocate every step.
            precondition(
                g.rank == 3 && g.shape[0] == cache.timeSteps && g.shape[1] == cache.batch
                    && g.shape[2] == hiddenSize * directionCount,
                "\(kernel.mode).backward: output gradient \(g.shape) does not match the output")
        }
        let result = runBackward(
            cache, outputGradient: outputGradient, stateGradient: stateGradient,
            needsInputGradient: needsInputGradient)
        release(cache)
        return result
    }

    /// Returns an unused cache to the pool (after inference, or to abandon a run).
    public func release(_ cache: RecurrentCache) {
        guard cache.isLive else { return }
        cache.isLive = false
        cache.source = .none
        if freeCaches.count < 4 { freeCaches.append(cache) }
    }

    private func takeCache() -> RecurrentCache {
        let cache =
            freeCaches.popLast() ?? RecurrentCache(layers: layerCount, directions: directionCount)
        cache.isLive = true
        return cache
    }

    // MARK: - Forward driver

    private func run(
        _ cache: RecurrentCache, timeSteps: Int, batch: Int, initialState: RecurrentState?,
        lengths: [Int]?, rng: inout Xoshiro256
    ) {
        let (t, b, h) = (timeSteps, batch, hiddenSize)
        let d = directionCount
        let ld = layerCount * d
        precondition(t > 0 && b > 0, "\(kernel.mode): empty sequence batch (T=\(t), B=\(b))")
        if let initialState {
            precondition(
                initialState.hidden.shape == [ld, b, h],
                "\(kernel.mode): initial hidden state must be [\(ld), \(b), \(h)], got \(initialState.hidden.shape)"
            )
            if kernel.hasCellState, let c = initialState.cell {
                precondition(
                    c.shape == [ld, b, h],
                    "\(kernel.mode): initial cell state must be [\(ld), \(b), \(h)], got \(c.shape)"
                )
            }
        }
        cache.timeSteps = t
        cache.batch = b
        cache.lengths.removeAll(keepingCapacity: true)
        if let lengths {
            precondition(
                lengths.count == b, "\(kernel.mode): \(lengths.count) lengths for batch \(b)")
            for length in lengths {
                precondition(
                    length >= 1 && length <= t, "\(kernel.mode): length \(length) outside 1…\(t)")
                cache.lengths.append(Int32(length))
            }
        }
        cache.stableLengths.assign(cache.lengths)
        cache.usesDropout = isTraining && dropout > 0 && layerCount > 1
        cache.initialState = initialState
        defer { cache.initialState = nil }
        cache.finalState.hidden.resize(ld, b, h)
        if kernel.hasCellState { cache.ensureCell(ld, b, h) } else { cache.finalState.cell = nil }
        // Drop the previous run's aliases (layer inputs share the outputs' storage without
        // dropout), so that resizing the outputs below reuses their storage.
        for l in 1..<max(layerCount, 1) where !cache.usesDropout {
            cache.layerInputs[l] = Tensor()
        }
        for l in 0..<layerCount {
            let inputWidth = layerInputSize(l)
            cache.layerOutputs[l].resize(t, b, d * h)
            // The layer's input: the previous layer's output, after dropout.
            if l > 0 {
                if cache.usesDropout {
                    let mask = cache.masks[l - 1].resizedPointer(t, b, inputWidth)
                    let p = dropout
                    let scale = 1 / (1 - p)
                    for i in 0..<(t * b * inputWidth) { mask[i] = rng.nextFloat() < p ? 0 : scale }
                    let x = cache.layerInputs[l].resizedPointer(t, b, inputWidth)
                    let y = cache.layerOutputs[l - 1].unsafeBase
                    for i in 0..<(t * b * inputWidth) { x[i] = y[i] * mask[i] }
                } else {
                    cache.layerInputs[l] = cache.layerOutputs[l - 1]
                }
            }
            // Everything both directions write is made unique here, on one thread.
            let finalHidden = cache.finalState.hidden.unsafeMutableBase()
            let finalCell: UnsafeMutablePointer<Float>? =
                kernel.hasCellState ? cache.cellBase() : nil
            let output = cache.layerOutputs[l].unsafeMutableBase()
            let job = cache.job(for: self)
            job.begin(
                phase: .forward, kernel: kernel, timeSteps: t, batch: b, hiddenSize: h,
                split: recurrenceSplit, pool: threadPool)
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                prepareForward(cache, buffers, layer: l, direction: dir, inputWidth: inputWidth)
                let state = l * d + dir
                var run = directionRun(cache, buffers, layer: l, direction: dir)
                run.output = output + dir * h
                run.finalHidden = finalHidden + state * b * h
                run.finalCell = finalCell.map { $0 + state * b * h }
                // h_{-1} (and c) go into the history slot of the first processed step.
                let first = dir == 0 ? 0 : t - 1
                let h0 = run.hiddenPrevious + first * b * h
                if let initial = cache.initialHidden(state) {
                    h0.update(from: initial, count: b * h)
                } else {
                    h0.update(repeating: 0, count: b * h)
                }
                if kernel.hasCellState {
                    let c0 = run.cellPrevious + first * b * h
                    if let initial = cache.initialCell(state) {
                        c0.update(from: initial, count: b * h)
                    } else {
                        c0.update(repeating: 0, count: b * h)
                    }
                }
                job.runs.append(run)
            }
            job.execute()
        }
    }

    /// Fills the gates buffer with the input projection x W_ihᵀ (or builds the token table
    /// E W_ihᵀ) and the transposed recurrent weights, and sizes the buffers for one layer and
    /// direction.
    ///
    /// Biases are added by the kernels.
    private func prepareForward(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, layer l: Int, direction dir: Int,
        inputWidth: Int
    ) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let gates = buffers.gates.resizedPointer(t, b, g)
        _ = buffers.auxiliary.resizedPointer(t, b, Swift.max(1, kernel.auxiliaryWidth) * h)
        _ = buffers.hiddenPrevious.resizedPointer(t, b, h)
        if kernel.hasCellState { _ = buffers.cellPrevious.resizedPointer(t, b, h) }
        if kernel.separateRecurrentGradient {
            _ = buffers.recurrentGradient.resizedPointer(t, b, g)
        }
        _ = buffers.scratch.resizedPointer(b, g)
        // W_hhᵀ packed for PanelGEMM (K = H, G blocks of H columns), once per pass instead of
        // once per step. In evaluation mode it is kept while the weights' storage is unchanged, so
        // that sampling one step at a time does not redo it per step; in training the weights
        // change every step and holding them would make the optimizer copy them.
        let whhValue = weightHH[l][dir].value
        if isTraining || buffers.packedFrom?.sharesStorage(with: whhValue) != true {
            let packed = buffers.packedHH.resizedPointer(
                h, PanelGEMM.packedCount(k: 1, blocks: kernel.gateCount, blockWidth: h))
            PanelGEMM.pack(
                whhValue.unsafeBase, stride: h, k: h, blocks: kernel.gateCount, blockWidth: h,
                transposed: true, into: packed)
            buffers.packedFrom = isTraining ? nil : whhValue
        }
        let weight = weightIH[l][dir].value.unsafeBase
        if l == 0, case .tokens(_, let embedding) = cache.source {
            let v = embedding.vocabularySize
            let fresh =
                !isTraining
                && buffers.tableFrom.0?.sharesStorage(with: embedding.weight.value) == true
                && buffers.tableFrom.1?.sharesStorage(with: weightIH[0][dir].value) == true
                && buffers.table.shape == [v, g]
            if !fresh {
                let table = buffers.table.resizedPointer(v, g)
                BLAS.gemm(
                    transposeB: true, m: v, n: g, k: inputWidth,
                    a: embedding.weight.value.unsafeBase, lda: inputWidth,
                    b: weight, ldb: inputWidth, c: table, ldc: g)
                buffers.tableFrom =
                    isTraining ? (nil, nil) : (embedding.weight.value, weightIH[0][dir].value)
            }
            return
        }
        BLAS.gemm(
            transposeB: true, m: t * b, n: g, k: inputWidth, a: layerInput(cache, l),
            lda: inputWidth, b: weight,
            ldb: inputWidth, c: gates, ldc: g)
    }

    /// The base of layer l's input `[T·B, I_l]` (tensor input only).
    private func layerInput(_ cache: RecurrentCache, _ l: Int) -> UnsafePointer<Float> {
        if l > 0 { return cache.layerInputs[l].unsafeBase }
        guard case .tensor(let input) = cache.source else {
            preconditionFailure("token input has no tensor")
        }
        return input.unsafeBase
    }

    /// The pointers of one layer and direction for the recurrence job.
    private func directionRun(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, layer l: Int, direction dir: Int
    ) -> DirectionRun {
        let hPrev = buffers.hiddenPrevious.unsafeMutableBase()
        var run = DirectionRun(
            direction: dir,
            gates: buffers.gates.unsafeMutableBase(),
            auxiliary: buffers.auxiliary.unsafeMutableBase(),
            hiddenPrevious: hPrev,
            cellPrevious: kernel.hasCellState ? buffers.cellPrevious.unsafeMutableBase() : hPrev,
            scratch: buffers.scratch.unsafeMutableBase(),
            packedHH: buffers.packedHH.unsafeBase,
            biasIH: biasIH[l][dir].value.unsafeBase,
            biasHH: biasHH[l][dir].value.unsafeBase,
            outputStride: directionCount * hiddenSize)
        run.lengths = cache.lengths.isEmpty ? nil : UnsafePointer(cache.stableLengths.base)
        if l == 0, case .tokens = cache.source {
            run.tokens = UnsafePointer(cache.stableTokens.base)
            run.table = buffers.table.unsafeBase
        }
        return run
    }

    // MARK: - Backward driver

    private func runBackward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState?,
        needsInputGradient: Bool
    ) -> (input: Tensor?, initialState: RecurrentState) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let d = directionCount
        let ld = layerCount * d
        if let stateGradient {
            precondition(
                stateGradient.hidden.shape == [ld, b, h],
                "\(kernel.mode).backward: state gradient must be [\(ld), \(b), \(h)]")
        }
        cache.initialGradient.hidden.resize(ld, b, h)
        if kernel.hasCellState {
            cache.ensureInitialCellGradient(ld, b, h)
        } else {
            cache.initialGradient.cell = nil
        }
        var inputGradient: Tensor?
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            // d loss / d layer output: the caller's for the top layer, else what layer l+1 sent
            // down (already multiplied by its dropout mask).
            let dOut: UnsafePointer<Float>? =
                l == layerCount - 1
                ? outputGradient?.unsafeBase
                : UnsafePointer(cache.layerGradients[l].unsafeMutableBase())
            let initialHidden = cache.initialGradient.hidden.unsafeMutableBase()
            let initialCell: UnsafeMutablePointer<Float>? =
                kernel.hasCellState ? cache.initialCellGradientBase() : nil
            let job = cache.job(for: self)
            job.begin(
                phase: .backward, kernel: kernel, timeSteps: t, batch: b, hiddenSize: h,
                split: recurrenceSplit, pool: threadPool)
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                let state = l * d + dir
                var run = directionRun(cache, buffers, layer: l, direction: dir)
                let packed = buffers.packedHHBackward.resizedPointer(
                    g, PanelGEMM.packedCount(k: 1, blocks: 1, blockWidth: h))
                PanelGEMM.pack(
                    weightHH[l][dir].value.unsafeBase, stride: h, k: g, blocks: 1, blockWidth: h,
                    transposed: false, into: packed)
                run.packedHH = UnsafePointer(packed)
                run.outputGradient = dOut.map { $0 + dir * h }
                run.finalHidden = initialHidden + state * b * h
                run.finalCell = initialCell.map { $0 + state * b * h }
                run.hiddenGradient = buffers.hiddenGradient.resizedPointer(b, h)
                run.hiddenGradientNext = buffers.hiddenGradientNext.resizedPointer(b, h)
                run.cellGradient = buffers.cellGradient.resizedPointer(b, h)
                run.recurrentGradient =
                    kernel.separateRecurrentGradient
                    ? buffers.recurrentGradient.unsafeMutableBase() : run.gates
                // Bias-gradient accumulators per batch row (input side, recurrent side), summed
                // over rows after the job: the sums do not depend on how threads split the work.
                let accumulators = buffers.biasGradients.resizedPointer(b, biasAccumulatorWidth)
                accumulators.update(repeating: 0, count: b * biasAccumulatorWidth)
                run.inputBiasGradient = accumulators
                run.recurrentBiasGradient =
                    kernel.separateRecurrentGradient ? accumulators + g : accumulators
                run.biasGradientRowStride = biasAccumulatorWidth
                if let s = stateGradient?.hidden {
                    run.hiddenGradient.update(from: s.unsafeBase + state * b * h, count: b * h)
                } else {
                    run.hiddenGradient.update(repeating: 0, count: b * h)
                }
                if let s = stateGradient?.cell, kernel.hasCellState {
                    run.cellGradient.update(from: s.unsafeBase + state * b * h, count: b * h)
                } else {
                    run.cellGradient.update(repeating: 0, count: b * h)
                }
                job.runs.append(run)
            }
            job.execute()
            // Weight gradients and the gradient for the layer below, one GEMM each over all steps.
            let inputWidth = layerInputSize(l)
            let wantsInput = l > 0 || (needsInputGradient && cache.isTensorSource)
            var dX: UnsafeMutablePointer<Float>?
            if wantsInput {
                if l > 0 {
                    dX = cache.layerGradients[l - 1].resizedPointer(t, b, inputWidth)
                } else {
                    dX = cache.inputGradient.resizedPointer(t, b, inputWidth)
                }
            }
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                let dA = buffers.gates.unsafeBase
                let dRec =
                    kernel.separateRecurrentGradient ? buffers.recurrentGradient.unsafeBase : dA
                BLAS.gemm(
                    transposeA: true, m: g, n: h, k: t * b, a: dRec, lda: g,
                    b: buffers.hiddenPrevious.unsafeBase, ldb: h,
                    beta: 1, c: weightHH[l][dir].gradient.unsafeMutableBase(), ldc: h)
                let accumulators = buffers.biasGradients.unsafeBase
                let (dbIH, dbHH) = (
                    biasIH[l][dir].gradient.unsafeMutableBase(),
                    biasHH[l][dir].gradient.unsafeMutableBase()
                )
                for row in 0..<b {
                    let pair = accumulators + row * biasAccumulatorWidth
                    VectorMath.axpy(1, pair, dbIH, count: g)
                    VectorMath.axpy(
                        1, kernel.separateRecurrentGradient ? pair + g : pair, dbHH, count: g)
                }
                if l == 0, case .tokens(let tokens, let embedding) = cache.source {
                    backwardThroughTable(
                        cache, buffers, tokens: tokens, embedding: embedding, direction: dir)
                    continue
                }
                BLAS.gemm(
                    transposeA: true, m: g, n: inputWidth, k: t * b, a: dA, lda: g,
                    b: layerInput(cache, l), ldb: inputWidth,
                    beta: 1, c: weightIH[l][dir].gradient.unsafeMutableBase(), ldc: inputWidth)
                if let dX {
                    // The first direction overwrites, the second accumulates.
                    BLAS.gemm(
                        m: t * b, n: inputWidth, k: g, a: dA, lda: g,
                        b: weightIH[l][dir].value.unsafeBase, ldb: inputWidth,
                        beta: dir == 0 ? 0 : 1, c: dX, ldc: inputWidth)
                }
            }
            if l > 0 && cache.usesDropout, let dX {
                let mask = cache.masks[l - 1].unsafeBase
                for i in 0..<(t * b * inputWidth) { dX[i] *= mask[i] }
            }
            if l == 0 && wantsInput { inputGradient = cache.inputGradient }
        }
        return (inputGradient, cache.initialGradient)
    }

    /// The token-table path of layer 0: dTable[v] = Σ over (t, b) with token v of dA[t, b];
    /// then dW_ih += dTableᵀ E and dE += dTable W_ih (the bias gradient came from the kernel).
    private func backwardThroughTable(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, tokens: [Int32], embedding: Embedding,
        direction dir: Int
    ) {
        let g = gateWidth
        let v = embedding.vocabularySize
        let e = embedding.embeddingSize
        let dTable = buffers.tableGradient.resizedPointer(v, g)
        dTable.update(repeating: 0, count: v * g)
        let dA = buffers.gates.unsafeBase
        // Columns split across the pool: each element still sums its rows in order.
        tokens.withUnsafeBufferPointer { ids in
            threadPool.parallelRanges(count: g, granularity: 64) { columns in
                for (row, id) in ids.enumerated() {
                    VectorMath.axpy(
                        1, dA + row * g + columns.lowerBound,
                        dTable + Int(id) * g + columns.lowerBound, count: columns.count)
                }
            }
        }
        BLAS.gemm(
            transposeA: true, m: g, n: e, k: v, a: dTable, lda: g,
            b: embedding.weight.value.unsafeBase, ldb: e,
            beta: 1, c: weightIH[0][dir].gradient.unsafeMutableBase(), ldc: e)
        BLAS.gemm(
            m: v, n: e, k: g, a: dTable, lda: g, b: weightIH[0][dir].value.unsafeBase, ldb: e,
            beta: 1, c: embedding.weight.gradient.unsafeMutableBase(), ldc: e)
    }
}

/// The pointers of one layer and direction that the recurrence job reads and writes.
struct DirectionRun {
    var direction: Int
    var gates: UnsafeMutablePointer<Float>  // [T, B, G·H]
    var auxiliary: UnsafeMutablePointer<Float>  // [T, B, aux·H]
    var hiddenPrevious: UnsafeMutablePointer<Float>  // [T, B, H] history: h used at step t
    var cellPrevious: UnsafeMutablePointer<Float>  // [T, B, H]
    var scratch: UnsafeMutablePointer<Float>  // [B, G·H]
    var packedHH: UnsafePointer<Float>  // W_hhᵀ (forward) or W_hh (backward) packed for PanelGEMM
    var biasIH: UnsafePointer<Float>
    var biasHH: UnsafePointer<Float>
    var outputStride: Int
    var output = UnsafeMutablePointer<Float>.unset  // layer output + direction offset
    var finalHidden = UnsafeMutablePointer<Float>.unset  // forward: h_n; backward: d h_0
    var finalCell: UnsafeMutablePointer<Float>?
    var lengths: UnsafePointer<Int32>?
    var tokens: UnsafePointer<Int32>?
    var table: UnsafePointer<Float>?
    // Backward only.
    var outputGradient: UnsafePointer<Float>?
    var hiddenGradient = UnsafeMutablePointer<Float>.unset
    var hiddenGradientNext = UnsafeMutablePointer<Float>.unset
    var cellGradient = UnsafeMutablePointer<Float>.unset
    var recurrentGradient = UnsafeMutablePointer<Float>.unset
    var inputBiasGradient = UnsafeMutablePointer<Float>.unset
    var recurrentBiasGradient = UnsafeMutablePointer<Float>.unset
    var biasGradientRowStride = 0

    init(
        direction: Int, gates: UnsafeMutablePointer<Float>, auxiliary: UnsafeMutablePointer<Float>,
        hiddenPrevious: UnsafeMutablePointer<Float>, cellPrevious: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, packedHH: UnsafePointer<Float>,
        biasIH: UnsafePointer<Float>, biasHH: UnsafePointer<Float>, outputStride: Int
    ) {
        (self.direction, self.gates, self.auxiliary, self.hiddenPrevious) = (
            direction, gates, auxiliary, hiddenPrevious
        )
        (self.cellPrevious, self.scratch, self.packedHH) = (cellPrevious, scratch, packedHH)
        (self.biasIH, self.biasHH, self.outputStride) = (biasIH, biasHH, outputStride)
    }
}

/// How a recurrent layer splits its time loop across threads (see `RecurrenceJob`).
public enum RecurrenceSplit: Sendable {
    /// Batch rows when every thread gets enough of them, else hidden units.
    case automatic
    /// Each thread runs the whole time loop for its rows of the batch, unsynchronized.
    case batchRows
    /// Each thread computes its hidden units of every row, with a barrier per step.
    case hiddenUnits
}

/// The time loop of one layer (both directions), run on the thread pool.
///
/// It is split one of two ways across the P threads of a direction:
///
/// - By batch rows, when every thread gets at least 16 rows (8 if W_hh fits in a core's cache):
///   the rows of a batch never interact inside the recurrence, so thread p runs the whole time
///   loop for its rows R_p with no synchronization at all:
///     forward step:  h_{t-1}[R_p] W_hhᵀ → kernel on R_p
///     backward step: kernel on R_p → dh_{t-1}[R_p] += dA_t[R_p] W_hh
///   Each thread reads all of W_hh per step, reused by its ≥ 16 rows.
/// - By hidden units otherwise (small batches, many threads), so that each thread reads only its
///   slice of the weights: thread p owns units U_p (multiples of 16) of every row, and a
///   barrier per step publishes the complete h_{t-1} (or dA_t):
///     forward step:  barrier → h_{t-1} W_hhᵀ[:, gate k, U_p] for every gate k → kernel on U_p
///     backward step: kernel on U_p → barrier → dh_{t-1}[U_p] += dA_t W_hh[:, U_p]
///
/// Measured at B1 (2 threads, 25 rows each; LSTM fwd+bwd): 18.8 ms split by units, 14.2 ms by
/// rows; at B1-L (32 rows each, W_hh 4 MiB): 454 ms by units, 448 ms by rows.
/// W_hh is packed once per pass for `PanelGEMM`. The two directions of a bidirectional layer run
/// concurrently. When the pool is busy (another computation in the process holds it), row
/// parts run one after another on the calling thread (the same parts, so the same numbers) and
/// unit parts, which need a thread each, run as one part per direction (DESIGN.md,
/// "Determinism").
final class RecurrenceJob<Kernel: RecurrentCellKernel>: ParallelJob {
    enum Phase { case forward, backward }

    /// W_hh sizes (bytes) that stay in a core's cache from step to step.
    static var cachedWeightLimit: Int { 1 << 20 }

    var phase = Phase.forward
    var kernel: Kernel?
    var runs: [DirectionRun] = []
    var timeSteps = 0
    var batch = 0
    var hiddenSize = 0
    var parts = 1
    var splitsRows = false
    var split = RecurrenceSplit.automatic
    var pool = ThreadPool.shared
    var barriers: [SpinBarrier] = []

    init() { runs.reserveCapacity(2) }

    func begin(
        phase: Phase, kernel: Kernel, timeSteps: Int, batch: Int, hiddenSize: Int,
        split: RecurrenceSplit, pool: ThreadPool
    ) {
        self.split = split
        self.pool = pool
        self.phase = phase
        self.kernel = kernel
        self.timeSteps = timeSteps
        self.batch = batch
        self.hiddenSize = hiddenSize
        runs.removeAll(keepingCapacity: true)
    }

    /// Runs every direction's time loop and returns when all are done.
    func execute() {
        guard let kernel else { return }
        let directions = runs.count
        let threads = Swift.max(1, pool.threadCount / directions)
        let weightBytes = kernel.gateCount * hiddenSize * hiddenSize * MemoryLayout<Float>.size
        let rowsPerThread = batch / threads
        switch split {
        case .automatic:
            splitsRows =
                rowsPerThread >= 16 || (rowsPerThread >= 8 && weightBytes <= Self.cachedWeightLimit)
            if splitsRows {
                parts = Swift.min(threads, batch / 8)
            } else {
                parts = Swift.min(
                    threads, ThreadPool.chunkCount(count: hiddenSize, parts: 64, granularity: 16))
                // Small steps run on one thread: a barrier per step would cost more than the step.
                if batch * hiddenSize * hiddenSize * kernel.gateCount < 1 << 20 { parts = 1 }
            }
        case .batchRows:
            splitsRows = true
            parts = Swift.min(threads, batch)
        case .hiddenUnits:
            splitsRows = false
            parts = Swift.min(
                threads, ThreadPool.chunkCount(count: hiddenSize, parts: 64, granularity: 16))
        }
        if barriers.count != directions || barriers.first?.parties != parts {
            barriers = (0..<directions).map { _ in SpinBarrier(parties: parts) }
        }
        // Row parts never wait for each other, so the pool may run them on any threads, or one
        // after another on this one when it is busy: the same parts, the same numbers. Unit parts
        // meet at barriers every step and need threads of their own, or else run as one part.
        if splitsRows {
            pool.run(tasks: directions * parts, job: self)
            return
        }
        if pool.runConcurrently(tasks: directions * parts, job: self) { return }
        parts = 1
        barriers = (0..<directions).map { _ in SpinBarrier(parties: 1) }
        for task in 0..<directions { run(task: task) }
    }

    func run(task: Int) {
        let d = task / parts
        let part = task % parts
        let rows =
            splitsRows ? ThreadPool.chunk(part, of: parts, count: batch, granularity: 1) : 0..<batch
        let units =
            splitsRows
            ? 0..<hiddenSize : ThreadPool.chunk(part, of: parts, count: hiddenSize, granularity: 16)
        let barrier = splitsRows || parts == 1 ? nil : barriers[d]
        if phase == .forward {
            forward(runs[d], rows: rows, units: units, barrier: barrier)
        } else {
            backward(runs[d], rows: rows, units: units, barrier: barrier)
        }
    }

    private func forward(
        _ r: DirectionRun, rows: Range<Int>, units: Range<Int>, barrier: SpinBarrier?
    ) {
        guard let kernel else { return }
        let (t, b, h) = (timeSteps, batch, hiddenSize)
        let g = kernel.gateCount * h
        let auxWidth = Swift.max(1, kernel.auxiliaryWidth) * h
        for s in 0..<t {
            let time = r.direction == 0 ? s : t - 1 - s
            let last = s == t - 1
            let next = r.direction == 0 ? time + 1 : time - 1
            let hPrev = r.hiddenPrevious + time * b * h
            barrier?.wait()
            PanelGEMM.multiply(
                m: rows.count, k: h, a: hPrev + rows.lowerBound * h, lda: h, packed: r.packedHH,
                blocks: kernel.gateCount,
                blockWidth: h, units: units, c: r.scratch + rows.lowerBound * g, ldc: g,
                accumulate: false)
            let step = CellForwardStep(
                rows: rows, units: units, hiddenSize: h, biasIH: r.biasIH,
                input: r.table ?? UnsafePointer(r.gates + time * b * g), inputStride: g,
                inputRowIndex: r.tokens.map { $0 + time * b },
                recurrent: r.scratch, biasHH: r.biasHH,
                hiddenPrevious: hPrev, cellPrevious: r.cellPrevious + time * b * h,
                gates: r.gates + time * b * g, auxiliary: r.auxiliary + time * b * auxWidth,
                hiddenNext: last ? r.finalHidden : r.hiddenPrevious + next * b * h,
                cellNext: last ? (r.finalCell ?? r.finalHidden) : r.cellPrevious + next * b * h,
                output: r.output + time * b * r.outputStride, outputStride: r.outputStride,
                lengths: r.lengths, time: time)
            kernel.forward(step)
        }
    }

    private func backward(
        _ r: DirectionRun, rows: Range<Int>, units: Range<Int>, barrier: SpinBarrier?
    ) {
        guard let kernel else { return }
        let (t, b, h) = (timeSteps, batch, hiddenSize)
        let g = kernel.gateCount * h
        let auxWidth = Swift.max(1, kernel.auxiliaryWidth) * h
        var dh = r.hiddenGradient
        var dhNext = r.hiddenGradientNext
        for s in 0..<t {
            // Reverse of the forward processing order.
            let time = r.direction == 0 ? t - 1 - s : s
            let step = CellBackwardStep(
                rows: rows, units: units, hiddenSize: h, gates: r.gates + time * b * g,
                auxiliary: r.auxiliary + time * b * auxWidth,
                hiddenPrevious: r.hiddenPrevious + time * b * h,
                cellPrevious: r.cellPrevious + time * b * h,
                outputGradient: r.outputGradient.map { $0 + time * b * r.outputStride },
                outputStride: r.outputStride, hiddenGradient: dh, hiddenGradientPrevious: dhNext,
                cellGradient: r.cellGradient, recurrentGradient: r.recurrentGradient + time * b * g,
                inputBiasGradient: r.inputBiasGradient,
                recurrentBiasGradient: r.recurrentBiasGradient,
                biasGradientRowStride: r.biasGradientRowStride, lengths: r.lengths, time: time)
            kernel.backward(step)
            barrier?.wait()
            PanelGEMM.multiply(
                m: rows.count, k: g, a: r.recurrentGradient + (time * b + rows.lowerBound) * g,
                lda: g, packed: r.packedHH,
                blocks: 1, blockWidth: h, units: units, c: dhNext + rows.lowerBound * h, ldc: h,
                accumulate: true)
            swap(&dh, &dhNext)
        }
        // d h_0 and d c_0 for this thread's rows and units.
        for row in rows {
            (r.finalHidden + row * h + units.lowerBound).update(
                from: dh + row * h + units.lowerBound, count: units.count)
            if let cell = r.finalCell {
                (cell + row * h + units.lowerBound).update(
                    from: r.cellGradient + row * h + units.lowerBound, count: units.count)
            }
        }
    }
}

// MARK: - Workspace

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
    var packedFrom: Tensor?  // evaluation mode: the W_hh value packedHH was made from
    // Evaluation mode: (E, W_ih) the table came from.
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
    var lengths: [Int32] = []
    /// `lengths` and the token ids at addresses that stay valid for the whole pass (an array's
    /// address is valid only inside its `withUnsafeBufferPointer`).
    let stableLengths = StableInt32Buffer()
    let stableTokens = StableInt32Buffer()
    var usesDropout = false
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
        let job = RecurrenceJob<K>()
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

    func ensureCell(_ a: Int, _ b: Int, _ c: Int) {
        var cell = finalState.cell ?? Tensor()
        finalState.cell = nil
        cell.resize(a, b, c)
        finalState.cell = cell
    }

    func cellBase() -> UnsafeMutablePointer<Float> {
        var cell = finalState.cell ?? Tensor()
        finalState.cell = nil
        let base = cell.unsafeMutableBase()
        finalState.cell = cell
        return base
    }

    func ensureInitialCellGradient(_ a: Int, _ b: Int, _ c: Int) {
        var cell = initialGradient.cell ?? Tensor()
        initialGradient.cell = nil
        cell.resize(a, b, c)
        initialGradient.cell = cell
    }

    func initialCellGradientBase() -> UnsafeMutablePointer<Float> {
        var cell = initialGradient.cell ?? Tensor()
        initialGradient.cell = nil
        let base = cell.unsafeMutableBase()
        initialGradient.cell = cell
        return base
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

// MARK: - The three layer types

/// Multi-layer LSTM over sequences (PyTorch `nn.LSTM`); see `RecurrentLayer` and `LSTMKernel`.
public typealias LSTM = RecurrentLayer<LSTMKernel>
/// Multi-layer GRU over sequences (PyTorch `nn.GRU`); see `RecurrentLayer` and `GRUKernel`.
public typealias GRU = RecurrentLayer<GRUKernel>
/// Multi-layer Elman RNN over sequences (PyTorch `nn.RNN`); see `RecurrentLayer` and `RNNKernel`.
public typealias RNN = RecurrentLayer<RNNKernel>

extension RecurrentLayer where Kernel == LSTMKernel {
    /// An LSTM stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
        dropout: Float = 0,
        rng: inout Xoshiro256
    ) {
        self.init(
            kernel: LSTMKernel(), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
            bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}

extension RecurrentLayer where Kernel == GRUKernel {
    /// A GRU stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
        dropout: Float = 0,
        rng: inout Xoshiro256
    ) {
        self.init(
            kernel: GRUKernel(), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
            bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}

extension RecurrentLayer where Kernel == RNNKernel {
    /// An Elman RNN stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1,
        nonlinearity: RNNKernel.Nonlinearity = .tanh,
        bidirectional: Bool = false, dropout: Float = 0, rng: inout Xoshiro256
    ) {
        self.init(
            kernel: RNNKernel(nonlinearity: nonlinearity), inputSize: inputSize,
            hiddenSize: hiddenSize,
            layers: layers, bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}

/// Int32 values at a stable address, for pointers the recurrence job keeps for a whole pass.
final class StableInt32Buffer {
    private(set) var base: UnsafeMutablePointer<Int32>
    private var capacity = 16

    init() { base = .allocate(capacity: 16) }

    deinit { base.deallocate() }

    /// Copies `values` in, growing the buffer when needed.
    func assign(_ values: [Int32]) {
        if values.count > capacity {
            base.deallocate()
            capacity = values.count
            base = .allocate(capacity: capacity)
        }
        values.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { base.update(from: start, count: source.count) }
        }
    }
}
