import Foundation
import RecurCharLM
import RecurNN
import RecurTensor
import RecurTestSupport
import RecurText
import Testing

/// A small text with learnable structure: repeated sentences from a tiny grammar.
func syntheticText(sentences: Int, seed: UInt64) -> String {
    var rng = Xoshiro256(seed: seed)
    let subjects = ["the cat", "a dog", "my friend", "the old man", "two birds"]
    let verbs = ["sees", "likes", "finds", "follows", "paints"]
    let objects = ["the river.", "a red ball.", "the moon.", "some bread.", "the garden."]
    var lines: [String] = []
    for _ in 0..<sentences {
        let s = subjects[rng.nextInt(below: subjects.count)]
        lines.append(
            s.prefix(1).uppercased() + s.dropFirst() + " " + verbs[rng.nextInt(below: verbs.count)]
                + " " + objects[rng.nextInt(below: objects.count)])
    }
    return lines.joined(separator: "\n") + "\n"
}

func temporaryDirectory(_ name: String = "run") -> String {
    NSTemporaryDirectory() + "recur-charlm-\(name)-\(UUID().uuidString)"
}

func smallConfig(steps: Int) -> CharLMTrainingConfig {
    var c = CharLMTrainingConfig()
    c.batchSize = 8
    c.sequenceLength = 16
    c.steps = steps
    c.learningRate = 3e-3
    c.evaluateEvery = 0
    c.checkpointEvery = 0
    c.logEvery = 10
    c.validationFraction = 0.1
    c.seed = 5
    return c
}

func makeModel(_ cell: CharLMCell, vocabulary: Int, seed: UInt64 = 5) -> CharLanguageModel {
    var rng = Xoshiro256(seed: seed)
    let architecture = CharLMArchitecture(
        cell: cell, vocabularySize: vocabulary, embeddingSize: 8,
        hiddenSize: cell == .tcn ? 16 : 24,
        layers: 2, dropout: 0.1, kernelSize: 2)
    return CharLanguageModel(architecture: architecture, rng: &rng)
}

@Suite("Character language models")
struct CharLMTests {
    static let corpus = CharCorpus(
        text: Array(syntheticText(sentences: 400, seed: 1).utf8), unit: .grapheme,
        validationFraction: 0.1)

    @Test(
        "resume is exact: 200 steps equal 100 + resume + 100",
        arguments: [CharLMCell.lstm, .gru, .tcn])
    func exactResume(cell: CharLMCell) throws {
        let corpus = Self.corpus
        let straightDirectory = temporaryDirectory("straight")
        let splitDirectory = temporaryDirectory("split")
        defer {
            try? FileManager.default.removeItem(atPath: straightDirectory)
            try? FileManager.default.removeItem(atPath: splitDirectory)
        }
        let straight = makeModel(cell, vocabulary: corpus.vocabulary.count)
        _ = try CharLMTrainer(
            model: straight, corpus: corpus, config: smallConfig(steps: 200), unit: .grapheme,
            outputDirectory: straightDirectory, dataPath: "memory"
        ).run()

        let first = makeModel(cell, vocabulary: corpus.vocabulary.count)
        _ = try CharLMTrainer(
            model: first, corpus: corpus, config: smallConfig(steps: 100), unit: .grapheme,
            outputDirectory: splitDirectory, dataPath: "memory"
        ).run()
        let loaded = try CharLMStore.load(directory: splitDirectory)
        let resumed = try #require(loaded.resume)
        #expect(resumed.progress.step == 100)
        loaded.model.train()
        _ = try CharLMTrainer(
            model: loaded.model, corpus: corpus, config: smallConfig(steps: 200), unit: .grapheme,
            outputDirectory: splitDirectory, dataPath: "memory", resume: resumed
        ).run()
        for ((name, a), (_, b)) in zip(straight.parameters(), loaded.model.parameters()) {
            #expect(a.value.isBitIdentical(to: b.value), "\(cell) \(name) differs after resume")
        }
    }

