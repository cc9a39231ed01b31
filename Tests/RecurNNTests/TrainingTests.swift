import Foundation
import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

@Suite("Optimizers, clipping and schedules")
struct OptimizerTests {
    func makeParameters() -> [(name: String, parameter: Parameter)] {
        [
            ("a", Parameter(randomTensor([4, 3], seed: 1))),
            ("b", Parameter(randomTensor([5], seed: 2))),
        ]
    }

    func setGradients(_ ps: [(name: String, parameter: Parameter)], seed: UInt64) {
        for (i, (_, p)) in ps.enumerated() {
            p.gradient = randomTensor(p.shape, seed: seed + UInt64(i))
        }
    }

    @Test(
        "state save/restore continues exactly",
        arguments: ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
    func stateRoundTrip(kind: String) throws {
        func make(_ ps: [(name: String, parameter: Parameter)]) -> any Optimizer {
            switch kind {
            case "sgd": return SGD(parameters: ps, learningRate: 0.1, momentum: 0.9)
            case "adam": return Adam(parameters: ps, learningRate: 0.01)
            case "adamw": return Adam.adamW(parameters: ps, learningRate: 0.01)
            case "rmsprop":
                return RMSProp(parameters: ps, learningRate: 0.01, momentum: 0.3, centered: true)
            default: return Adagrad(parameters: ps, learningRate: 0.1)
            }
        }
        let a = makeParameters()
        let b = makeParameters()
        let first = make(a)
        for s in 0..<3 {
            setGradients(a, seed: UInt64(10 * s))
            first.step()
        }
        // Copy the weights and the optimizer state into a fresh optimizer.
        for (x, y) in zip(a, b) { y.parameter.value = x.parameter.value }
        let second = make(b)
        try second.load(first.state)
        #expect(second.stepCount == 3)
        for s in 3..<6 {
            setGradients(a, seed: UInt64(10 * s))
            setGradients(b, seed: UInt64(10 * s))
            first.step()
            second.step()
        }
        for (x, y) in zip(a, b) { #expect(x.parameter.value.isBitIdentical(to: y.parameter.value)) }
    }

    @Test("loading a state of another kind or shape fails clearly")
    func badState() {
        let ps = makeParameters()
        let adam = Adam(parameters: ps)
        let sgd = SGD(parameters: ps, learningRate: 0.1, momentum: 0.9)
        #expect(throws: CheckpointError.mismatch(what: "optimizer", expected: "adam", found: "sgd"))
        { try adam.load(sgd.state) }
        var state = adam.state
        state.tensors["a.exp_avg"] = Tensor.zeros([2, 2])
        #expect(
            throws: CheckpointError.shapeMismatch(
                name: "a.exp_avg", expected: [4, 3], found: [2, 2])
        ) { try adam.load(state) }
        state.tensors["a.exp_avg"] = nil
        #expect(throws: CheckpointError.missingTensor(name: "a.exp_avg")) { try adam.load(state) }
    }

    @Test("clipping by global norm returns the norm before clipping")
    func clipNorm() {
        let ps = makeParameters()
        ps[0].parameter.gradient = Tensor.full([4, 3], 1)  // norm² = 12
        ps[1].parameter.gradient = Tensor.full([5], 2)  // norm² = 20
        let norm = GradientClipping.clipByNorm(ps, maxNorm: 1)
        #expect(abs(norm - Float(32).squareRoot()) < 1e-5)
        #expect(abs(GradientClipping.globalNorm(ps) - 1) < 1e-4)
        let unchanged = GradientClipping.clipByNorm(ps, maxNorm: 10)
        #expect(abs(unchanged - 1) < 1e-4)
        #expect(abs(GradientClipping.globalNorm(ps) - 1) < 1e-4)
        ps[0].parameter.gradient[at: 0, 0] = .nan
        #expect(GradientClipping.clipByNorm(ps, maxNorm: 1).isNaN)
    }

    @Test("the training loop clips, counts, refuses a diverged step and remembers a stop")
    func trainingLoop() throws {
        let parameters = makeParameters()
        let optimizer = SGD(parameters: parameters, learningRate: 0.1)
        let loop = TrainingLoop(
            optimizer: optimizer, learningRate: 0.5, clip: 1, totalSteps: 10, step: 4,
            clippedSteps: 2,
            warmupUpdates: 1, largestLoss: 100, directory: "run")
        #expect(loop.lastCheckpointStep == 4)  // a resumed run starts from its checkpoint
        func gradients(_ scale: Float) {
            for (_, p) in parameters {
                p.gradient = Tensor(
                    shape: p.shape, scalars: [Float](repeating: scale, count: p.value.count))
            }
        }
        let before = parameters.map(\.parameter.value)
        let big = try loop.update(learningRate: 0.5) {
            gradients(3)
            return (loss: 2, items: 8)
        }
        #expect(
            big.step == 5 && big.clipped
                && abs(big.gradientNorm - 3 * Float(17).squareRoot()) < 1e-4)
        #expect(optimizer.learningRate == 0.5)
        let small = try loop.update(learningRate: 0.5) {
            gradients(0.01)
            return (loss: 4, items: 8)
        }
        #expect(!small.clipped && loop.clippedSteps == 3 && loop.recentLoss == 3)
        #expect(loop.timedItems == 8 && loop.updatesThisRun == 2)  // the first was warm-up
        // A NaN gradient, a NaN loss or a loss above the bound: no update, a clear error.
        let now = parameters.map(\.parameter.value)
        #expect(now != before)
        for (loss, scale) in [(1.0, Float.nan), (Double.nan, 0.1), (1000, 0.1)] {
            #expect(throws: TrainingDivergence.self) {
                _ = try loop.update(learningRate: 0.5) {
                    gradients(scale)
                    return (loss: loss, items: 8)
                }
            }
        }
        #expect(parameters.map(\.parameter.value) == now && loop.step == 6)
        do {
            _ = try loop.update(learningRate: 0.5) {
                gradients(.infinity)
                return (loss: 1, items: 8)
            }
        } catch let error as TrainingDivergence {
            #expect(error.step == 7 && error.lastCheckpointStep == 4)
            #expect(error.description.hasPrefix("training diverged"))
        }
        loop.checkpointWritten()
        #expect(loop.lastCheckpointStep == 6)
        var asked = 0
        #expect(
            !loop.stopRequested {
                asked += 1; return false
            })
        #expect(loop.stopRequested { true } && loop.stopRequested { false })
        #expect(loop.interrupted && asked == 1)
    }

    /// Two in-process "ranks" on two threads, meeting at a barrier: enough to check what the
    /// training loop asks of a process group (an MPI group does the same across processes).
    final class ThreadGroup: ProcessGroup, @unchecked Sendable {
        final class Shared: @unchecked Sendable {
            let condition = NSCondition()
            var arrived = 0
            var generation = 0
            var floats: [Float] = []
            var doubles: [Double] = []
            var bytes: [UInt8] = []
            func barrier(_ parties: Int) {
                condition.lock()
                let mine = generation
                arrived += 1
                if arrived == parties {
                    arrived = 0
                    generation += 1
                    condition.broadcast()
                } else {
                    while generation == mine { condition.wait() }
                }
                condition.unlock()
            }
        }
        let rank: Int
        let size = 2
        let shared: Shared
        init(rank: Int, shared: Shared) { (self.rank, self.shared) = (rank, shared) }
        /// Rank 0's values combined with rank 1's (two operands: the same in either order).
        func reduce<T>(
            _ values: UnsafeMutableBufferPointer<T>,
            _ store: ReferenceWritableKeyPath<Shared, [T]>, _ combine: (T, T) -> T
        ) {
            if rank == 0 { shared[keyPath: store] = Array(values) }
            shared.barrier(size)
            if rank == 1 {
                for i in values.indices {
                    shared[keyPath: store][i] = combine(shared[keyPath: store][i], values[i])
                }
            }
            shared.barrier(size)
            for i in values.indices { values[i] = shared[keyPath: store][i] }
            shared.barrier(size)
        }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
            reduce(values, \.floats, +)
        }
        func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
            reduce(values, \.doubles, +)
        }
        func allReduceMax(_ values: UnsafeMutableBufferPointer<Double>) {
            reduce(values, \.doubles, max)
        }
        func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {
            if rank == root { shared.bytes = Array(bytes) }
            shared.barrier(size)
            for i in bytes.indices { bytes[i] = shared.bytes[i] }
            shared.barrier(size)
        }
    }

    static func rows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let width = t.shape[1]
        return Tensor(
            shape: [range.count, width],
            scalars: Array(t.scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
    }

    /// Three clipped SGD steps of a linear layer on `range` of the batch; the final weights.
    static func trainShare(_ range: Range<Int>, group: any ProcessGroup) throws -> [Float] {
        let x = randomTensor([8, 4], seed: 31)
        let y = randomTensor([8, 3], seed: 32)
        var rng = Xoshiro256(seed: 33)
        let layer = Linear(inputSize: 4, outputSize: 3, rng: &rng)
        let optimizer = SGD(parameters: layer.parameters(), learningRate: 0.3)
        let loop = TrainingLoop(
            optimizer: optimizer, learningRate: 0.3, clip: 0.5, totalSteps: 3, group: group,
            directory: "run")
        let tape = Tape()
        for _ in 0..<3 {
            _ = try loop.update(learningRate: 0.3) {
                guard !range.isEmpty else { return (loss: 0, items: 0) }
                tape.reset()
                let loss = meanSquaredError(
                    layer(tape.constant(rows(x, range))), target: rows(y, range))
                tape.backward(from: loss)
                return (loss: Double(loss.value.scalar), items: range.count)
            }
        }
        return layer.parameters().flatMap(\.parameter.value.scalars)
    }

    @Test(
        "two processes with unequal shares of a batch take the same steps as one with all of it",
        arguments: [4, 3, 0])
    func dataParallelSteps(cut: Int) throws {
        let single = try Self.trainShare(0..<8, group: SingleProcess())
        let shared = ThreadGroup.Shared()
        nonisolated(unsafe) var second: Result<[Float], any Error>?
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            second = Result {
                try Self.trainShare(cut..<8, group: ThreadGroup(rank: 1, shared: shared))
            }
            done.signal()
        }
        thread.start()
        let first = try Self.trainShare(0..<cut, group: ThreadGroup(rank: 0, shared: shared))
        done.wait()
        let other = try #require(try second?.get())
        #expect(first == other, "the replicas differ")
        let worst = zip(first, single).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6, "2 processes vs 1: max |Δ| \(worst)")
    }

    @Test("clipping by value")
    func clipValue() {
        let ps = makeParameters()
        ps[1].parameter.gradient = Tensor([-3, -0.5, 0, 0.5, 3])
        GradientClipping.clipByValue(ps, clip: 1)
        #expect(ps[1].parameter.gradient.scalars == [-1, -0.5, 0, 0.5, 1])
    }

    @Test("learning-rate schedules")
    func schedules() {
        #expect(
            LearningRateSchedule(.step(stepSize: 10, gamma: 0.5)).rate(base: 1, step: 25) == 0.25)
        #expect(
            abs(LearningRateSchedule(.exponential(gamma: 0.9)).rate(base: 1, step: 2) - 0.81) < 1e-6
        )
        let cosine = LearningRateSchedule(.cosine(period: 100, minimum: 0.1))
        #expect(cosine.rate(base: 1, step: 0) == 1)
        #expect(abs(cosine.rate(base: 1, step: 50) - 0.55) < 1e-6)
        #expect(abs(cosine.rate(base: 1, step: 100) - 0.1) < 1e-6)
        let warm = LearningRateSchedule(.constant, warmupSteps: 4)
        #expect(warm.rate(base: 1, step: 0) == 0.25)
        #expect(warm.rate(base: 1, step: 3) == 1)
        #expect(warm.rate(base: 1, step: 10) == 1)
        var plateau = LearningRateSchedule(
            .reduceOnPlateau(factor: 0.5, patience: 1, threshold: 0.01, minimum: 0.2))
        let reductions = [1.0, 1.0, 0.995, 0.5].map { plateau.observe(validationLoss: $0) }
        #expect(reductions == [false, false, true, false])
        #expect(plateau.rate(base: 1, step: 0) == 0.5)
        _ = plateau.observe(validationLoss: 0.6)
        _ = plateau.observe(validationLoss: 0.6)
        _ = plateau.observe(validationLoss: 0.6)
        _ = plateau.observe(validationLoss: 0.6)
        #expect(plateau.rate(base: 1, step: 0) == 0.2)  // floored at the minimum
    }
}

