// The character language model: embedding → recurrent stack (or TCN) → linear decoder.
//
// Legend: T time steps, B batch, V vocabulary, E embedding, H hidden (or TCN channels).
// Recurrent training steps run the fused layers directly (embedding folded into the first
// layer's input projection, decoder and loss as three GEMMs and one fused softmax pass);
// the TCN runs on the autodiff tape.

import RealModule
import RecurBase
import RecurNN
import RecurTensor

/// A character-level language model (char-rnn style) that predicts the next symbol.
///
/// Parameter names follow `charlm_torch.py` (`emb.weight`, `rnn.weight_ih_l0`, …, `out.weight`),
/// so `model-*.safetensors` loads into that PyTorch model with `load_state_dict`.
///
/// ```swift
/// var rng = Xoshiro256(seed: 1)
/// let model = CharLanguageModel(architecture: .init(cell: .lstm, vocabularySize: 66,
///     embeddingSize: 64, hiddenSize: 128, layers: 2, dropout: 0), rng: &rng)
/// let (loss, state) = model.trainingStep(inputs: x, targets: y, timeSteps: 50, batch: 50,
///     state: nil, rng: &rng)
/// ```
public final class CharLanguageModel: Module {
    /// The network between the embedding and the decoder.
    public enum Body {
        /// A recurrent stack (`rnn.*`): LSTM, GRU or RNN.
        case recurrent(any RecurrentSequenceLayer)
        /// A temporal convolutional network (`tcn.*`).
        case tcn(TCN)
    }

    /// The sizes and kind of network (saved in checkpoints).
    public let architecture: CharLMArchitecture
    /// Symbol embeddings `[V, E]` (`emb.weight`).
    public let embedding: Embedding
    /// The recurrent stack or the TCN.
    public let body: Body
    /// The output layer `[V, H]` (`out.weight`, `out.bias`).
    public let decoder: Linear
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    private var logits = Tensor()  // [T·B, V], then d loss / d logits
    private var outputGradient = Tensor()  // [T·B, H]
    private var ones = Tensor()  // [T·B] of 1: db = dZᵀ 1 as one GEMV
    private var outputMask = Tensor()  // [T, B, H] output-dropout mask
    private var droppedOutput = Tensor()  // [T, B, H] the top layer's output times the mask
    private let lossJob = CrossEntropyJob()
    private let stepTape = Tape()  // the TCN's step records here; the fused step does not
    // Evaluation and sampling: values only, reset after each use (no tape per sampled symbol).
    private let inferenceTape: Tape = {
        let tape = Tape()
        tape.isRecording = false
        return tape
    }()
    private var weightMasks: [Tensor] = []  // per W_hh: the weight-drop mask of this step
    private var droppedWeights: [Tensor] = []  // per W_hh: the weights times the mask
    private var gradientsBefore: [Tensor] = []  // per W_hh: its gradient before this step

    /// A freshly initialized model (PyTorch's default initializations).
    public init(architecture a: CharLMArchitecture, rng: inout Xoshiro256) {
        architecture = a
        embedding = Embedding(
            vocabularySize: a.vocabularySize, embeddingSize: a.embeddingSize, rng: &rng)
        switch a.cell {
        case .lstm:
            body = .recurrent(
                LSTM(
                    inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                    dropout: a.dropout, rng: &rng))
        case .gru:
            body = .recurrent(
                GRU(
                    inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                    dropout: a.dropout, rng: &rng))
        case .rnn:
            body = .recurrent(
                RNN(
                    inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                    dropout: a.dropout, rng: &rng))
        case .tcn:
            body = .tcn(
                TCN(
                    inputChannels: a.embeddingSize, channels: a.hiddenSize, blocks: a.layers,
                    kernelSize: a.kernelSize,
                    dropout: a.dropout, weightNormalization: a.weightNormalization, rng: &rng))
        }
        decoder = Linear(inputSize: a.hiddenSize, outputSize: a.vocabularySize, rng: &rng)
    }