    @Test("early stopping ends the run after --patience validations without a better bpc")
    func earlyStopping() throws {
        let corpus = Self.corpus
        let directory = temporaryDirectory("patience")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = smallConfig(steps: 100)
        // A learning rate far below Float32's resolution of most weights: validation bpc moves
        // in its last digits at most, so it soon stops improving.
        config.learningRate = 1e-20
        config.evaluateEvery = 10
        config.patience = 2
        let summary = try CharLMTrainer(
            model: makeModel(.lstm, vocabulary: corpus.vocabulary.count), corpus: corpus,
            config: config, unit: .grapheme,
            outputDirectory: directory, dataPath: "memory"
        ).run()
        #expect(summary.stoppedEarly && summary.steps < 100)
        // It stops at the second validation after the best one, and the best is in best/.
        let progress = try #require(try CharLMStore.load(directory: directory).resume).progress
        let best = try #require(progress.bestStep)
        #expect(summary.steps - best == 20, "best at \(best), stopped at \(summary.steps)")
        #expect(progress.bestValidationBPC == summary.bestValidationBPC)
        // Without patience the same run goes the whole way.
        config.patience = nil
        try FileManager.default.removeItem(atPath: directory)
        let full = try CharLMTrainer(
            model: makeModel(.lstm, vocabulary: corpus.vocabulary.count), corpus: corpus,
            config: config, unit: .grapheme,
            outputDirectory: directory, dataPath: "memory"
        ).run()
        #expect(!full.stoppedEarly && full.steps == 100)
    }

    @Test(
        "training lowers validation bpc well below the unigram entropy",
        arguments: [CharLMCell.lstm, .gru, .rnn, .tcn])
    func learns(cell: CharLMCell) throws {
        let corpus = Self.corpus
        let directory = temporaryDirectory("learn")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = smallConfig(steps: 400)
        config.batchSize = 16
        config.sequenceLength = 32
        var rng = Xoshiro256(seed: 3)
        let model = CharLanguageModel(
            architecture: CharLMArchitecture(
                cell: cell, vocabularySize: corpus.vocabulary.count, embeddingSize: 16,
                hiddenSize: 64, layers: cell == .tcn ? 3 : 1,
                dropout: 0, kernelSize: 3), rng: &rng)
        let summary = try CharLMTrainer(
            model: model, corpus: corpus, config: config, unit: .grapheme,
            outputDirectory: directory, dataPath: "memory"
        ).run()
        // A unigram model of this text needs about 4 bits per character; the grammar makes most
        // characters predictable.
        let bpc = try #require(summary.validationBPC)
        #expect(bpc < 1.6, "\(cell): validation bpc \(bpc)")
        #expect(summary.trainLoss < 1.2)
    }

