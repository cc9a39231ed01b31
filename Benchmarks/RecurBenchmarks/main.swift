// Recur's benchmark executable: `swift run -c release RecurBenchmarks rnn --cell lstm --size b1`.
// Prints one JSON line per benchmark, with the fields the side-by-side scripts read.

import AllocationCounter
import Foundation
import RecurDistributed
import RecurNN
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Best seconds per call of `body` over `rounds` rounds of `inner` calls, after `warmup` calls.
func bestSeconds(warmup: Int = 50, rounds: Int = 20, inner: Int = 20, _ body: () -> Void) -> Double
{
    for _ in 0..<warmup { body() }
    var best = Double.infinity
    for _ in 0..<rounds {
        let t0 = seconds()
        for _ in 0..<inner { body() }
        best = min(best, (seconds() - t0) / Double(inner))
    }
    return best
}

/// The value after `--name` in the arguments, or `fallback`.
func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--" + name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

/// Forward + backward of a 2-layer sequence layer at the B1 / B1-L shapes (BENCHMARKS.md):
/// median seconds per iteration and heap allocations per iteration after the first.
func recurrentBenchmark() {
    let cell = option("cell", "lstm")
    let size = option("size", "b1")
    let threads = Int(option("threads", "2")) ?? 2
    let iterations = Int(option("iterations", "30")) ?? 30
    ThreadPool.shared.setThreadCount(threads)
    ThreadPool.bindCurrentThread(toCPU: 0)
    BLAS.prepare()
    let (t, b, i, h) = size == "b1l" ? (100, 64, 64, 512) : (50, 50, 64, 128)
    var rng = Xoshiro256(seed: 1)
    let x = Tensor.uniform([t, b, i], in: -1...1, using: &rng)
    let dy = Tensor.uniform([t, b, h], in: -1...1, using: &rng)
    func makeLayer() -> (forward: () -> Void, parameters: Int) {
        let layer: any RecurrentSequenceLayer =
            switch cell {
            case "gru": GRU(inputSize: i, hiddenSize: h, layers: 2, rng: &rng)
            case "rnn": RNN(inputSize: i, hiddenSize: h, layers: 2, rng: &rng)
            default: LSTM(inputSize: i, hiddenSize: h, layers: 2, rng: &rng)
            }
        // Unused by the fused calls: one tape for the whole run, no allocation per step.
        let tape = Tape()
        return (
            {
                var context = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 0))
                let (_, _, cache) = layer.forward(
                    x, initialState: nil, lengths: nil, context: &context)
                layer.backward(
                    cache, outputGradient: dy, stateGradient: nil, needsInputGradient: true)
            }, layer.parameterCount
        )
    }
    let (step, parameters) = makeLayer()
    step()
    step()
    if CommandLine.arguments.contains("--trace-allocations") {
        allocation_trace(1)
        step()
        allocation_trace(0)
    }
    var times: [Double] = []
    times.reserveCapacity(iterations)
    for _ in 0..<iterations {
        let start = seconds()
        step()
        times.append(seconds() - start)
    }
    // Heap allocations per iteration, counted over separate iterations (nothing else runs).
    let counted = 10
    let allocationsBefore = allocation_count()
    if CommandLine.arguments.contains("--trace-all") { allocation_trace(1) }
    for _ in 0..<counted { step() }
    allocation_trace(0)
    let allocations = Double(allocation_count() - allocationsBefore) / Double(counted)
    times.sort()
    let median = times[times.count / 2]
    print(
        "{\"bench\":\"rnn-layer\",\"impl\":\"recur\",\"cell\":\"\(cell)\",\"size\":\"\(size)\",\"T\":\(t),\"B\":\(b),\"I\":\(i),\"H\":\(h),"
            + "\"layers\":2,\"threads\":\(threads),\"parameters\":\(parameters),\"ms_per_iteration\":\((median * 1e5).rounded() / 100),"
            + "\"chars_per_s\":\(Int(Double(t * b) / median)),\"allocations_per_iteration\":\(allocations)}"
    )
}

