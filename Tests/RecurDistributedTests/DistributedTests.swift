import Foundation
import RecurCharLM
import RecurDistributed
import RecurNN
import RecurSeq2Seq
import RecurTensor
import RecurText
import Testing

// These tests need two processes of one MPI job; `Scripts/mpi-check.sh` runs them with
// `mpirun -np 2 … --filter RecurDistributedTests`. In a plain `swift test` they are skipped.

/// The MPI job this test process belongs to (nil unless started by mpirun with two ranks).
enum World {
    nonisolated(unsafe) static let group: MPIProcessGroup? = {
        let size = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap { Int($0) }
        guard size == 2, let group = try? MPIProcessGroup.start() else { return nil }
        atexit { MPIProcessGroup.finish() }
        return group
    }()
    static var isRunning: Bool { group != nil }
}

/// Text with learnable structure.
func plantedText(sentences: Int) -> String {
    var rng = Xoshiro256(seed: 4)
    let subjects = ["the cat", "a dog", "my friend", "the old man", "two birds"]
    let verbs = ["sees", "likes", "finds", "follows", "paints"]
    let objects = ["the river.", "a red ball.", "the moon.", "some bread.", "the garden."]
    return (0..<sentences).map { _ in
        [subjects, verbs, objects].map { $0[rng.nextInt(below: $0.count)] }.joined(separator: " ")
    }.joined(separator: "\n") + "\n"
}

/// Every parameter's gradient, in order.
func gradients(_ parameters: [Parameter]) -> [Float] { parameters.flatMap(\.gradient.scalars) }

/// Rank 0's `values` on every process, and whether this process's are the same.
func sameOnEveryRank(_ values: [Float], _ group: any ProcessGroup) -> Bool {
    var root = values
    root.withUnsafeMutableBufferPointer { group.broadcast($0, root: 0) }
    return !group.any(root != values)
}

/// The largest difference, and the bound the issue sets: 1e-5 · max(1, max |g|).
func expectClose(_ a: [Float], _ b: [Float], _ what: String) {
    #expect(a.count == b.count)
    let scale = max(1, b.map(abs).max() ?? 0)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= 1e-5 * scale, "\(what): max |Δ| \(worst), max |g| \(scale)")
}

@Suite("data parallelism over MPI (2 ranks)", .serialized, .enabled(if: World.isRunning))
struct DistributedTests {
    // swift-format-ignore: NeverForceUnwrap
    var group: MPIProcessGroup { World.group! }

    static let corpus = CharCorpus(
        text: Array(plantedText(sentences: 600).utf8), unit: .grapheme, validationFraction: 0.1)

    static func model(_ cell: CharLMCell) -> CharLanguageModel {
        var rng = Xoshiro256(seed: 9)
        return CharLanguageModel(
            architecture: CharLMArchitecture(
                cell: cell, vocabularySize: corpus.vocabulary.count, embeddingSize: 8,
                hiddenSize: 24, layers: 2, dropout: 0, kernelSize: 2),
            rng: &rng)
    }

    @Test(
        "2 ranks × B/2 give 1 process × B's gradients",
        arguments: [CharLMCell.lstm, .gru, .rnn, .tcn])
    func charLMGradients(cell: CharLMCell) {
        let (t, b) = (12, 8)
        let ids = Self.corpus.trainIDs
        // A time-major window of B rows at spread-out positions.
        var inputs = [Int32](repeating: 0, count: t * b)
        var targets = inputs
        for row in 0..<b {
            for k in 0..<t {
                inputs[k * b + row] = ids[row * 300 + k]
                targets[k * b + row] = ids[row * 300 + k + 1]
            }
        }
        var rng = Xoshiro256(seed: 1)
        let whole = Self.model(cell)
        let parameters = whole.parameters().map(\.parameter)
        whole.zeroGradients()
        _ = whole.trainingStep(
            inputs: inputs, targets: targets, timeSteps: t, batch: b, state: nil, rng: &rng)
        let expected = gradients(parameters)

        let shared = Self.model(cell)
        let rows = group.share(of: b)
        func own(_ window: [Int32]) -> [Int32] {
            (0..<t).flatMap { k in window[(k * b + rows.lowerBound)..<(k * b + rows.upperBound)] }
        }
        shared.zeroGradients()
        _ = shared.trainingStep(
            inputs: own(inputs), targets: own(targets), timeSteps: t, batch: rows.count,
            state: nil, rng: &rng)
        var buffer: [Float] = []
        _ = group.averageGradients(
            shared.parameters().map(\.parameter), loss: 0, items: rows.count * t,
            weight: Double(rows.count * t), buffer: &buffer)
        let averaged = gradients(shared.parameters().map(\.parameter))
        expectClose(averaged, expected, "\(cell)")
        #expect(sameOnEveryRank(averaged, group))
    }

