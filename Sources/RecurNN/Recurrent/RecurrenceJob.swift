// The thread job that runs the time loop of one layer (both directions) on the pool.

import RecurBase
import RecurTensor

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
    var finalHidden: UnsafeMutablePointer<Float>  // forward: h_n; backward: d h_0
    var finalCell: UnsafeMutablePointer<Float>?  // forward: c_n; backward: d c_0 (LSTM only)
    var lengths: UnsafePointer<Int32>?
    var tokens: UnsafePointer<Int32>?
    var table: UnsafePointer<Float>?
}

/// The gradient buffers of one layer and direction that a backward pass reads and writes.
struct BackwardBuffers {
    var outputGradient: UnsafePointer<Float>?  // d loss / d output (nil: zero)
    var hiddenGradient: UnsafeMutablePointer<Float>  // [B, H] d h_t, swapped with the next
    var hiddenGradientNext: UnsafeMutablePointer<Float>  // [B, H] d h_{t-1} being accumulated
    var cellGradient: UnsafeMutablePointer<Float>  // [B, H]
    var recurrentGradient: UnsafeMutablePointer<Float>  // [T, B, G·H]
    var inputBiasGradient: UnsafeMutablePointer<Float>  // per-row accumulators
    var recurrentBiasGradient: UnsafeMutablePointer<Float>
    var biasGradientRowStride: Int
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
    /// Which time loop `execute` runs.
    enum Phase { case forward, backward }

    /// W_hh sizes (bytes) that stay in a core's cache from step to step.
    static var cachedWeightLimit: Int { 1 << 20 }

    var phase = Phase.forward
    let kernel: Kernel
    var runs: [DirectionRun] = []
    /// Forward only: each direction's output (the layer output plus the direction's offset).
    var outputs: [UnsafeMutablePointer<Float>] = []
    /// Backward only: each direction's gradient buffers, in the order of `runs`.
    var gradients: [BackwardBuffers] = []
    var timeSteps = 0
    var batch = 0
    var hiddenSize = 0
    var parts = 1
    var splitsRows = false
    var split = RecurrenceSplit.automatic
    var pool = ThreadPool.shared
    var barriers: [SpinBarrier] = []

    init(kernel: Kernel) {
        self.kernel = kernel
        runs.reserveCapacity(2)
        outputs.reserveCapacity(2)
        gradients.reserveCapacity(2)
    }

    func begin(
        timeSteps: Int, batch: Int, hiddenSize: Int, split: RecurrenceSplit, pool: ThreadPool
    ) {
        self.split = split
        self.pool = pool
        self.timeSteps = timeSteps
        self.batch = batch
        self.hiddenSize = hiddenSize
        runs.removeAll(keepingCapacity: true)
        outputs.removeAll(keepingCapacity: true)
        gradients.removeAll(keepingCapacity: true)
    }

    /// Runs every direction's time loop of `phase` and returns when all are done (forward
    /// needs one `outputs` entry per run, backward one `gradients` entry).
    func execute(_ phase: Phase) {
        let phaseBuffers = phase == .forward ? outputs.count : gradients.count
        precondition(
            phaseBuffers == runs.count,
            "RecurrenceJob: \(phaseBuffers) \(phase) buffers for \(runs.count) directions")
        self.phase = phase
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
        switch phase {
        case .forward:
            forward(runs[d], output: outputs[d], rows: rows, units: units, barrier: barrier)
        case .backward:
            backward(runs[d], gradients[d], rows: rows, units: units, barrier: barrier)
        }
    }

    private func forward(
        _ r: DirectionRun, output: UnsafeMutablePointer<Float>, rows: Range<Int>,
        units: Range<Int>, barrier: SpinBarrier?
    ) {
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
                output: output + time * b * r.outputStride, outputStride: r.outputStride,
                lengths: r.lengths, time: time)
            kernel.forward(step)
        }
    }

    private func backward(
        _ r: DirectionRun, _ gradients: BackwardBuffers, rows: Range<Int>, units: Range<Int>,
        barrier: SpinBarrier?
    ) {
        let (t, b, h) = (timeSteps, batch, hiddenSize)
        let g = kernel.gateCount * h
        let auxWidth = Swift.max(1, kernel.auxiliaryWidth) * h
        let gr = gradients
        var dh = gr.hiddenGradient
        var dhNext = gr.hiddenGradientNext
        for s in 0..<t {
            // Reverse of the forward processing order.
            let time = r.direction == 0 ? t - 1 - s : s
            let step = CellBackwardStep(
                rows: rows, units: units, hiddenSize: h, gates: r.gates + time * b * g,
                auxiliary: r.auxiliary + time * b * auxWidth,
                hiddenPrevious: r.hiddenPrevious + time * b * h,
                cellPrevious: r.cellPrevious + time * b * h,
                outputGradient: gr.outputGradient.map { $0 + time * b * r.outputStride },
                outputStride: r.outputStride, hiddenGradient: dh, hiddenGradientPrevious: dhNext,
                cellGradient: gr.cellGradient,
                recurrentGradient: gr.recurrentGradient + time * b * g,
                inputBiasGradient: gr.inputBiasGradient,
                recurrentBiasGradient: gr.recurrentBiasGradient,
                biasGradientRowStride: gr.biasGradientRowStride, lengths: r.lengths, time: time)
            kernel.backward(step)
            barrier?.wait()
            PanelGEMM.multiply(
                m: rows.count, k: g, a: gr.recurrentGradient + (time * b + rows.lowerBound) * g,
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
                    from: gr.cellGradient + row * h + units.lowerBound, count: units.count)
            }
        }
    }
}
