// The fused multi-layer, optionally bidirectional recurrent sequence layer (see CellKernel.swift
// for the dimension legend).
//
// Forward, per layer and direction:
//   1. one GEMM for the input projection of all steps: gates[T·B, G·H] = X W_ihᵀ + b_ih
//      (or, for token input, a [V, G·H] table E W_ihᵀ + b_ih read by row);
//   2. per step: one GEMM h_{t-1} W_hhᵀ into a [B, G·H] scratch, then one fused kernel pass.
//   Rows of the batch are split across the thread pool inside each step; the two directions of
//   a bidirectional layer run concurrently instead.
// Backward mirrors it: per step one fused kernel pass and one GEMM for d h_{t-1}; then the weight
// gradients for all steps as one GEMM each (dW_ih += dAᵀ X, dW_hh += dA_hhᵀ H_prev) and
// dX = dA W_ih. Workspaces live in a cache that is recycled, so after the first call a
// forward/backward pair allocates nothing.

import RecurTensor

/// The recurrent state of every layer and direction: `hidden` and (LSTM) `cell`, each
/// `[L·D, B, H]`, ordered layer-major with the reverse direction after the forward one
/// (PyTorch's `h_n` layout).
public struct RecurrentState: Sendable {
    public var hidden: Tensor
    public var cell: Tensor?

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
    public let kernel: Kernel
    public let inputSize: Int
    public let hiddenSize: Int
    public let layerCount: Int
    public let isBidirectional: Bool
    /// Dropout probability between layers (training only).
    public let dropout: Float
    public var isTraining = true

    /// `weightIH[l][d]` is `[G·H, I_l]`; likewise `weightHH` `[G·H, H]`, `biasIH`, `biasHH` `[G·H]`.
    public let weightIH: [[Parameter]]
    public let weightHH: [[Parameter]]
    public let biasIH: [[Parameter]]
    public let biasHH: [[Parameter]]
    /// Parameter names without the `_l0` suffix (single cells: `weight_ih`, as `nn.LSTMCell`).
    let plainNames: Bool

    private var freeCaches: [RecurrentCache] = []

    /// D.
    public var directionCount: Int { isBidirectional ? 2 : 1 }
    /// G·H.
    var gateWidth: Int { kernel.gateCount * hiddenSize }