    @Test("replicas stay identical after every update (Adam, clipping)")
    func replicasAfterEveryStep() throws {
        let (t, b) = (10, 8)
        let model = Self.model(.lstm)
        let parameters = model.parameters().map(\.parameter)
        let optimizer = Adam(parameters: model.parameters(), learningRate: 0.01)
        let loop = TrainingLoop(
            optimizer: optimizer, learningRate: 0.01, clip: 0.5, totalSteps: 5, group: group,
            directory: "unused")
        let rows = group.share(of: b)
        let ids = Self.corpus.trainIDs
        var rng = Xoshiro256(seed: 2)
        for step in 0..<5 {
            var inputs = [Int32]()
            var targets = [Int32]()
            for k in 0..<t {
                for row in rows {
                    let p = step * t + row * 500 + k
                    inputs.append(ids[p])
                    targets.append(ids[p + 1])
                }
            }
            _ = try loop.update(learningRate: 0.01) {
                model.zeroGradients()
                let loss = model.trainingStep(
                    inputs: inputs, targets: targets, timeSteps: t, batch: rows.count, state: nil,
                    rng: &rng
                ).loss
                return (loss, rows.count * t)
            }
            #expect(sameOnEveryRank(parameters.flatMap(\.value.scalars), group), "step \(step + 1)")
        }
    }