/// The recurrent GEMMs of one thread's half of the units: OpenBLAS per gate against PanelGEMM
/// with the weight packed once.
func panelProbe() {
    BLAS.prepare()
    var rng = Xoshiro256(seed: 1)
    for (b, h) in [(50, 128), (64, 512)] {
        let g = 4 * h
        let hPrev = Tensor.uniform([b, h], in: -1...1, using: &rng)
        let dA = Tensor.uniform([b, g], in: -1...1, using: &rng)
        let whh = Tensor.uniform([g, h], in: -1...1, using: &rng)
        var whhT = Tensor.zeros([h, g])
        for r in 0..<g {
            for c in 0..<h { whhT.unsafeMutableBase()[c * g + r] = whh.unsafeBase[r * h + c] }
        }
        var c1 = Tensor.zeros([b, g])
        var c2 = Tensor.zeros([b, g])
        var packedF = Tensor.zeros([PanelGEMM.packedCount(k: h, blocks: 4, blockWidth: h)])
        var packedB = Tensor.zeros([PanelGEMM.packedCount(k: g, blocks: 1, blockWidth: h)])
        PanelGEMM.pack(
            whh.unsafeBase, stride: h, k: h, blocks: 4, blockWidth: h, transposed: true,
            into: packedF.unsafeMutableBase())
        PanelGEMM.pack(
            whh.unsafeBase, stride: h, k: g, blocks: 1, blockWidth: h, transposed: false,
            into: packedB.unsafeMutableBase())
        let half = 0..<(h / 2)
        let rowsHalf = b / 2
        func time(_ name: String, flops: Int, _ f: () -> Void) {
            let best = bestSeconds(f)
            print(
                "H=\(h)", name,
                String(format: "%.1f us  %.1f GFLOP/s", best * 1e6, Double(flops) / best * 1e-9))
        }
        let (ph, pa, pt, pw) = (hPrev.unsafeBase, dA.unsafeBase, whhT.unsafeBase, whh.unsafeBase)
        let (o1, o2) = (c1.unsafeMutableBase(), c2.unsafeMutableBase())
        let flops = 2 * b * h * g / 2
        time("fwd openblas 4 gates", flops: flops) {
            for k in 0..<4 {
                BLAS.gemmSerial(
                    false, false, b, h / 2, h, 1, ph, h, pt + k * h, g, 0, o1 + k * h, g)
            }
        }
        time("fwd panel           ", flops: flops) {
            PanelGEMM.multiply(
                m: b, k: h, a: ph, lda: h, packed: packedF.unsafeBase, blocks: 4, blockWidth: h,
                units: half, c: o2, ldc: g, accumulate: false)
        }
        var maxDiff: Float = 0
        for i in 0..<(b * g) where (i % g) % h < h / 2 {
            maxDiff = max(maxDiff, abs(o1[i] - o2[i]))
        }
        print("fwd max diff", maxDiff)
        time("fwd panel rows/2    ", flops: flops) {
            PanelGEMM.multiply(
                m: rowsHalf, k: h, a: ph, lda: h, packed: packedF.unsafeBase, blocks: 4,
                blockWidth: h, units: 0..<h, c: o2, ldc: g, accumulate: false)
        }
        time("bwd panel rows/2    ", flops: flops) {
            PanelGEMM.multiply(
                m: rowsHalf, k: g, a: pa, lda: g, packed: packedB.unsafeBase, blocks: 1,
                blockWidth: h, units: 0..<h, c: o2, ldc: h, accumulate: true)
        }
        time("bwd openblas 4 calls", flops: flops) {
            for k in 0..<4 {
                BLAS.gemmSerial(
                    false, false, b, h / 2, h, 1, pa + k * h, g, pw + k * h * h, h, 1, o1, h)
            }
        }
        time("bwd panel           ", flops: flops) {
            PanelGEMM.multiply(
                m: b, k: g, a: pa, lda: g, packed: packedB.unsafeBase, blocks: 1, blockWidth: h,
                units: half, c: o2, ldc: h, accumulate: true)
        }
    }
}

/// The weight-gradient GEMM shape dW = dAᵀ X (m = G·H, n = I, k = T·B) in its possible forms.
func weightGradientProbe() {
    BLAS.prepare()
    var rng = Xoshiro256(seed: 1)
    for (rows, g, i) in [(2500, 512, 128), (2500, 512, 64), (6400, 2048, 512)] {
        let dA = Tensor.uniform([rows, g], in: -1...1, using: &rng)
        let x = Tensor.uniform([rows, i], in: -1...1, using: &rng)
        var c = Tensor.zeros([g, i])
        var ct = Tensor.zeros([i, g])
        let flops = Double(2 * rows * g * i)
        func time(_ name: String, _ f: () -> Void) {
            let best = bestSeconds(warmup: 3, rounds: 10, inner: 1, f)
            print(
                "T·B=\(rows) G·H=\(g) I=\(i)", name,
                String(format: "%.3f ms  %.1f GFLOP/s", best * 1e3, flops / best * 1e-9))
        }
        let (pa, px, pc, pct) = (
            dA.unsafeBase, x.unsafeBase, c.unsafeMutableBase(), ct.unsafeMutableBase()
        )
        time("dAᵀ X  pool   ") {
            BLAS.gemm(
                transposeA: true, m: g, n: i, k: rows, a: pa, lda: g, b: px, ldb: i, beta: 1, c: pc,
                ldc: i)
        }
        time("dAᵀ X  serial ") {
            BLAS.gemmSerial(true, false, g, i, rows, 1, pa, g, px, i, 1, pc, i)
        }
        time("dAᵀ X  half m ") {
            BLAS.gemmSerial(true, false, g / 2, i, rows, 1, pa, g, px, i, 1, pc, i)
        }
        time("dAᵀ X  half n ") {
            BLAS.gemmSerial(true, false, g, i / 2, rows, 1, pa, g, px, i, 1, pc, i)
        }
        time("Xᵀ dA  pool   ") {
            BLAS.gemm(
                transposeA: true, m: i, n: g, k: rows, a: px, lda: i, b: pa, ldb: g, beta: 1,
                c: pct, ldc: g)
        }
        time("Xᵀ dA  serial ") {
            BLAS.gemmSerial(true, false, i, g, rows, 1, px, i, pa, g, 1, pct, g)
        }
    }
}

