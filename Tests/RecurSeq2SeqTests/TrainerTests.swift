import Foundation
import RecurNN
import RecurSeq2Seq
import RecurTensor
import RecurText
import RecurWord2Vec
import Testing

/// The first `count` pairs of the generated corpus, as a temporary file.
func generatedPairs(_ count: Int) throws -> String {
    let text = try String(
        contentsOfFile: repositoryRoot + "/corpora/translation.tsv", encoding: .utf8)
    return temporaryFile(text.split(separator: "\n").prefix(count).map { $0 + "\n" }.joined())
}

func makeTrainer(
    pairs path: String, config: Seq2SeqTrainingConfig,
    architecture adjust: (inout Seq2SeqArchitecture) -> Void = { _ in },
    out: String, resume: Seq2SeqStore.Loaded? = nil
) throws -> Seq2SeqTrainer {
    let corpus = try ParallelCorpus.load(
        path: path, tokenizer: WordTokenizer(config.tokenization), maxLength: config.maxLength)
    let data = Seq2SeqData(
        corpus: corpus, config: config,
        vocabularies: resume.map { ($0.config.sourceVocabulary, $0.config.targetVocabulary) })
    let model: Seq2SeqModel
    if let resume {
        model = resume.model
    } else {
        var a = Seq2SeqArchitecture()
        a.sourceVocabularySize = data.sourceVocabulary.count
        a.targetVocabularySize = data.targetVocabulary.count
        a.embeddingSize = 64
        a.hiddenSize = 128
        adjust(&a)
        var rng = Xoshiro256(seed: config.seed)
        model = Seq2SeqModel(architecture: a, rng: &rng)
    }
    return try Seq2SeqTrainer(
        model: model, data: data, config: config, outputDirectory: out, dataPath: path,
        dataPairs: corpus.pairs.count, resume: resume?.resume)
}

func weights(_ model: Seq2SeqModel) -> [String: [Float]] {
    model.stateDictionary().mapValues(\.scalars)
}

