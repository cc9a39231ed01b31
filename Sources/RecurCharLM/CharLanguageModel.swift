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
    /// The sizes and kind of network (saved in checkpoints).
    public let architecture: CharLMArchitecture
    /// Symbol embeddings `[V, E]` (`emb.weight`).
    public let embedding: Embedding
    /// The recurrent stack (`rnn.*`), nil for a TCN.
    public let recurrent: (any RecurrentSequenceLayer)?
    /// The temporal convolutional network (`tcn.*`), nil for recurrent cells.
    public let tcn: TCN?
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
            recurrent = LSTM(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                dropout: a.dropout, rng: &rng)
            tcn = nil
        case .gru:
            recurrent = GRU(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                dropout: a.dropout, rng: &rng)
            tcn = nil
        case .rnn:
            recurrent = RNN(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                dropout: a.dropout, rng: &rng)
            tcn = nil
        case .tcn:
            recurrent = nil
            tcn = TCN(
                inputChannels: a.embeddingSize, channels: a.hiddenSize, blocks: a.layers,
                kernelSize: a.kernelSize,
                dropout: a.dropout, weightNormalization: a.weightNormalization, rng: &rng)
        }
        decoder = Linear(inputSize: a.hiddenSize, outputSize: a.vocabularySize, rng: &rng)
    }

    /// Visits the parameters with PyTorch's names: `emb.`, `rnn.` or `tcn.`, then `out.`.
    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        embedding.visitParameters(prefix: prefix + "emb.", visit)
        recurrent?.visitParameters(prefix: prefix + "rnn.", visit)
        tcn?.visitParameters(prefix: prefix + "tcn.", visit)
        decoder.visitParameters(prefix: prefix + "out.", visit)
    }

    /// Visits the embedding, the recurrent stack or TCN, and the decoder.
    public func visitChildren(_ visit: (Module) -> Void) {
        visit(embedding)
        if let recurrent { visit(recurrent) }
        if let tcn { visit(tcn) }
        visit(decoder)
    }

    /// The number of past symbols a TCN output sees (nil for recurrent models).
    public var receptiveField: Int? { tcn?.receptiveField }

    // MARK: - Recurrent training

    /// Forward and backward over one window of contiguous batches (truncated BPTT), with
    /// gradients accumulated into the parameters.
    ///
    /// - Parameters:
    ///   - inputs: `T·B` ids, time-major.
    ///   - targets: `T·B` ids, time-major (each input's next symbol).
    ///   - t: time steps T.
    ///   - b: streams B.
    ///   - state: the state carried from the previous window (nil: zeros).
    ///   - rng: draws the dropout and weight-drop masks.
    /// - Returns: the mean cross-entropy in nats per symbol, and the final state (to carry).
    public func trainingStep(
        inputs: [Int32], targets: [Int32], timeSteps t: Int, batch b: Int, state: RecurrentState?,
        rng: inout Xoshiro256
    ) -> (loss: Double, state: RecurrentState) {
        guard let recurrent else {
            preconditionFailure("trainingStep is for recurrent models; use tcnTrainingStep")
        }
        let (v, h) = (architecture.vocabularySize, architecture.hiddenSize)
        let rows = t * b
        let weightDrop = isTraining ? (architecture.weightDrop ?? 0) : 0
        let originals =
            weightDrop > 0 ? dropRecurrentWeights(probability: weightDrop, rng: &rng) : []
        let (output, finalState, cache) = recurrent.forward(
            tokens: inputs, timeSteps: t, batch: b, embedding: embedding, initialState: state,
            lengths: nil, rng: &rng)
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
        recurrent?.visitParameters(prefix: "") { name, parameter in
            if name.hasPrefix("weight_hh") { weights.append(parameter) }
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

    // MARK: - TCN training

    /// Forward and backward over `batch` windows of `T + 1` symbols (inputs are the first T,
    /// targets the last T), through the autodiff tape.
    public func tcnTrainingStep(
        windows: [Int32], timeSteps t: Int, batch b: Int, rng: inout Xoshiro256
    ) -> Double {
        guard let tcn else { preconditionFailure("tcnTrainingStep is for TCN models") }
        precondition(
            windows.count == b * (t + 1),
            "tcnTrainingStep: \(windows.count) ids for \(b) windows of \(t + 1)")
        var inputs = [Int32](repeating: 0, count: b * t)
        var targets = [Int32](repeating: 0, count: b * t)
        for row in 0..<b {
            for step in 0..<t {
                inputs[row * t + step] = windows[row * (t + 1) + step]
                targets[row * t + step] = windows[row * (t + 1) + step + 1]
            }
        }
        let tape = Tape()
        let x = embedding(inputs, tape: tape).reshaped([b, t, architecture.embeddingSize])
        let y = tcn(x, rng: &rng).reshaped([b * t, architecture.hiddenSize])
        let loss = SoftmaxCrossEntropy.loss(decoder(y), targets: targets)
        tape.backward(from: loss)
        return Double(loss.value.scalar)
    }

    // MARK: - Evaluation and sampling

    /// The cross-entropy of a text in bits per symbol, scored as one stream (state carried
    /// across chunks of `chunk` symbols; a TCN sees its full receptive field of context).
    ///
    /// - Returns: bits per symbol, total nats and the number of symbols scored (`ids.count - 1`).
    public func evaluate(ids: [Int32], chunk: Int = 1000) -> (
        bitsPerSymbol: Double, nats: Double, count: Int
    ) {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        guard ids.count >= 2 else { return (.nan, 0, 0) }
        var total = 0.0
        var scored = 0
        if let recurrent {
            var state: RecurrentState?
            var rng = Xoshiro256(seed: 0)
            var start = 0
            while start < ids.count - 1 {
                let end = min(start + chunk, ids.count - 1)
                let x = Array(ids[start..<end])
                let (out, final, cache) = recurrent.forward(
                    tokens: x, timeSteps: x.count, batch: 1, embedding: embedding,
                    initialState: state, lengths: nil, rng: &rng)
                recurrent.release(cache)
                state = final.copied()
                decode(out.unsafeBase, rows: x.count)
                let y = Array(ids[(start + 1)...end])
                total += y.withUnsafeBufferPointer { ys in
                    SoftmaxCrossEntropy.sumRows(
                        logits: logits.unsafeBase, rows: 0..<x.count,
                        classes: architecture.vocabularySize,
                        targets: ys.start, gradientScale: 0, gradient: nil)
                }
                scored += x.count
                start = end
            }
        } else if let tcn {
            let field = tcn.receptiveField
            let tape = Tape()
            tape.isRecording = false
            var rng = Xoshiro256(seed: 0)
            var start = 0
            while start < ids.count - 1 {
                let end = min(start + chunk, ids.count - 1)
                let low = max(0, start - field)
                let x = Array(ids[low..<end])
                tape.reset()
                let e = embedding(x, tape: tape).reshaped([1, x.count, architecture.embeddingSize])
                let hidden = tcn(e, rng: &rng).value
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
                start = end
            }
        }
        return (total / Double(scored) / Double.log(2), total, scored)
    }

    /// The logits `[V]` for the symbol after `context`, advancing a recurrent `state` by the
    /// context (which for recurrent models should be only the symbols not yet fed).
    public func nextLogits(context: [Int32], state: inout RecurrentState?) -> Tensor {
        precondition(!context.isEmpty, "nextLogits: empty context")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var rng = Xoshiro256(seed: 0)
        let v = architecture.vocabularySize
        if let recurrent {
            let (out, final, cache) = recurrent.forward(
                tokens: context, timeSteps: context.count, batch: 1, embedding: embedding,
                initialState: state,
                lengths: nil, rng: &rng)
            recurrent.release(cache)
            state = final.copied()
            decode(out.unsafeBase + (context.count - 1) * architecture.hiddenSize, rows: 1)
        } else if let tcn {
            let x = Array(context.suffix(tcn.receptiveField))
            let tape = Tape()
            tape.isRecording = false
            let e = embedding(x, tape: tape).reshaped([1, x.count, architecture.embeddingSize])
            let hidden = tcn(e, rng: &rng).value
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