/// The LSTM forward cell kernel on one thread's rows (25 × 128 units, B1 split by rows).
func cellProbe() {
    BLAS.prepare()
    var rng = Xoshiro256(seed: 1)
    let (rows, h) = (25, 128)
    let g = 4 * h
    let x = Tensor.uniform([rows, g], in: -2...2, using: &rng)
    let r = Tensor.uniform([rows, g], in: -2...2, using: &rng)
    let bias = Tensor.uniform([g], in: -0.1...0.1, using: &rng)
    let hp = Tensor.uniform([rows, h], in: -1...1, using: &rng)
    let cp = Tensor.uniform([rows, h], in: -1...1, using: &rng)
    var gates = Tensor.zeros([rows, g]), aux = Tensor.zeros([rows, h]),
        hn = Tensor.zeros([rows, h]), cn = Tensor.zeros([rows, h])
    var out = Tensor.zeros([rows, h])
    let step = CellForwardStep(
        rows: 0..<rows, units: 0..<h, hiddenSize: h, biasIH: bias.unsafeBase, input: x.unsafeBase,
        inputStride: g,
        inputRowIndex: nil, recurrent: r.unsafeBase, biasHH: bias.unsafeBase,
        hiddenPrevious: hp.unsafeBase,
        cellPrevious: cp.unsafeBase, gates: gates.unsafeMutableBase(),
        auxiliary: aux.unsafeMutableBase(),
        hiddenNext: hn.unsafeMutableBase(), cellNext: cn.unsafeMutableBase(),
        output: out.unsafeMutableBase(),
        outputStride: h, lengths: nil, time: 0)
    let kernel = LSTMKernel()
    let best = bestSeconds(warmup: 100, inner: 100) { kernel.forward(step) }
    print(
        String(
            format: "LSTM forward kernel, %d rows × %d units: %.2f us (%.2f ns per unit)", rows, h,
            best * 1e6, best * 1e9 / Double(rows * h)))
}

/// Under `mpirun -np R`: the gradient averaging of one update for a model of `--floats`
/// parameters (`ProcessGroup.averageGradients`: the copies into the fused buffer, the two
/// all-reduces, the copies back) and the bare in-place all-reduce of that many floats; median
/// milliseconds over `--iterations`, printed by rank 0.
func allReduceBenchmark() {
    guard let group = try? MPIProcessGroup.start() else {
        print("allreduce: run under mpirun with several processes")
        return
    }
    let floats = Int(option("floats", "3400000")) ?? 3_400_000
    let iterations = Int(option("iterations", "30")) ?? 30
    // Parameters of 1M floats at most each, like a model's weight matrices.
    var parameters: [Parameter] = []
    var left = floats
    while left > 0 {
        let n = min(left, 1 << 20)
        parameters.append(Parameter(Tensor(shape: [n], scalars: [Float](repeating: 0.5, count: n))))
        left -= n
    }
    var buffer: [Float] = []
    var bare = [Float](repeating: 1, count: floats)
    func median(_ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<(iterations + 3) {
            _ = group.any(false)  // start together: no rank's lateness counted as communication
            let t0 = seconds()
            body()
            times.append(seconds() - t0)
        }
        return times.dropFirst(3).sorted()[iterations / 2]
    }
    let average = median {
        _ = group.averageGradients(parameters, loss: 1, items: 1, weight: 1, buffer: &buffer)
    }
    let allReduce = median { bare.withUnsafeMutableBufferPointer { group.allReduceSum($0) } }
    if group.isRoot {
        print(
            "{\"bench\":\"allreduce\",\"processes\":\(group.size),\"floats\":\(floats),\"ms_average_gradients\":\(String(format: "%.3f", average * 1e3)),\"ms_allreduce\":\(String(format: "%.3f", allReduce * 1e3))}"
        )
    }
    MPIProcessGroup.finish()
}

switch CommandLine.arguments.dropFirst().first {
case "allreduce": allReduceBenchmark()
case "panel-probe": panelProbe()
case "dw-probe": weightGradientProbe()
case "cell-probe": cellProbe()
case "rnn": recurrentBenchmark()
default:
    print(
        "usage: RecurBenchmarks rnn [--cell lstm|gru|rnn] [--size b1|b1l] [--threads N] [--iterations N] | allreduce [--floats N] [--iterations N] (under mpirun) | panel-probe | dw-probe | cell-probe"
    )
}