    /// Creates the layer with PyTorch's initialization: every weight and bias uniform in ±1/√H,
    /// drawn in parameter order.
    public init(
        kernel: Kernel, inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
        dropout: Float = 0, plainNames: Bool = false, rng: inout Xoshiro256
    ) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0, "RecurrentLayer: sizes must be positive")
        precondition(dropout >= 0 && dropout < 1, "RecurrentLayer: dropout must be in [0, 1), got \(dropout)")
        precondition(!plainNames || (layers == 1 && !bidirectional), "RecurrentLayer: plain names need one unidirectional layer")
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
                b.append(Parameter(Tensor.uniform([g, hiddenSize], in: -bound...bound, using: &rng)))
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
        run(cache, timeSteps: input.shape[0], batch: input.shape[1], initialState: initialState, lengths: lengths, rng: &rng)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Runs the layers over token ids embedded by `embedding`, without materializing the
    /// embeddings: the first layer's input projection becomes a lookup in the table
    /// `E W_ihᵀ + b_ih` `[V, G·H]` (DESIGN.md, "Algebra that saves work").
    ///
    /// - Parameter tokens: `T·B` ids, time-major (`tokens[t·B + b]`).
    public func forward(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialState: RecurrentState? = nil, lengths: [Int]? = nil, rng: inout Xoshiro256
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache) {
        precondition(tokens.count == timeSteps * batch, "\(kernel.mode): \(tokens.count) tokens for T=\(timeSteps), B=\(batch)")
        precondition(embedding.embeddingSize == inputSize, "\(kernel.mode): embedding size \(embedding.embeddingSize) ≠ input size \(inputSize)")
        for id in tokens {
            precondition(id >= 0 && Int(id) < embedding.vocabularySize, "\(kernel.mode): token \(id) out of range")
        }
        let cache = takeCache()
        cache.source = .tokens(tokens, embedding)
        run(cache, timeSteps: timeSteps, batch: batch, initialState: initialState, lengths: lengths, rng: &rng)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Inference: output and final state, no cache kept.
    public func callAsFunction(
        _ input: Tensor, initialState: RecurrentState? = nil, lengths: [Int]? = nil
    ) -> (output: Tensor, state: RecurrentState) {
        var rng = Xoshiro256(seed: 0)
        let (output, state, cache) = forward(input, initialState: initialState, lengths: lengths, rng: &rng)
        release(cache)
        return (output, state)
    }

    /// Back-propagates through the run recorded in `cache`, accumulating (`+=`) the weight
    /// gradients.
    ///
    /// - Parameters:
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
        if let outputGradient {
            precondition(
                outputGradient.shape == [cache.timeSteps, cache.batch, hiddenSize * directionCount],
                "\(kernel.mode).backward: output gradient \(outputGradient.shape) does not match the output")
        }
        let result = runBackward(cache, outputGradient: outputGradient, stateGradient: stateGradient, needsInputGradient: needsInputGradient)
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
        let cache = freeCaches.popLast() ?? RecurrentCache(layers: layerCount, directions: directionCount)
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
            precondition(initialState.hidden.shape == [ld, b, h], "\(kernel.mode): initial hidden state must be [\(ld), \(b), \(h)], got \(initialState.hidden.shape)")
            if kernel.hasCellState, let c = initialState.cell {
                precondition(c.shape == [ld, b, h], "\(kernel.mode): initial cell state must be [\(ld), \(b), \(h)], got \(c.shape)")
            }
        }
        cache.timeSteps = t
        cache.batch = b
        cache.lengths.removeAll(keepingCapacity: true)
        if let lengths {
            precondition(lengths.count == b, "\(kernel.mode): \(lengths.count) lengths for batch \(b)")
            for length in lengths {
                precondition(length >= 1 && length <= t, "\(kernel.mode): length \(length) outside 1…\(t)")
                cache.lengths.append(Int32(length))
            }
        }
        cache.usesDropout = isTraining && dropout > 0 && layerCount > 1
        cache.initialState = initialState
        defer { cache.initialState = nil }
        cache.finalState.hidden.resize(ld, b, h)
        if kernel.hasCellState { cache.ensureCell(ld, b, h) } else { cache.finalState.cell = nil }
        let pool = ThreadPool.shared
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
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                prepareForward(cache, buffers, layer: l, direction: dir, inputWidth: inputWidth)
            }
            // Shared outputs are made unique here, on one thread: the directions may run
            // concurrently and must only write through these pointers.
            let shared = SharedOutputs(
                hidden: cache.finalState.hidden.unsafeMutableBase(),
                cell: kernel.hasCellState ? cache.cellBase() : nil,
                output: cache.layerOutputs[l].unsafeMutableBase())
            let threads = pool.threadCount
            if d == 2 && threads >= 2 {
                pool.run(tasks: 2) { dir in
                    self.recurForward(cache, shared, layer: l, direction: dir, parts: 1, pool: nil)
                }
            } else {
                for dir in 0..<d { recurForward(cache, shared, layer: l, direction: dir, parts: threads, pool: pool) }
            }
        }
    }

    /// Fills the gates buffer with the input projection (or builds the token table) and the
    /// transposed recurrent weights, and sizes the buffers for one layer and direction.
    private func prepareForward(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, layer l: Int, direction dir: Int, inputWidth: Int
    ) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let rows = t * b
        let gates = buffers.gates.resizedPointer(t, b, g)
        _ = buffers.auxiliary.resizedPointer(t, b, Swift.max(1, kernel.auxiliaryWidth) * h)
        _ = buffers.hiddenPrevious.resizedPointer(t, b, h)
        if kernel.hasCellState { _ = buffers.cellPrevious.resizedPointer(t, b, h) }
        if kernel.separateRecurrentGradient { _ = buffers.recurrentGradient.resizedPointer(t, b, g) }
        _ = buffers.scratch.resizedPointer(b, g)
        // W_hhᵀ [H, G·H]: the per-step GEMM runs without a transposed operand (measurably faster).
        let whhT = buffers.weightHHTransposed.resizedPointer(h, g)
        weightHH[l][dir].value.withUnsafeBufferPointer { w in
            for r in 0..<g {
                for c in 0..<h { whhT[c * g + r] = w[r * h + c] }
            }
        }
        let bias = biasIH[l][dir].value.unsafeBase
        let weight = weightIH[l][dir].value.unsafeBase
        if l == 0, case .tokens(_, let embedding) = cache.source {
            let v = embedding.vocabularySize
            let table = buffers.table.resizedPointer(v, g)
            for r in 0..<v { (table + r * g).update(from: bias, count: g) }
            BLAS.gemm(
                transposeB: true, m: v, n: g, k: inputWidth, a: embedding.weight.value.unsafeBase, lda: inputWidth,
                b: weight, ldb: inputWidth, beta: 1, c: table, ldc: g)
            return
        }
        let x = layerInput(cache, l)
        ThreadPool.shared.parallelRanges(count: rows, granularity: 8) { range in
            for r in range { (gates + r * g).update(from: bias, count: g) }
        }
        BLAS.gemm(
            transposeB: true, m: rows, n: g, k: inputWidth, a: x, lda: inputWidth, b: weight, ldb: inputWidth,
            beta: 1, c: gates, ldc: g)
    }

    /// The base of layer l's input `[T·B, I_l]` (tensor input only).
    private func layerInput(_ cache: RecurrentCache, _ l: Int) -> UnsafePointer<Float> {
        if l > 0 { return cache.layerInputs[l].unsafeBase }
        guard case .tensor(let input) = cache.source else { preconditionFailure("token input has no tensor") }
        return input.unsafeBase
    }

    /// The recurrence of one layer and direction. With `pool`, each step splits the batch rows
    /// into `parts` tasks; without, it runs on the calling thread.
    /// Pointers into buffers that both directions of a layer write (disjoint parts of).
    struct SharedOutputs {
        var hidden: UnsafeMutablePointer<Float>
        var cell: UnsafeMutablePointer<Float>?
        var output: UnsafeMutablePointer<Float>
    }

    private func recurForward(
        _ cache: RecurrentCache, _ shared: SharedOutputs, layer l: Int, direction dir: Int, parts: Int, pool: ThreadPool?
    ) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let d = directionCount
        let buffers = cache.directions[l][dir]
        let state = l * d + dir
        // Running state: start from the initial state (or zeros) in the final-state buffer.
        let hRun = shared.hidden + state * b * h
        let cRun: UnsafeMutablePointer<Float> = shared.cell.map { $0 + state * b * h } ?? hRun
        if let initial = cache.initialHidden(state) {
            hRun.update(from: initial, count: b * h)
        } else {
            hRun.update(repeating: 0, count: b * h)
        }
        if kernel.hasCellState {
            if let initial = cache.initialCell(state) { cRun.update(from: initial, count: b * h) } else { cRun.update(repeating: 0, count: b * h) }
        }
        let gates = buffers.gates.unsafeMutableBase()
        let auxiliary = buffers.auxiliary.unsafeMutableBase()
        let hPrev = buffers.hiddenPrevious.unsafeMutableBase()
        let cPrev: UnsafeMutablePointer<Float> = kernel.hasCellState ? buffers.cellPrevious.unsafeMutableBase() : hPrev
        let scratch = buffers.scratch.unsafeMutableBase()
        let whhT = buffers.weightHHTransposed.unsafeBase
        let biasHH = self.biasHH[l][dir].value.unsafeBase
        let output = shared.output + dir * h
        let outputStride = d * h
        let auxWidth = Swift.max(1, kernel.auxiliaryWidth) * h
        let lengths = cache.lengths.isEmpty ? nil : cache.lengths.withUnsafeBufferPointer { $0.baseAddress }
        var tokenBase: UnsafePointer<Int32>?
        var table: UnsafePointer<Float>?
        if l == 0, case .tokens(let tokens, _) = cache.source {
            tokenBase = tokens.withUnsafeBufferPointer { $0.baseAddress }
            table = buffers.table.unsafeBase
        }
        let kernel = self.kernel
        let chunks = ThreadPool.chunkCount(count: b, parts: parts, granularity: 1)
        // A nested function, not a closure value: passing it to `run` allocates nothing.
        func work(_ rows: Range<Int>, _ time: Int) {
            let r0 = rows.lowerBound
            (hPrev + (time * b + r0) * h).update(from: hRun + r0 * h, count: rows.count * h)
            if kernel.hasCellState {
                (cPrev + (time * b + r0) * h).update(from: cRun + r0 * h, count: rows.count * h)
            }
            BLAS.gemmSerial(
                false, false, rows.count, g, h, 1, hPrev + (time * b + r0) * h, h, whhT, g, 0,
                scratch + r0 * g, g)
            let step = CellForwardStep(
                rows: rows, hiddenSize: h,
                input: table ?? UnsafePointer(gates + time * b * g), inputStride: g,
                inputRowIndex: tokenBase.map { $0 + time * b },
                recurrent: scratch, biasHH: biasHH,
                hiddenPrevious: hPrev + time * b * h, cellPrevious: cPrev + time * b * h,
                gates: gates + time * b * g, auxiliary: auxiliary + time * b * auxWidth,
                hiddenNext: hRun, cellNext: cRun,
                output: output + time * b * outputStride, outputStride: outputStride,
                lengths: lengths, time: time)
            kernel.forward(step)
        }
        for s in 0..<t {
            let time = dir == 0 ? s : t - 1 - s
            if let pool, chunks > 1 {
                pool.run(tasks: chunks) { i in work(ThreadPool.chunk(i, of: chunks, count: b, granularity: 1), time) }
            } else {
                work(0..<b, time)
            }
        }
    }

    // MARK: - Backward driver

    private func runBackward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState?, needsInputGradient: Bool
    ) -> (input: Tensor?, initialState: RecurrentState) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let d = directionCount
        let ld = layerCount * d
        if let stateGradient {
            precondition(stateGradient.hidden.shape == [ld, b, h], "\(kernel.mode).backward: state gradient must be [\(ld), \(b), \(h)]")
        }
        let pool = ThreadPool.shared
        cache.initialGradient.hidden.resize(ld, b, h)
        if kernel.hasCellState { cache.ensureInitialCellGradient(ld, b, h) } else { cache.initialGradient.cell = nil }
        var inputGradient: Tensor?
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            // d loss / d layer output: the caller's for the top layer, else what layer l+1 sent
            // down (already multiplied by its dropout mask).
            let dOut: UnsafePointer<Float>? =
                l == layerCount - 1 ? outputGradient?.unsafeBase : UnsafePointer(cache.layerGradients[l].unsafeMutableBase())
            let shared = SharedOutputs(
                hidden: cache.initialGradient.hidden.unsafeMutableBase(),
                cell: kernel.hasCellState ? cache.initialCellGradientBase() : nil, output: cache.initialGradient.hidden.unsafeMutableBase())
            let threads = pool.threadCount
            if d == 2 && threads >= 2 {
                pool.run(tasks: 2) { dir in
                    self.recurBackward(cache, shared, layer: l, direction: dir, outputGradient: dOut, stateGradient: stateGradient, parts: 1, pool: nil)
                }
            } else {
                for dir in 0..<d {
                    recurBackward(cache, shared, layer: l, direction: dir, outputGradient: dOut, stateGradient: stateGradient, parts: threads, pool: pool)
                }
            }
            // Weight gradients and the gradient for the layer below, one GEMM each over all steps.
            let inputWidth = layerInputSize(l)
            let wantsInput = l > 0 || (needsInputGradient && cache.isTensorSource)
            var dX: UnsafeMutablePointer<Float>?
            if wantsInput {
                if l > 0 {
                    dX = cache.layerGradients[l - 1].resizedPointer(t, b, inputWidth)
                } else {
                    var gradient = Tensor(shape: [t, b, inputWidth], repeating: 0)
                    dX = gradient.unsafeMutableBase()
                    inputGradient = gradient
                }
                if l > 0 { dX?.update(repeating: 0, count: t * b * inputWidth) }
            }
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                let dA = buffers.gates.unsafeBase
                let dRec = kernel.separateRecurrentGradient ? buffers.recurrentGradient.unsafeBase : dA
                BLAS.gemm(
                    transposeA: true, m: g, n: h, k: t * b, a: dRec, lda: g, b: buffers.hiddenPrevious.unsafeBase, ldb: h,
                    beta: 1, c: weightHH[l][dir].gradient.unsafeMutableBase(), ldc: h)
                let columnSums = buffers.columnSums.resizedPointer(1, g)
                ColumnSums.compute(dA, rows: t * b, columns: g, into: columnSums)
                VectorMath.axpy(1, columnSums, biasIH[l][dir].gradient.unsafeMutableBase(), count: g)
                if kernel.separateRecurrentGradient {
                    ColumnSums.compute(dRec, rows: t * b, columns: g, into: columnSums)
                }
                VectorMath.axpy(1, columnSums, biasHH[l][dir].gradient.unsafeMutableBase(), count: g)
                if l == 0, case .tokens(let tokens, let embedding) = cache.source {
                    backwardThroughTable(cache, buffers, tokens: tokens, embedding: embedding, direction: dir)
                    continue
                }
                BLAS.gemm(
                    transposeA: true, m: g, n: inputWidth, k: t * b, a: dA, lda: g, b: layerInput(cache, l), ldb: inputWidth,
                    beta: 1, c: weightIH[l][dir].gradient.unsafeMutableBase(), ldc: inputWidth)
                if let dX {
                    BLAS.gemm(
                        m: t * b, n: inputWidth, k: g, a: dA, lda: g, b: weightIH[l][dir].value.unsafeBase, ldb: inputWidth,
                        beta: 1, c: dX, ldc: inputWidth)
                }
            }
            if l > 0 && cache.usesDropout, let dX {
                let mask = cache.masks[l - 1].unsafeBase
                for i in 0..<(t * b * inputWidth) { dX[i] *= mask[i] }
            }
        }
        return (inputGradient, cache.initialGradient)
    }

    /// The token-table path of layer 0: dTable[v] = Σ over (t, b) with token v of dA[t, b];
    /// then dW_ih += dTableᵀ E, db_ih was added with the column sums, dE += dTable W_ih.
    private func backwardThroughTable(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, tokens: [Int32], embedding: Embedding, direction dir: Int
    ) {
        let g = gateWidth
        let v = embedding.vocabularySize
        let e = embedding.embeddingSize
        let dTable = buffers.table.resizedPointer(v, g)
        dTable.update(repeating: 0, count: v * g)
        let dA = buffers.gates.unsafeBase
        // Each thread owns a range of gate columns, so the scatter-add needs no atomics.
        tokens.withUnsafeBufferPointer { ids in
            ThreadPool.shared.parallelRanges(count: g, granularity: 16) { columns in
                for (row, id) in ids.enumerated() {
                    VectorMath.axpy(1, dA + row * g + columns.lowerBound, dTable + Int(id) * g + columns.lowerBound, count: columns.count)
                }
            }
        }
        BLAS.gemm(
            transposeA: true, m: g, n: e, k: v, a: dTable, lda: g, b: embedding.weight.value.unsafeBase, ldb: e,
            beta: 1, c: weightIH[0][dir].gradient.unsafeMutableBase(), ldc: e)
        BLAS.gemm(
            m: v, n: e, k: g, a: dTable, lda: g, b: weightIH[0][dir].value.unsafeBase, ldb: e,
            beta: 1, c: embedding.weight.gradient.unsafeMutableBase(), ldc: e)
    }

    private func recurBackward(
        _ cache: RecurrentCache, _ shared: SharedOutputs, layer l: Int, direction dir: Int, outputGradient: UnsafePointer<Float>?,
        stateGradient: RecurrentState?, parts: Int, pool: ThreadPool?
    ) {
        let (t, b, h, g) = (cache.timeSteps, cache.batch, hiddenSize, gateWidth)
        let d = directionCount
        let buffers = cache.directions[l][dir]
        let state = l * d + dir
        var dh = buffers.hiddenGradient.resizedPointer(b, h)
        var dhNext = buffers.hiddenGradientNext.resizedPointer(b, h)
        let dc = buffers.cellGradient.resizedPointer(b, h)
        if let s = stateGradient?.hidden { dh.update(from: s.unsafeBase + state * b * h, count: b * h) } else { dh.update(repeating: 0, count: b * h) }
        if let s = stateGradient?.cell, kernel.hasCellState { dc.update(from: s.unsafeBase + state * b * h, count: b * h) } else { dc.update(repeating: 0, count: b * h) }
        let gates = buffers.gates.unsafeMutableBase()
        let auxiliary = buffers.auxiliary.unsafeBase
        let hPrev = buffers.hiddenPrevious.unsafeBase
        let cPrev = kernel.hasCellState ? buffers.cellPrevious.unsafeBase : hPrev
        let dRec = kernel.separateRecurrentGradient ? buffers.recurrentGradient.unsafeMutableBase() : gates
        let whh = weightHH[l][dir].value.unsafeBase
        let outputStride = d * h
        let auxWidth = Swift.max(1, kernel.auxiliaryWidth) * h
        let lengths = cache.lengths.isEmpty ? nil : cache.lengths.withUnsafeBufferPointer { $0.baseAddress }
        let kernel = self.kernel
        let chunks = ThreadPool.chunkCount(count: b, parts: parts, granularity: 1)
        func work(_ rows: Range<Int>, _ time: Int, _ dhIn: UnsafePointer<Float>, _ dhOut: UnsafeMutablePointer<Float>) {
            let step = CellBackwardStep(
                rows: rows, hiddenSize: h, gates: gates + time * b * g,
                auxiliary: auxiliary + time * b * auxWidth,
                hiddenPrevious: hPrev + time * b * h, cellPrevious: cPrev + time * b * h,
                outputGradient: outputGradient.map { $0 + time * b * outputStride + dir * h },
                outputStride: outputStride, hiddenGradient: dhIn, hiddenGradientPrevious: dhOut,
                cellGradient: dc, recurrentGradient: dRec + time * b * g, lengths: lengths, time: time)
            kernel.backward(step)
            let r0 = rows.lowerBound
            BLAS.gemmSerial(
                false, false, rows.count, h, g, 1, dRec + (time * b + r0) * g, g, whh, h, 1,
                dhOut + r0 * h, h)
        }
        for s in 0..<t {
            // Reverse of the forward processing order.
            let time = dir == 0 ? t - 1 - s : s
            let (dhIn, dhOut) = (UnsafePointer(dh), dhNext)
            if let pool, chunks > 1 {
                pool.run(tasks: chunks) { i in
                    work(ThreadPool.chunk(i, of: chunks, count: b, granularity: 1), time, dhIn, dhOut)
                }
            } else {
                work(0..<b, time, dhIn, dhOut)
            }
            swap(&dh, &dhNext)
        }
        (shared.hidden + state * b * h).update(from: dh, count: b * h)
        if let cell = shared.cell {
            (cell + state * b * h).update(from: dc, count: b * h)
        }
    }
}