    /// Visits the parameters with PyTorch's names: `emb.`, `rnn.` or `tcn.`, then `out.`.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.child("emb", embedding))
        switch body {
        case .recurrent(let recurrent): visit(.child("rnn", recurrent))
        case .tcn(let tcn): visit(.child("tcn", tcn))
        }
        visit(.child("out", decoder))
    }

    /// The number of past symbols a TCN output sees (nil for recurrent models).
    public var receptiveField: Int? {
        if case .tcn(let tcn) = body { tcn.receptiveField } else { nil }
    }

    /// Whether the model carries a recurrent state from one window to the next.
    public var isRecurrent: Bool {
        if case .recurrent = body { true } else { false }
    }

    // MARK: - Training

    /// Forward and backward over one batch of B windows of T symbols, with gradients
    /// accumulated into the parameters.
    ///
    /// A recurrent model reads the windows as B streams continued from the carried `state`
    /// (truncated backpropagation through time) and returns its final state to carry into the
    /// next window; a TCN reads each window on its own (its context is the window) and returns
    /// no state.
    ///
    /// - Parameters:
    ///   - inputs: `T·B` ids, time-major.
    ///   - targets: `T·B` ids, time-major (each input's next symbol).
    ///   - t: time steps T.
    ///   - b: windows B.
    ///   - state: the state carried from the previous window (nil: zeros; ignored by a TCN).
    ///   - rng: draws the dropout and weight-drop masks.
    /// - Returns: the mean cross-entropy in nats per symbol, and the final state (to carry).
    public func trainingStep(
        inputs: [Int32], targets: [Int32], timeSteps t: Int, batch b: Int, state: RecurrentState?,
        rng: inout Xoshiro256
    ) -> (loss: Double, state: RecurrentState?) {
        precondition(
            inputs.count == t * b && targets.count == t * b,
            "trainingStep: \(inputs.count) inputs and \(targets.count) targets for T=\(t), B=\(b)")
        switch body {
        case .recurrent(let recurrent):
            let (loss, final) = recurrentStep(
                recurrent, inputs: inputs, targets: targets, timeSteps: t, batch: b, state: state,
                rng: &rng)
            return (loss, final)
        case .tcn(let tcn):
            return (
                tcnStep(tcn, inputs: inputs, targets: targets, timeSteps: t, batch: b, rng: &rng),
                nil
            )
        }
    }

    /// The fused recurrent step: embedding folded into the first layer, decoder and loss as
    /// three GEMMs and one softmax pass.
    private func recurrentStep(
        _ recurrent: any RecurrentSequenceLayer, inputs: [Int32], targets: [Int32],
        timeSteps t: Int, batch b: Int, state: RecurrentState?, rng: inout Xoshiro256
    ) -> (loss: Double, state: RecurrentState) {
        let (v, h) = (architecture.vocabularySize, architecture.hiddenSize)
        let rows = t * b
        let weightDrop = isTraining ? (architecture.weightDrop ?? 0) : 0
        let originals =
            weightDrop > 0 ? dropRecurrentWeights(probability: weightDrop, rng: &rng) : []
        var context = ForwardContext.training(tape: stepTape, generator: rng)
        let (output, finalState, cache) = recurrent.forward(
            tokens: inputs, timeSteps: t, batch: b, embedding: embedding, initialState: state,
            lengths: nil, context: &context)
        rng = context.generator
        // Output dropout (char-rnn, Zaremba et al. 2014): the decoder sees the top layer's
        // output times a mask; the recurrent layer keeps its undropped output for its backward.
        let p = architecture.outputDropout ?? 0
        var mask: UnsafeMutablePointer<Float>?
        var decoderInput = output.unsafeBase
        if isTraining && p > 0 {
            let m = outputMask.resizedPointer(t, b, h)
            Dropout.fillMask(m, count: rows * h, probability: p, rng: &rng)
            let dropped = droppedOutput.resizedPointer(t, b, h)
            for i in 0..<(rows * h) { dropped[i] = decoderInput[i] * m[i] }
            (mask, decoderInput) = (m, UnsafePointer(dropped))
        }
        decode(decoderInput, rows: rows)
        // Loss and d loss / d logits in place, rows split across the pool.
        let z = logits.unsafeMutableBase()
        let loss = targets.withUnsafeBufferPointer { y in
            lossJob.run(
                logits: z, rows: rows, classes: v, targets: y.start,
                gradientScale: 1 / Float(rows))
        }
        // Decoder backward: dOut = dZ W, dW += dZᵀ out, db += Σ dZ.
        let dOut = outputGradient.resizedPointer(t, b, h)
        BLAS.gemm(
            m: rows, n: h, k: v, a: z, lda: v, b: decoder.weight.value.unsafeBase, ldb: h, c: dOut,
            ldc: h)
        BLAS.gemm(
            transposeA: true, m: v, n: h, k: rows, a: z, lda: v, b: decoderInput, ldb: h, beta: 1,
            c: decoder.weight.gradient.unsafeMutableBase(), ldc: h)
        if let mask { for i in 0..<(rows * h) { dOut[i] *= mask[i] } }
        withExtendedLifetime(output) {}  // decoderInput may point into it
        if let bias = decoder.bias {
            if ones.count != rows { ones = Tensor.ones([rows]) }
            BLAS.gemv(
                transpose: true, m: rows, n: v, a: z, lda: v, x: ones.unsafeBase, beta: 1,
                y: bias.gradient.unsafeMutableBase())
        }
        recurrent.backward(
            cache, outputGradient: outputGradient, stateGradient: nil, needsInputGradient: false)
        if !originals.isEmpty { restoreRecurrentWeights(originals) }
        return (loss / Double(rows), finalState)
    }

    /// The hidden-to-hidden weights W_hh of every layer and direction (found once: the
    /// parameters are fixed objects).
    private lazy var recurrentWeights: [Parameter] = {
        var weights: [Parameter] = []
        if case .recurrent(let recurrent) = body {
            recurrent.visitParameters(prefix: "") { name, parameter in
                if name.hasPrefix("weight_hh") { weights.append(parameter) }
            }
        }
        return weights
    }()

    /// Weight drop: DropConnect on W_hh (Wan et al., 2013), as AWD-LSTM (Merity et al., 2017).
    ///
    /// For one training step every W_hh is replaced by `W ⊙ M` with a fresh mask M of zeros and
    /// 1/(1-p), the same mask at every time step, so the recurrence is regularized without
    /// touching the fused kernels. Returns the original weights for `restoreRecurrentWeights`.
    private func dropRecurrentWeights(probability p: Float, rng: inout Xoshiro256) -> [Tensor] {
        let weights = recurrentWeights
        if weightMasks.count != weights.count {
            weightMasks = weights.map { _ in Tensor() }
            droppedWeights = weights.map { _ in Tensor() }
            gradientsBefore = weights.map { _ in Tensor() }
        }
        var originals: [Tensor] = []
        for (i, w) in weights.enumerated() {
            let (rows, columns) = (w.value.shape[0], w.value.shape[1])
            let count = rows * columns
            let mask = weightMasks[i].resizedPointer(rows, columns)
            Dropout.fillMask(mask, count: count, probability: p, rng: &rng)
            let dropped = droppedWeights[i].resizedPointer(rows, columns)
            let source = w.value.unsafeBase
            for j in 0..<count { dropped[j] = source[j] * mask[j] }
            gradientsBefore[i].resizedPointer(rows, columns).update(
                from: w.gradient.unsafeBase, count: count)
            originals.append(w.value)
            w.value = droppedWeights[i]
        }
        return originals
    }

    /// Puts the original W_hh back and turns the gradient the step added for `W ⊙ M` into the
    /// gradient for W (the same mask again: d(W ⊙ M)/dW = M).
    private func restoreRecurrentWeights(_ originals: [Tensor]) {
        for (i, w) in recurrentWeights.enumerated() {
            w.value = originals[i]
            let count = w.value.count
            let (g, before, mask) = (
                w.gradient.unsafeMutableBase(), gradientsBefore[i].unsafeBase,
                weightMasks[i].unsafeBase
            )
            for j in 0..<count { g[j] = before[j] + (g[j] - before[j]) * mask[j] }
        }
    }

    /// logits = out Wᵀ + b into the `logits` workspace, `[rows, V]`.
    private func decode(_ out: UnsafePointer<Float>, rows: Int) {
        let (v, h) = (architecture.vocabularySize, architecture.hiddenSize)
        let z = logits.resizedPointer(rows, v)
        if let bias = decoder.bias {
            let bs = bias.value.unsafeBase
            for r in 0..<rows { (z + r * v).update(from: bs, count: v) }
        } else {
            z.update(repeating: 0, count: rows * v)
        }
        BLAS.gemm(
            transposeB: true, m: rows, n: v, k: h, a: out, lda: h,
            b: decoder.weight.value.unsafeBase, ldb: h, beta: 1, c: z, ldc: v)
    }

    /// The TCN step through the autodiff tape, on the windows in batch-major order.
    private func tcnStep(
        _ tcn: TCN, inputs: [Int32], targets: [Int32], timeSteps t: Int, batch b: Int,
        rng: inout Xoshiro256
    ) -> Double {
        var rowInputs = [Int32](repeating: 0, count: b * t)
        var rowTargets = [Int32](repeating: 0, count: b * t)
        for row in 0..<b {
            for step in 0..<t {
                rowInputs[row * t + step] = inputs[step * b + row]
                rowTargets[row * t + step] = targets[step * b + row]
            }
        }
        stepTape.reset()
        var context = ForwardContext.training(tape: stepTape, generator: rng)
        let x = embedding(rowInputs, tape: stepTape).reshaped([b, t, architecture.embeddingSize])
        let y = tcn(x, context: &context).reshaped([b * t, architecture.hiddenSize])
        rng = context.generator
        let loss = SoftmaxCrossEntropy.loss(decoder(y), targets: rowTargets)
        stepTape.backward(from: loss)
        let value = Double(loss.value.scalar)
        stepTape.reset()  // the step's activations are not needed any more
        return value
    }

    // MARK: - Evaluation and sampling

    /// The cross-entropy of a text in bits per symbol, scored as a continuous stream.
    ///
    /// A recurrent model reads a long text as `streams` contiguous pieces in parallel (one
    /// batch), each piece after the model has read the `burnIn` symbols before it unscored, so
    /// every scored symbol has at least `burnIn` symbols of context, as it would have in one
    /// stream; the state is carried across chunks of `chunk` time steps. `streams: 1` scores
    /// the text as one stream exactly. A TCN sees its full receptive field of context.
    ///
    /// - Parameters:
    ///   - ids: the text's symbol ids.
    ///   - chunk: time steps per forward call (memory, not the result).
    ///   - streams: pieces read in parallel; nil picks up to 32, each at least 16 burn-ins long.
    ///   - burnIn: symbols read before each piece after the first, unscored.
    ///   - part: which of `parts` shares of the work to do (the processes of a data-parallel run
    ///     each score a share of the pieces, then sum `nats` and `count`).
    ///   - parts: the number of shares.
    /// - Returns: bits per symbol, total nats and the number of symbols scored (`ids.count - 1`
    ///   over all parts).
    public func evaluate(
        ids: [Int32], chunk: Int = 1000, streams: Int? = nil, burnIn: Int = 256, part: Int = 0,
        parts: Int = 1
    ) -> (bitsPerSymbol: Double, nats: Double, count: Int) {
        precondition(parts >= 1 && (0..<parts).contains(part), "evaluate: part \(part) of \(parts)")
        guard ids.count >= 2 else { return (.nan, 0, 0) }
        var total = 0.0
        var scored = 0
        switch body {
        case .recurrent(let recurrent):
            // Targets are positions 0..<n (input ids[p], target ids[p + 1]). Stream 0 scores
            // [0, W + L); stream s ≥ 1 reads from s·L and scores [s·L + W, (s + 1)·L + W).
            let n = ids.count - 1
            let w = max(0, burnIn)
            let s = max(1, min(streams ?? min(32, n / max(16 * w, 1)), max(1, n / max(w, 1))))
            let l = s == 1 ? n : (n - w + s - 1) / s
            let span = s == 1 ? n : w + l
            let share = s * part / parts..<(s * (part + 1) / parts)
            let own = share.count
            guard own > 0 else { break }
            var state: RecurrentState?
            var context = ForwardContext.inference(tape: inferenceTape)
            var inputs: [Int32] = []
            var targets: [Int32] = []
            var start = 0
            while start < span {
                let steps = min(chunk, span - start)
                inputs.removeAll(keepingCapacity: true)
                targets.removeAll(keepingCapacity: true)
                for k in start..<(start + steps) {
                    for stream in share {
                        let p = stream * l + k
                        let isScored = p < n && (stream == 0 || k >= w)
                        inputs.append(p < n ? ids[p] : 0)
                        targets.append(isScored ? ids[p + 1] : -1)
                        if isScored { scored += 1 }
                    }
                }
                let (out, final, cache) = recurrent.forward(
                    tokens: inputs, timeSteps: steps, batch: own, embedding: embedding,
                    initialState: state, lengths: nil, context: &context)
                recurrent.release(cache)
                if state == nil { state = final.copied() } else { state?.assign(final) }
                decode(out.unsafeBase, rows: steps * own)
                total += targets.withUnsafeBufferPointer { ys in
                    SoftmaxCrossEntropy.sumRows(
                        logits: logits.unsafeBase, rows: 0..<(steps * own),
                        classes: architecture.vocabularySize, targets: ys.start, ignoreIndex: -1,
                        gradientScale: 0, gradient: nil)
                }
                start += steps
            }
        case .tcn(let tcn):
            let field = tcn.receptiveField
            var context = ForwardContext.inference(tape: inferenceTape)
            let tape = inferenceTape
            defer { tape.reset() }
            var start = 0
            var index = 0
            while start < ids.count - 1 {
                let end = min(start + chunk, ids.count - 1)
                defer {
                    start = end
                    index += 1
                }
                if index % parts != part { continue }
                let low = max(0, start - field)
                let x = Array(ids[low..<end])
                tape.reset()
                let e = embedding(x, tape: tape).reshaped([1, x.count, architecture.embeddingSize])
                let hidden = tcn(e, context: &context).value
                let keep = end - start
                let last = hidden.reshaped([x.count, architecture.hiddenSize])[
                    (x.count - keep)..<x.count]
                decode(last.unsafeBase, rows: keep)
                let y = Array(ids[(start + 1)...end])
                total += y.withUnsafeBufferPointer { ys in
                    SoftmaxCrossEntropy.sumRows(
                        logits: logits.unsafeBase, rows: 0..<keep,
                        classes: architecture.vocabularySize,
                        targets: ys.start, gradientScale: 0, gradient: nil)
                }
                scored += keep
            }
        }
        return (total / Double(scored) / Double.log(2), total, scored)
    }

    /// The logits `[V]` for the symbol after `context`, advancing a recurrent `state` by the
    /// context (which for recurrent models should be only the symbols not yet fed).
    public func nextLogits(context: [Int32], state: inout RecurrentState?) -> Tensor {
        precondition(!context.isEmpty, "nextLogits: empty context")
        var pass = ForwardContext.inference(tape: inferenceTape)
        defer { inferenceTape.reset() }
        let v = architecture.vocabularySize
        switch body {
        case .recurrent(let recurrent):
            let (out, final, cache) = recurrent.forward(
                tokens: context, timeSteps: context.count, batch: 1, embedding: embedding,
                initialState: state, lengths: nil, context: &pass)
            recurrent.release(cache)
            state = final.copied()
            decode(out.unsafeBase + (context.count - 1) * architecture.hiddenSize, rows: 1)
        case .tcn(let tcn):
            let x = Array(context.suffix(tcn.receptiveField))
            let e = embedding(x, tape: pass.tape).reshaped([1, x.count, architecture.embeddingSize])
            let hidden = tcn(e, context: &pass).value
            decode(hidden.unsafeBase + (x.count - 1) * architecture.hiddenSize, rows: 1)
        }
        return Tensor(
            shape: [v], scalars: Array(UnsafeBufferPointer(start: logits.unsafeBase, count: v)))
    }
}