    @Test("same seed gives identical samples; another seed differs")
    func deterministicSampling() throws {
        let corpus = Self.corpus
        let directory = temporaryDirectory("sample")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = makeModel(.lstm, vocabulary: corpus.vocabulary.count)
        _ = try CharLMTrainer(
            model: model, corpus: corpus, config: smallConfig(steps: 50), unit: .grapheme,
            outputDirectory: directory,
            dataPath: "memory"
        ).run()
        func sample(
            seed: UInt64,
            _ options: SamplingOptions = SamplingOptions(temperature: 0.9, topK: 10, topP: 0.95)
        ) throws -> [UInt8] {
            let loaded = try CharLMStore.load(directory: directory)
            let sampler = CharLMSampler(model: loaded.model, vocabulary: loaded.config.vocabulary)
            var rng = Xoshiro256(seed: seed)
            var out: [UInt8] = []
            sampler.generate(length: 200, prime: "The cat", options: options, rng: &rng) {
                out += $0
            }
            return out
        }
        #expect(try sample(seed: 1) == sample(seed: 1))
        #expect(try sample(seed: 1) != sample(seed: 2))
        #expect(
            try sample(seed: 1, SamplingOptions(argmax: true))
                == sample(seed: 9, SamplingOptions(argmax: true)))
    }

    @Test("top-k 1 and argmax agree; top-p keeps the nucleus")
    func samplingFilters() {
        var rng = Xoshiro256(seed: 1)
        let logits = Tensor([0, 3, 1, 2.5])
        for _ in 0..<20 {
            #expect(CharLMSampler.choose(logits, options: SamplingOptions(topK: 1), rng: &rng) == 1)
            let p = CharLMSampler.choose(logits, options: SamplingOptions(topP: 0.6), rng: &rng)
            #expect(p == 1 || p == 3)
        }
        #expect(
            CharLMSampler.choose(logits, options: SamplingOptions(argmax: true), rng: &rng) == 1)
        #expect(
            CharLMSampler.choose(
                Tensor([5, 1]), options: SamplingOptions(argmax: true), excluding: 0, rng: &rng)
                == 1)
    }

    @Test("a checkpoint round-trips weights and configuration")
    func checkpoint() throws {
        let corpus = Self.corpus
        let directory = temporaryDirectory("ckpt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = makeModel(.gru, vocabulary: corpus.vocabulary.count)
        _ = try CharLMTrainer(
            model: model, corpus: corpus, config: smallConfig(steps: 20), unit: .grapheme,
            outputDirectory: directory,
            dataPath: "memory"
        ).run()
        let loaded = try CharLMStore.load(directory: directory)
        #expect(loaded.config.vocabulary == corpus.vocabulary)
        #expect(loaded.config.architecture == model.architecture)
        for ((_, a), (_, b)) in zip(model.parameters(), loaded.model.parameters()) {
            #expect(a.value.isBitIdentical(to: b.value))
        }
        // The best model is kept next to the latest checkpoint.
        let best = try CharLMStore.load(directory: directory + "/best")
        #expect(best.resume == nil)
        let bpc = model.evaluate(ids: corpus.validationIDs).bitsPerSymbol
        #expect(abs(best.model.evaluate(ids: corpus.validationIDs).bitsPerSymbol - bpc) < 1e-9)
    }

    @Test(
        "evaluation in parallel streams scores every symbol once and matches one stream",
        arguments: [CharLMCell.lstm, .gru])
    func streamedEvaluation(cell: CharLMCell) throws {
        let corpus = Self.corpus
        let directory = temporaryDirectory("streams")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = makeModel(cell, vocabulary: corpus.vocabulary.count)
        _ = try CharLMTrainer(
            model: model, corpus: corpus, config: smallConfig(steps: 60), unit: .grapheme,
            outputDirectory: directory, dataPath: "memory"
        ).run()
        let ids = corpus.trainIDs
        let n = ids.count - 1
        let one = model.evaluate(ids: ids, chunk: 97, streams: 1)
        #expect(one.count == n)
        // Without burn-in, s streams are the s pieces scored one by one.
        let s = 5
        let l = (n + s - 1) / s
        var pieces = 0.0
        for k in 0..<s {
            let piece = Array(ids[(k * l)...min((k + 1) * l, n)])
            pieces += model.evaluate(ids: piece, chunk: 97, streams: 1).nats
        }
        let split = model.evaluate(ids: ids, chunk: 97, streams: s, burnIn: 0)
        #expect(split.count == n)
        #expect(abs(split.nats - pieces) <= 1e-4 * pieces)
        // With burn-in every symbol is still scored once, with (nearly) one stream's context.
        for (streams, burnIn) in [(3, 50), (7, 200), (nil, 64), (4, 0)] {
            let r = model.evaluate(ids: ids, chunk: 97, streams: streams, burnIn: burnIn)
            #expect(r.count == n)
            if burnIn >= 50 { #expect(abs(r.bitsPerSymbol - one.bitsPerSymbol) < 2e-3) }
        }
        #expect(model.evaluate(ids: Array(ids[0..<2]), streams: 8).count == 1)
    }

    @Test("Unicode text in every unit: Russian, Chinese, emoji")
    func unicode() throws {
        let text = String(repeating: "Привет, мир! 你好，世界。🙂👍🏽 e\u{301}\n", count: 60)
        for unit in TextUnit.allCases {
            let corpus = CharCorpus(text: Array(text.utf8), unit: unit, validationFraction: 0.1)
            let model = makeModel(.lstm, vocabulary: corpus.vocabulary.count)
            let directory = temporaryDirectory("unicode")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var config = smallConfig(steps: 30)
            config.batchSize = 4
            _ = try CharLMTrainer(
                model: model, corpus: corpus, config: config, unit: unit,
                outputDirectory: directory, dataPath: "memory"
            ).run()
            let loaded = try CharLMStore.load(directory: directory)
            var rng = Xoshiro256(seed: 1)
            var out: [UInt8] = []
            CharLMSampler(model: loaded.model, vocabulary: loaded.config.vocabulary).generate(
                length: 50, prime: "Привет", options: SamplingOptions(), rng: &rng
            ) { out += $0 }
            if unit != .byte {
                #expect(
                    String(validating: out, as: UTF8.self) != nil, "\(unit): invalid UTF-8 sample")
            }
        }
        let graphemes = CharCorpus(text: Array(text.utf8), unit: .grapheme, validationFraction: 0)
        #expect(graphemes.vocabulary.id(of: Array("👍🏽".utf8)) != nil)
        #expect(graphemes.vocabulary.id(of: Array("é".utf8)) != nil)  // NFC composed
    }

    @Test("evaluation counts symbols unseen in training as unknown")
    func unknownSymbols() {
        let vocabulary = CharVocabulary(text: Array("abc".utf8), unit: .grapheme)
        let corpus = CharCorpus(
            text: Array("abxcy".utf8), unit: .grapheme, validationFraction: 0,
            vocabulary: vocabulary)
        #expect(corpus.unknownSymbols == 2)
    }

    @Test("text shorter than one batch window is refused")
    func tooShort() {
        let corpus = CharCorpus(
            text: Array("short text".utf8), unit: .grapheme, validationFraction: 0)
        let model = makeModel(.lstm, vocabulary: corpus.vocabulary.count)
        #expect(throws: CharLMTrainingError.self) {
            _ = try CharLMTrainer(
                model: model, corpus: corpus, config: smallConfig(steps: 10), unit: .grapheme,
                outputDirectory: temporaryDirectory(), dataPath: "memory")
        }
    }
}