@Suite("Seq2seq training", .serialized)
struct TrainerTests {
    @Test(
        "learns the generated English→French corpus: held-out BLEU ≥ 90 with beam 5, beam ≥ greedy")
    func learnsGeneratedCorpus() throws {
        var config = Seq2SeqTrainingConfig()
        config.epochs = 8
        config.batchSize = 32
        config.learningRate = 2e-3
        config.validationFraction = 0.05
        config.seed = 1
        let out = temporaryPath("learn")
        let trainer = try makeTrainer(pairs: try generatedPairs(10000), config: config, out: out)
        let summary = try trainer.run()
        #expect(summary.epochs == 8)
        // Held out: the corpus's separate test file, never seen in training.
        let test = try ParallelCorpus.load(
            path: repositoryRoot + "/corpora/translation-test.tsv",
            tokenizer: WordTokenizer(.unicode))
        let pairs = Array(test.pairs.prefix(500))
        let best = try Seq2SeqStore.load(directory: out + "/best").model
        let d = trainer.data
        let greedy = TranslationEvaluation.score(
            model: best, pairs: pairs, source: d.sourceVocabulary, target: d.targetVocabulary,
            options: DecodingOptions())
        let beam = TranslationEvaluation.score(
            model: best, pairs: pairs, source: d.sourceVocabulary, target: d.targetVocabulary,
            options: DecodingOptions(beam: 5))
        print("held-out BLEU: beam \(beam.bleu.score), greedy \(greedy.bleu.score)")
        #expect(beam.bleu.score >= 90, "beam BLEU \(beam.bleu.score), greedy \(greedy.bleu.score)")
        #expect(
            beam.bleu.score >= greedy.bleu.score,
            "beam \(beam.bleu.score) < greedy \(greedy.bleu.score)")
        // The metrics log has a line per logged step and one per epoch's validation.
        let log = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
        #expect(log.split(separator: "\n").filter { $0.contains("val_bleu") }.count == 8)
    }

    @Test("same seed → same weights and translations; another seed differs")
    func determinism() throws {
        var config = Seq2SeqTrainingConfig()
        config.epochs = 1
        config.seed = 4
        config.teacherForcing = 0.7
        let path = try generatedPairs(800)
        func run(_ seed: UInt64) throws -> ([String: [Float]], [String]) {
            var c = config
            c.seed = seed
            let trainer = try makeTrainer(
                pairs: path, config: c,
                architecture: {
                    $0.dropout = 0.1; $0.hiddenSize = 48; $0.embeddingSize = 32
                }, out: temporaryPath("det"))
            _ = try trainer.run()
            trainer.model.eval()
            let d = trainer.data
            let scores = TranslationEvaluation.score(
                model: trainer.model, pairs: d.validation, source: d.sourceVocabulary,
                target: d.targetVocabulary, options: DecodingOptions(beam: 3))
            return (weights(trainer.model), scores.hypotheses)
        }
        let a = try run(4)
        let b = try run(4)
        let c = try run(5)
        #expect(a.0 == b.0)
        #expect(a.1 == b.1)
        #expect(a.0 != c.0)
    }

    @Test(
        "an interrupted run resumed from its checkpoint ends with the same weights as an uninterrupted one"
    )
    func exactResume() throws {
        var config = Seq2SeqTrainingConfig()
        config.epochs = 2
        config.seed = 9
        config.teacherForcing = 0.5
        let path = try generatedPairs(600)
        let shape: (inout Seq2SeqArchitecture) -> Void = {
            $0.dropout = 0.2; $0.hiddenSize = 32; $0.embeddingSize = 16; $0.cell = .lstm
        }
        let straight = try makeTrainer(
            pairs: path, config: config, architecture: shape, out: temporaryPath("straight"))
        _ = try straight.run()

        // Stop in the middle of the second epoch (after the first epoch's validation).
        let out = temporaryPath("resumed")
        let first = try makeTrainer(pairs: path, config: config, architecture: shape, out: out)
        let stopAt = first.batchesPerEpoch + 5
        var steps = 0
        let partial = try first.run(shouldStop: {
            steps += 1
            return steps > stopAt
        })
        #expect(partial.interrupted && partial.steps == stopAt)
        let loaded = try Seq2SeqStore.load(directory: out)
        #expect(loaded.resume?.progress.step == stopAt)
        let second = try makeTrainer(pairs: path, config: config, out: out, resume: loaded)
        let finished = try second.run()
        #expect(!finished.interrupted && finished.steps == straight.progress.step)
        #expect(weights(second.model) == weights(straight.model))
        #expect(second.progress.bestValidationBLEU == straight.progress.bestValidationBLEU)
    }

    @Test("word2vec vectors initialize the embeddings; a dimension mismatch is a clear error")
    func embeddingsFromVectors() throws {
        let vocabulary = TranslationVocabulary(
            sentences: [["le", "chat"], ["un", "chien"]], minCount: 1)
        var rng = Xoshiro256(seed: 1)
        let embedding = Embedding(vocabularySize: vocabulary.count, embeddingSize: 3, rng: &rng)
        let path = temporaryFile("2 3\nchat 1 2 3\nloup 4 5 6\n")
        let vectors = try KeyedVectors.load(path: path)
        #expect(
            try embedding.initialize(
                vocabulary: vocabulary, dimensions: vectors.dimensions, vector: vectors.vector) == 1
        )
        let row = Int(vocabulary.id(of: "chat")!)
        #expect(Array(embedding.weight.value.scalars[(row * 3)..<(row * 3 + 3)]) == [1, 2, 3])
        let wide = Embedding(vocabularySize: vocabulary.count, embeddingSize: 4, rng: &rng)
        #expect(throws: Seq2SeqTrainingError.self) {
            try wide.initialize(
                vocabulary: vocabulary, dimensions: vectors.dimensions, vector: vectors.vector)
        }
    }
}