extension RecurrentState {
    /// A copy with its own storage (so that the layer's next run can reuse its buffers).
    public func copied() -> RecurrentState {
        var h = Tensor(uninitializedShape: hidden.shape)
        h.withUnsafeMutableBufferPointer {
            $0.start.update(from: hidden.unsafeBase, count: hidden.count)
        }
        var c: Tensor?
        if let cell {
            var t = Tensor(uninitializedShape: cell.shape)
            t.withUnsafeMutableBufferPointer {
                $0.start.update(from: cell.unsafeBase, count: cell.count)
            }
            c = t
        }
        return RecurrentState(hidden: h, cell: c)
    }

    /// Copies `other` into this state's storage, reusing it when the shapes match.
    public mutating func assign(_ other: RecurrentState) {
        if hidden.shape != other.hidden.shape || (cell == nil) != (other.cell == nil) {
            self = other.copied()
            return
        }
        hidden.unsafeMutableBase().update(from: other.hidden.unsafeBase, count: other.hidden.count)
        if let source = other.cell {
            var c = cell ?? Tensor()
            cell = nil
            c.unsafeMutableBase().update(from: source.unsafeBase, count: source.count)
            cell = c
        }
    }
}

/// Softmax cross-entropy over the rows of a logits buffer, split across the thread pool; the
/// partial sums are added in task order, so the loss does not depend on timing.
final class CrossEntropyJob: ParallelJob {
    private var logits = UnsafeMutablePointer<Float>.unset
    private var targets = UnsafePointer<Int32>.unset
    private var rows = 0
    private var classes = 0
    private var scale: Float = 1
    private var parts = 1
    // Raw storage: tasks write their own slot concurrently (an Array would be one shared value).
    private let sums = UnsafeMutablePointer<Double>.allocate(capacity: 64)

    deinit { sums.deallocate() }

    func run(
        logits: UnsafeMutablePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
        gradientScale: Float
    ) -> Double {
        for r in 0..<rows {
            precondition(
                targets[r] >= 0 && Int(targets[r]) < classes,
                "cross-entropy: target \(targets[r]) out of range")
        }
        (self.logits, self.rows, self.classes, self.targets, self.scale) = (
            logits, rows, classes, targets, gradientScale
        )
        parts = min(ThreadPool.shared.threadCount, 64, max(1, rows / 256))
        ThreadPool.shared.run(tasks: parts, job: self)
        var total = 0.0
        for p in 0..<parts { total += sums[p] }
        return total
    }

    func run(task: Int) {
        let range = ThreadPool.chunk(task, of: parts, count: rows, granularity: 1)
        sums[task] = SoftmaxCrossEntropy.sumRows(
            logits: logits, rows: range, classes: classes, targets: targets, gradientScale: scale,
            gradient: logits)
    }
}