    @Test("seq2seq shards of unequal token counts: gradients weighted by tokens equal 1 process")
    func seq2seqGradients() {
        var a = Seq2SeqArchitecture()
        a.cell = .lstm
        a.attention = .general
        a.bidirectional = true
        a.sourceVocabularySize = 12
        a.targetVocabularySize = 11
        a.embeddingSize = 6
        a.hiddenSize = 8
        // Rank 0's two pairs have 2 and 1 target tokens, rank 1's have 6 and 5.
        let sources: [[Int32]] = [[4, 5, 6], [7, 8], [9, 4, 5, 6, 7], [10, 11, 4]]
        let targets: [[Int32]] = [[4, 5], [6], [7, 8, 9, 10, 4, 5], [6, 7, 8, 9, 10]]
        func run(_ indices: [Int]) -> (model: Seq2SeqModel, loss: Double, tokens: Double) {
            var rng = Xoshiro256(seed: 3)
            let model = Seq2SeqModel(architecture: a, rng: &rng)
            let batch = TranslationBatch(
                sources: indices.map { sources[$0] }, targets: indices.map { targets[$0] },
                indices: Array(0..<indices.count))
            let tape = Tape()
            var context = ForwardContext.training(tape: tape, generator: rng)
            model.zeroGradients()
            let loss = model.loss(batch, context: &context)
            tape.backward(from: loss)
            let tokens = batch.targetOutput.filter { $0 != TranslationVocabulary.pad }.count
            return (model, Double(loss.value.scalar), Double(tokens))
        }
        let whole = run([0, 1, 2, 3])
        let expected = gradients(whole.model.parameters().map(\.parameter))
        let share = run(Array(group.share(of: 4)))
        let parameters = share.model.parameters().map(\.parameter)
        let local = gradients(parameters)
        var buffer: [Float] = []
        let agreed = group.averageGradients(
            parameters, loss: share.loss, items: 2, weight: share.tokens, buffer: &buffer)
        expectClose(gradients(parameters), expected, "seq2seq")
        #expect(abs(agreed.loss - whole.loss) <= 1e-5 * max(1, abs(whole.loss)))
        // A plain mean of the two shares' gradients is not the whole batch's gradient here.
        var plain = local
        plain.withUnsafeMutableBufferPointer { group.allReduceSum($0) }
        let plainMean = plain.map { $0 / 2 }
        let gap = zip(plainMean, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(gap > 1e-3, "the token counts were meant to differ (plain mean gap \(gap))")
    }

    /// A directory every rank can name (rank 0's choice, broadcast).
    func sharedDirectory(_ name: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 256)
        if group.isRoot {
            let path = NSTemporaryDirectory() + "recur-mpi-\(name)-\(UUID().uuidString)"
            for (i, byte) in path.utf8.enumerated() { bytes[i] = byte }
        }
        bytes.withUnsafeMutableBytes { group.broadcast($0, root: 0) }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Removes a shared directory once every rank is done with it.
    func removeShared(_ directory: String) {
        _ = group.any(false)  // a barrier: the other rank may still be writing there
        if group.isRoot { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func config(steps: Int) -> CharLMTrainingConfig {
        var c = CharLMTrainingConfig()
        c.batchSize = 8
        c.sequenceLength = 16
        c.steps = steps
        c.evaluateEvery = 0
        c.checkpointEvery = 0
        c.logEvery = 1
        c.seed = 5
        return c
    }

    @Test(
        "20 steps on 2 ranks end at 1 process's validation bpc; replicas stay identical",
        arguments: [CharLMCell.lstm, .gru, .rnn, .tcn])
    func charLMTraining(cell: CharLMCell) throws {
        let directory = sharedDirectory("train")
        defer { removeShared(directory) }
        let distributed = Self.model(cell)
        let summary = try CharLMTrainer(
            model: distributed, corpus: Self.corpus, config: Self.config(steps: 20),
            unit: .grapheme, outputDirectory: directory + "/two", dataPath: "memory",
            group: group
        ).run()
        #expect(sameOnEveryRank(distributed.parameters().flatMap(\.parameter.value.scalars), group))
        let single = try CharLMTrainer(
            model: Self.model(cell), corpus: Self.corpus, config: Self.config(steps: 20),
            unit: .grapheme, outputDirectory: directory + "/one-\(group.rank)", dataPath: "memory"
        ).run()
        let (two, one) = (try #require(summary.validationBPC), try #require(single.validationBPC))
        #expect(abs(two - one) <= 1e-4 * one, "\(cell): 2 ranks \(two), 1 process \(one)")
        if group.isRoot {
            // One metrics file, each step once.
            let lines = try String(
                contentsOfFile: directory + "/two/metrics.jsonl", encoding: .utf8
            )
            .split(separator: "\n").filter { $0.contains("\"loss\"") }
            #expect(lines.count == 20)
        }
    }

    @Test("2 ranks: 10 + 10 steps = 20 steps; a 2-rank checkpoint resumes in 1 process")
    func resume() throws {
        let directory = sharedDirectory("resume")
        defer { removeShared(directory) }
        func train(_ steps: Int, _ out: String, from: String? = nil, group: any ProcessGroup)
            throws -> CharLMSummary
        {
            let loaded = try from.map { try CharLMStore.load(directory: $0) }
            let model = loaded?.model ?? Self.model(.lstm)
            return try CharLMTrainer(
                model: model, corpus: Self.corpus, config: Self.config(steps: steps),
                unit: .grapheme, outputDirectory: out, dataPath: "memory", resume: loaded?.resume,
                group: group
            ).run()
        }
        let straight = try train(20, directory + "/straight", group: group)
        _ = try train(10, directory + "/split", group: group)
        if group.isRoot {
            // Rank 0 alone continues the 2-rank checkpoint, as one process.
            let alone = try train(
                20, directory + "/alone", from: directory + "/split", group: SingleProcess())
            let (a, c) = (try #require(straight.validationBPC), try #require(alone.validationBPC))
            #expect(abs(c - a) <= 1e-4 * a, "resumed in 1 process \(c), 2 ranks \(a)")
        }
        let resumed = try train(20, directory + "/split", from: directory + "/split", group: group)
        let (a, b) = (try #require(straight.validationBPC), try #require(resumed.validationBPC))
        #expect(a == b, "20 steps \(a), 10 + 10 steps \(b)")
    }

    @Test("a global batch the ranks cannot split evenly is refused on every rank")
    func indivisibleBatch() {
        var config = Self.config(steps: 2)
        config.batchSize = 7
        expectAgreedFailure {
            try CharLMTrainer(
                model: Self.model(.gru), corpus: Self.corpus, config: config, unit: .grapheme,
                outputDirectory: "unused", dataPath: "memory", group: group)
        }
    }

    @Test("ranks with different data are told so (checksum), on every rank")
    func disagreement() {
        let text = plantedText(sentences: 600) + (group.rank == 1 ? "one more line\n" : "")
        let corpus = CharCorpus(text: Array(text.utf8), unit: .grapheme, validationFraction: 0.1)
        var rng = Xoshiro256(seed: 9)
        let model = CharLanguageModel(
            architecture: CharLMArchitecture(
                cell: .gru, vocabularySize: Self.corpus.vocabulary.count, embeddingSize: 8,
                hiddenSize: 8, layers: 1, dropout: 0, kernelSize: 2),
            rng: &rng)
        expectAgreedFailure {
            try CharLMTrainer(
                model: model, corpus: corpus, config: Self.config(steps: 2), unit: .grapheme,
                outputDirectory: "unused", dataPath: "memory", group: group)
        }
    }

    /// Rank 0 gets the error to report; the others stop without a second message.
    func expectAgreedFailure(_ body: () throws -> CharLMTrainer) {
        do {
            _ = try body()
            Issue.record("accepted")
        } catch {
            #expect(group.isRoot ? error is DataParallelError : error is RootProcessFailed)
        }
    }
}