/// Column sums of a row-major matrix, split over the thread pool by columns.
enum ColumnSums {
    static func compute(_ a: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: columns)
        ThreadPool.shared.parallelRanges(count: columns, granularity: 16) { range in
            for r in 0..<rows {
                VectorMath.axpy(1, a + r * columns + range.lowerBound, out + range.lowerBound, count: range.count)
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
    var weightHHTransposed = Tensor()  // [H, G·H]
    var table = Tensor()  // [V, G·H]: token table (layer 0) and its gradient
    var hiddenGradient = Tensor()  // [B, H]
    var hiddenGradientNext = Tensor()  // [B, H]
    var cellGradient = Tensor()  // [B, H]
    var columnSums = Tensor()  // [1, G·H]
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
    var usesDropout = false
    var directions: [[DirectionBuffers]]
    var layerOutputs: [Tensor]  // [T, B, D·H] per layer
    var layerInputs: [Tensor]  // [T, B, D·H] per layer ≥ 1 (after dropout)
    var layerGradients: [Tensor]  // d loss / d output of layer l (for l < L-1)
    var masks: [Tensor]  // dropout masks, layer outputs 0..<L-1
    var finalState: RecurrentState
    var initialGradient: RecurrentState
    var initialState: RecurrentState?

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

extension Tensor {
    /// Resizes (reusing storage when possible) and returns the base for writing.
    mutating func resizedPointer(_ d0: Int, _ d1: Int, _ d2: Int) -> UnsafeMutablePointer<Float> {
        resize(d0, d1, d2)
        return unsafeMutableBase()
    }

    /// Resizes (reusing storage when possible) and returns the base for writing.
    mutating func resizedPointer(_ d0: Int, _ d1: Int) -> UnsafeMutablePointer<Float> {
        resize(d0, d1)
        return unsafeMutableBase()
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
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, dropout: Float = 0,
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
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false, dropout: Float = 0,
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
        inputSize: Int, hiddenSize: Int, layers: Int = 1, nonlinearity: RNNKernel.Nonlinearity = .tanh,
        bidirectional: Bool = false, dropout: Float = 0, rng: inout Xoshiro256
    ) {
        self.init(
            kernel: RNNKernel(nonlinearity: nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize,
            layers: layers, bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}
