// The backward driver of `RecurrentLayer`: per-layer recurrence jobs in reverse, then the weight
// gradients of all steps as one GEMM each, and the token table's gradient.

import RecurBase
import RecurTensor

extension RecurrentLayer {

    func runBackward(
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
            let job = startRecurrence(cache)
            for dir in 0..<d {
                let buffers = cache.directions[l][dir]
                let state = l * d + dir
                let packed = buffers.packedHHBackward.resizedPointer(
                    g, PanelGEMM.packedCount(k: 1, blocks: 1, blockWidth: h))
                PanelGEMM.pack(
                    weightHH[l][dir].value.unsafeBase, stride: h, k: g, blocks: 1, blockWidth: h,
                    transposed: false, into: packed)
                let run = directionRun(
                    cache, buffers, layer: l, direction: dir, packedHH: UnsafePointer(packed),
                    finalHidden: initialHidden + state * b * h,
                    finalCell: initialCell.map { $0 + state * b * h })
                // Bias-gradient accumulators per batch row (input side, recurrent side), summed
                // over rows after the job: the sums do not depend on how threads split the work.
                let accumulators = buffers.biasGradients.resizedPointer(b, biasAccumulatorWidth)
                accumulators.update(repeating: 0, count: b * biasAccumulatorWidth)
                let gradient = BackwardBuffers(
                    outputGradient: dOut.map { $0 + dir * h },
                    hiddenGradient: buffers.hiddenGradient.resizedPointer(b, h),
                    hiddenGradientNext: buffers.hiddenGradientNext.resizedPointer(b, h),
                    cellGradient: buffers.cellGradient.resizedPointer(b, h),
                    recurrentGradient: kernel.separateRecurrentGradient
                        ? buffers.recurrentGradient.unsafeMutableBase() : run.gates,
                    inputBiasGradient: accumulators,
                    recurrentBiasGradient: kernel.separateRecurrentGradient
                        ? accumulators + g : accumulators,
                    biasGradientRowStride: biasAccumulatorWidth)
                if let s = stateGradient?.hidden {
                    gradient.hiddenGradient.update(from: s.unsafeBase + state * b * h, count: b * h)
                } else {
                    gradient.hiddenGradient.update(repeating: 0, count: b * h)
                }
                if let s = stateGradient?.cell, kernel.hasCellState {
                    gradient.cellGradient.update(from: s.unsafeBase + state * b * h, count: b * h)
                } else {
                    gradient.cellGradient.update(repeating: 0, count: b * h)
                }
                job.runs.append(run)
                job.gradients.append(gradient)
            }
            job.execute(.backward)
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
    func backwardThroughTable(
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