@Suite("Checkpoints")
struct CheckpointTests {
    struct Config: Codable, Sendable, Equatable {
        var hidden: Int
    }

    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "recur-ckpt-\(UUID().uuidString)"
    }

    @Test("model, optimizer and sidecar round-trip")
    func roundTrip() throws {
        var rng = Xoshiro256(seed: 1)
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, layers: 2, rng: &rng)
        let optimizer = Adam(parameters: lstm.parameters(), learningRate: 0.01)
        for (_, p) in lstm.parameters() { p.gradient = Tensor.ones(p.shape) }
        optimizer.step()
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sidecar = CheckpointSidecar(
            kind: "test", config: Config(hidden: 4), step: 7, rngState: rng.stateWords)
        try CheckpointDirectory.save(
            directory: dir, tensors: lstm.stateDictionary(), optimizer: optimizer.state,
            sidecar: sidecar)
        // Save again at a later step: the old files are replaced.
        var later = sidecar
        later.step = 8
        try CheckpointDirectory.save(
            directory: dir, tensors: lstm.stateDictionary(), optimizer: optimizer.state,
            sidecar: later)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(
            files == [
                "checkpoint.json", "model-00000008.safetensors", "training-00000008.safetensors",
            ])
        let (loaded, tensors, optimizerState, _) = try CheckpointDirectory.load(
            Config.self, directory: dir)
        #expect(loaded.config == Config(hidden: 4))
        #expect(loaded.step == 8)
        #expect(loaded.rngState == rng.stateWords)
        var rng2 = Xoshiro256(seed: 2)
        let copy = LSTM(inputSize: 3, hiddenSize: 4, layers: 2, rng: &rng2)
        try copy.loadStateDictionary(tensors)
        for ((_, p), (_, q)) in zip(lstm.parameters(), copy.parameters()) {
            #expect(p.value.isBitIdentical(to: q.value))
        }
        let optimizer2 = Adam(parameters: copy.parameters(), learningRate: 0.01)
        try optimizer2.load(try #require(optimizerState))
        #expect(optimizer2.stepCount == 1)
    }

    @Test("corrupt, truncated and mismatched files give clear errors")
    func badFiles() throws {
        var rng = Xoshiro256(seed: 1)
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, rng: &rng)
        let bytes = SafeTensors.encode(lstm.stateDictionary())
        let path = NSTemporaryDirectory() + "recur-st-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        func write(_ b: [UInt8]) { FileManager.default.createFile(atPath: path, contents: Data(b)) }
        write(Array(bytes.prefix(bytes.count - 10)))
        #expect(throws: CheckpointError.self) { try SafeTensors.read(path) }
        do {
            _ = try SafeTensors.read(path)
        } catch let error as CheckpointError {
            guard case .truncated = error else {
                Issue.record("expected truncated, got \(error)")
                return
            }
        }
        write(Array(bytes.prefix(5)))
        #expect(throws: CheckpointError.truncated(path: path, expectedBytes: 8, actualBytes: 5)) {
            try SafeTensors.read(path)
        }
        var badJSON = bytes
        badJSON[9] = UInt8(ascii: "!")
        write(badJSON)
        #expect(
            throws: CheckpointError.badHeader(
                path: path, reason: "header is not JSON (expected a key at byte 1)")
        ) { try SafeTensors.read(path) }
        write([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: 0, count: 16))
        #expect(throws: CheckpointError.self) { try SafeTensors.read(path) }
        #expect(throws: CheckpointError.fileNotFound(path: "/nonexistent.safetensors")) {
            try SafeTensors.read("/nonexistent.safetensors")
        }
        // A float16 tensor.
        let f16 = SafeTensorsFixtures.header(
            #"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: 4)
        write(f16)
        #expect(throws: CheckpointError.unsupportedDType(name: "w", dtype: "F16")) {
            try SafeTensors.read(path)
        }
        // Shape and name mismatches against a model.
        var tensors = lstm.stateDictionary()
        tensors["weight_hh_l0"] = Tensor.zeros([16, 5])
        #expect(
            throws: CheckpointError.shapeMismatch(
                name: "weight_hh_l0", expected: [16, 4], found: [16, 5])
        ) {
            try lstm.loadStateDictionary(tensors)
        }
        tensors = lstm.stateDictionary()
        tensors["bias_hh_l0"] = nil
        #expect(throws: CheckpointError.missingTensor(name: "bias_hh_l0")) {
            try lstm.loadStateDictionary(tensors)
        }
        tensors = lstm.stateDictionary()
        tensors["extra"] = Tensor.zeros([1])
        #expect(throws: CheckpointError.unexpectedTensor(name: "extra")) {
            try lstm.loadStateDictionary(tensors)
        }
        tensors = lstm.stateDictionary()
        tensors["bias_ih_l0"]?[at: 0] = .nan
        #expect(throws: CheckpointError.notFinite(name: "bias_ih_l0")) {
            try lstm.loadStateDictionary(tensors)
        }
    }

    @Test("a missing or corrupt sidecar is reported")
    func badSidecar() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: CheckpointError.fileNotFound(path: dir)) {
            try CheckpointDirectory.readSidecar(Config.self, directory: dir)
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(throws: CheckpointError.fileNotFound(path: dir + "/checkpoint.json")) {
            try CheckpointDirectory.readSidecar(Config.self, directory: dir)
        }
        FileManager.default.createFile(
            atPath: dir + "/checkpoint.json", contents: Data("{not json".utf8))
        #expect(throws: CheckpointError.self) {
            try CheckpointDirectory.readSidecar(Config.self, directory: dir)
        }
        // A hand-edited field of the wrong type, or a missing one, is named.
        let path = dir + "/checkpoint.json"
        var sidecar = CheckpointSidecar(
            kind: "test", config: Config(hidden: 4), step: 1, rngState: [1, 2, 3, 4])
        sidecar.modelFile = "model.safetensors"
        let good = String(decoding: try JSONEncoder().encode(sidecar), as: UTF8.self)
        for (edit, field) in [
            (good.replacingOccurrences(of: "\"hidden\":4", with: "\"hidden\":\"abc\""), "hidden"),
            (good.replacingOccurrences(of: "\"hidden\":4", with: "\"width\":4"), "hidden"),
            (good.replacingOccurrences(of: "\"step\":1", with: "\"step\":\"x\""), "step"),
        ] {
            #expect(edit != good)
            FileManager.default.createFile(atPath: path, contents: Data(edit.utf8))
            do {
                _ = try CheckpointDirectory.readSidecar(Config.self, directory: dir)
                Issue.record("\(edit) was accepted")
            } catch let error as CheckpointError {
                #expect("\(error)".contains("invalid \(field):"), "\(error)")
            }
        }
    }
}

enum SafeTensorsFixtures {
    static func header(_ json: String, data: Int) -> [UInt8] {
        var h = Array(json.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        var n = UInt64(h.count)
        for _ in 0..<8 {
            out.append(UInt8(n & 0xFF))
            n >>= 8
        }
        return out + h + Array(repeating: 0, count: data)
    }
}