@Suite("Character language model training step")
struct CharLMTrainingStepTests {
    /// The fused training step (embedding, recurrent stack, inter-layer and output dropout,
    /// decoder, loss) against central differences of its own loss, with the dropout masks held
    /// fixed by reseeding the generator for every evaluation.
    @Test(
        "training-step gradients match finite differences with output dropout and weight drop",
        arguments: [CharLMCell.lstm, .gru])
    func trainingStepGradient(cell: CharLMCell) {
        var rng = Xoshiro256(seed: 11)
        let architecture = CharLMArchitecture(
            cell: cell, vocabularySize: 7, embeddingSize: 5, hiddenSize: 6, layers: 2, dropout: 0.3,
            outputDropout: 0.5,
            weightDrop: 0.4)
        let model = CharLanguageModel(architecture: architecture, rng: &rng)
        let (t, b) = (4, 3)
        let inputs = (0..<(t * b)).map { Int32(($0 * 5 + 1) % 7) }
        let targets = (0..<(t * b)).map { Int32(($0 * 3 + 2) % 7) }
        func loss() -> Double {
            var masks = Xoshiro256(seed: 99)
            return model.trainingStep(
                inputs: inputs, targets: targets, timeSteps: t, batch: b, state: nil, rng: &masks
            ).loss
        }
        var parameters: [(String, Parameter)] = []
        model.visitParameters(prefix: "") { parameters.append(($0, $1)) }
        for (_, p) in parameters { p.zeroGradient() }
        #expect(loss().isFinite)
        let analytic: [[Float]] = parameters.map { $0.1.gradient.scalars }
        let eps: Float = 1e-2
        var worst = 0.0
        for (index, (_, p)) in parameters.enumerated() {
            let count = p.value.count
            for i in stride(from: 0, to: count, by: max(1, count / 5)) {
                let saved = p.value.scalars[i]
                p.value.unsafeMutableBase()[i] = saved + eps
                let up = loss()
                p.value.unsafeMutableBase()[i] = saved - eps
                let down = loss()
                p.value.unsafeMutableBase()[i] = saved
                let numeric = (up - down) / Double(2 * eps)
                let error =
                    abs(numeric - Double(analytic[index][i]))
                    / max(1e-2, abs(numeric) + abs(Double(analytic[index][i])))
                worst = max(worst, error)
            }
        }
        #expect(worst < 2e-2, "worst relative error \(worst)")
    }

    /// A regularizer that changes a training step, leaves the weights as they were (no update
    /// was taken) and leaves evaluation alone.
    struct Regularizer: Sendable, CustomStringConvertible {
        var name: String
        var cell: CharLMCell
        var layers: Int
        var outputDropout: Float?
        var weightDrop: Float?
        var description: String { name }
    }

    @Test(
        "a regularizer changes training, puts the weights back, and leaves evaluation alone",
        arguments: [
            Regularizer(name: "output dropout", cell: .lstm, layers: 1, outputDropout: 0.5),
            Regularizer(name: "weight drop", cell: .gru, layers: 2, weightDrop: 0.5),
        ])
    func regularizerIsTrainingOnly(_ r: Regularizer) {
        func build(_ on: Bool) -> CharLanguageModel {
            var rng = Xoshiro256(seed: 3)
            return CharLanguageModel(
                architecture: CharLMArchitecture(
                    cell: r.cell, vocabularySize: 7, embeddingSize: 5, hiddenSize: 6,
                    layers: r.layers, dropout: 0, outputDropout: on ? r.outputDropout : nil,
                    weightDrop: on ? r.weightDrop : nil),
                rng: &rng)
        }
        let (with, without) = (build(true), build(false))
        let before = with.parameters().map(\.parameter.value.scalars)
        let ids: [Int32] = (0..<40).map { Int32($0 % 7) }
        let inputs = Array(ids[0..<12]), targets = Array(ids[1..<13])
        var r1 = Xoshiro256(seed: 1), r2 = Xoshiro256(seed: 1)
        let l1 = with.trainingStep(
            inputs: inputs, targets: targets, timeSteps: 4, batch: 3, state: nil, rng: &r1
        ).loss
        let l2 = without.trainingStep(
            inputs: inputs, targets: targets, timeSteps: 4, batch: 3, state: nil, rng: &r2
        ).loss
        #expect(l1 != l2)
        #expect(with.parameters().map(\.parameter.value.scalars) == before)
        #expect(with.evaluate(ids: ids).nats == without.evaluate(ids: ids).nats)
    }
}
