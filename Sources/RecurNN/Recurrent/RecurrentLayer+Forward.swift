// The forward driver of `RecurrentLayer`: input projection, token table, per-layer
// recurrence jobs and inter-layer dropout.

import RecurBase
import RecurTensor

extension RecurrentLayer {

    func run(
        _ cache: RecurrentCache, timeSteps: Int, batch: Int, initialState: RecurrentState?,
        lengths: [Int]?, context: inout ForwardContext
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
        if let lengths {
            precondition(
                lengths.count == b, "\(kernel.mode): \(lengths.count) lengths for batch \(b)")
            for length in lengths {
                precondition(
                    length >= 1 && length <= t, "\(kernel.mode): length \(length) outside 1…\(t)")
            }
            cache.lengths.assign(count: b) { Int32(lengths[$0]) }
        } else {
            cache.lengths.assign(count: 0) { _ in 0 }
        }
        cache.usesDropout = context.isTraining(self) && dropout > 0 && layerCount > 1
        cache.isInferencePass = !context.isTraining
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
                    Dropout.fillMask(
                        mask, count: t * b * inputWidth, probability: dropout,
                        rng: &context.generator)
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
            let job = startRecurrence(cache)
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                prepareForward(cache, buffers, layer: l, direction: dir, inputWidth: inputWidth)
                let state = l * d + dir
                let run = directionRun(
                    cache, buffers, layer: l, direction: dir,
                    packedHH: buffers.packedHH.unsafeBase,
                    finalHidden: finalHidden + state * b * h,
                    finalCell: finalCell.map { $0 + state * b * h })
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
                job.outputs.append(output + dir * h)
            }
            job.execute(.forward)
        }
    }

    /// Fills the gates buffer with the input projection x W_ihᵀ (or builds the token table
    /// E W_ihᵀ) and the transposed recurrent weights, and sizes the buffers for one layer and
    /// direction.
    ///
    /// Biases are added by the kernels.
    func prepareForward(
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
        // once per step. After an inference pass it is kept while the weights' storage is
        // unchanged, so that sampling one step at a time does not redo it per step (an update
        // in place copies the held storage first, which invalidates it); training passes keep
        // nothing, since the weights change every step and holding them would make the
        // optimizer copy them.
        let keeps = cache.isInferencePass
        let whhValue = weightHH[l][dir].value
        if !keeps || buffers.packedFrom?.sharesStorage(with: whhValue) != true {
            let packed = buffers.packedHH.resizedPointer(
                h, PanelGEMM.packedCount(k: 1, blocks: kernel.gateCount, blockWidth: h))
            PanelGEMM.pack(
                whhValue.unsafeBase, stride: h, k: h, blocks: kernel.gateCount, blockWidth: h,
                transposed: true, into: packed)
            buffers.packedFrom = keeps ? whhValue : nil
        }
        let weight = weightIH[l][dir].value.unsafeBase
        if l == 0, case .tokens(_, let embedding) = cache.source {
            let v = embedding.vocabularySize
            let fresh =
                keeps
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
                    keeps ? (embedding.weight.value, weightIH[0][dir].value) : (nil, nil)
            }
            return
        }
        BLAS.gemm(
            transposeB: true, m: t * b, n: g, k: inputWidth, a: layerInput(cache, l),
            lda: inputWidth, b: weight,
            ldb: inputWidth, c: gates, ldc: g)
    }

    /// The base of layer l's input `[T·B, I_l]` (tensor input only).
    func layerInput(_ cache: RecurrentCache, _ l: Int) -> UnsafePointer<Float> {
        if l > 0 { return cache.layerInputs[l].unsafeBase }
        guard case .tensor(let input) = cache.source else {
            preconditionFailure("token input has no tensor")
        }
        return input.unsafeBase
    }

    /// The cache's recurrence job, started for one layer's pass over the cache's batch.
    func startRecurrence(_ cache: RecurrentCache) -> RecurrenceJob<Kernel> {
        let job = cache.job(for: self)
        job.begin(
            timeSteps: cache.timeSteps, batch: cache.batch, hiddenSize: hiddenSize,
            split: recurrenceSplit, pool: threadPool)
        return job
    }

    /// The pointers of one layer and direction for the recurrence job.
    ///
    /// - Parameters:
    ///   - packedHH: W_hhᵀ (forward) or W_hh (backward) packed for PanelGEMM.
    ///   - finalHidden: h_n (forward) or d h_0 (backward) of this layer and direction.
    ///   - finalCell: c_n or d c_0 (LSTM only).
    func directionRun(
        _ cache: RecurrentCache, _ buffers: DirectionBuffers, layer l: Int, direction dir: Int,
        packedHH: UnsafePointer<Float>, finalHidden: UnsafeMutablePointer<Float>,
        finalCell: UnsafeMutablePointer<Float>?
    ) -> DirectionRun {
        let hPrev = buffers.hiddenPrevious.unsafeMutableBase()
        let isTokenLayer: Bool
        if l == 0, case .tokens = cache.source { isTokenLayer = true } else { isTokenLayer = false }
        return DirectionRun(
            direction: dir,
            gates: buffers.gates.unsafeMutableBase(),
            auxiliary: buffers.auxiliary.unsafeMutableBase(),
            hiddenPrevious: hPrev,
            cellPrevious: kernel.hasCellState ? buffers.cellPrevious.unsafeMutableBase() : hPrev,
            scratch: buffers.scratch.unsafeMutableBase(),
            packedHH: packedHH,
            biasIH: biasIH[l][dir].value.unsafeBase,
            biasHH: biasHH[l][dir].value.unsafeBase,
            outputStride: directionCount * hiddenSize,
            finalHidden: finalHidden, finalCell: finalCell,
            lengths: cache.lengths.count == 0 ? nil : UnsafePointer(cache.lengths.base),
            tokens: isTokenLayer ? UnsafePointer(cache.tokens.base) : nil,
            table: isTokenLayer ? buffers.table.unsafeBase : nil)
    }

}
