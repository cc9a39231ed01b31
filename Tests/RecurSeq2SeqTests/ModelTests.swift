import RecurBase
import RecurNN
import RecurSeq2Seq
import RecurTensor
import RecurTestSupport
import Testing

/// One architecture of the gradient checks.
struct ModelCase: CustomTestStringConvertible, Sendable {
    var cell: Seq2SeqCell
    var attention: AttentionKind
    var layers = 1
    var bidirectional = false
    var tied = false
    var dropout: Float = 0
    var testDescription: String {
        "\(cell) \(attention) L=\(layers) bi=\(bidirectional) tied=\(tied) p=\(dropout)"
    }

    func architecture(source: Int = 9, target: Int = 8, embed: Int = 5, hidden: Int = 6)
        -> Seq2SeqArchitecture
    {
        var a = Seq2SeqArchitecture()
        a.cell = cell
        a.attention = attention
        a.layers = layers
        a.bidirectional = bidirectional
        a.tiedEmbeddings = tied
        a.dropout = dropout
        a.sourceVocabularySize = source
        a.targetVocabularySize = target
        a.embeddingSize = tied ? hidden : embed
        a.hiddenSize = hidden
        return a
    }
}

/// A small batch with uneven source and target lengths.
func smallBatch() -> TranslationBatch {
    TranslationBatch(
        sources: [[4, 5, 6, 7, 8], [6, 4], [8, 7, 5]], targets: [[4, 5], [6, 7, 4, 5], [7]],
        indices: [0, 1, 2])
}

@Suite("Seq2seq model")
struct ModelTests {
    static let cases: [ModelCase] = [
        .init(cell: .gru, attention: .none),
        .init(cell: .gru, attention: .dot),
        .init(cell: .gru, attention: .general),
        .init(cell: .gru, attention: .additive),
        .init(cell: .lstm, attention: .general, layers: 2, bidirectional: true),
        .init(cell: .lstm, attention: .additive, tied: true),
        .init(
            cell: .gru, attention: .dot, layers: 2, bidirectional: true, tied: true, dropout: 0.2),
    ]

    @Test("the loss's gradient matches central differences for every parameter", arguments: cases)
    func gradients(c: ModelCase) {
        var rng = Xoshiro256(seed: 11)
        let model = Seq2SeqModel(architecture: c.architecture(), rng: &rng)
        let batch = smallBatch()
        let parameters = model.parameters().map(\.parameter)
        let report = GradientCheck.check(inputs: [], parameters: parameters, samples: 10) {
            tape, _ in
            // Seed 5: the same dropout masks on every evaluation.
            var context = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 5))
            return model.loss(batch, context: &context)
        }
        #expect(report.passed, "\(c): \(report)")
    }

    @Test("padding does not change a sentence's loss or translation")
    func paddingIsMasked() {
        for attention in AttentionKind.allCases {
            var rng = Xoshiro256(seed: 3)
            var a = ModelCase(cell: .gru, attention: attention, bidirectional: true).architecture()
            a.hiddenSize = 8
            let model = Seq2SeqModel(architecture: a, rng: &rng)
            model.eval()
            let tape = Tape()
            tape.isRecording = false
            var context = ForwardContext.inference(tape: tape)
            func loss(_ sources: [[Int32]], _ targets: [[Int32]]) -> Double {
                Double(
                    model.loss(
                        TranslationBatch(
                            sources: sources, targets: targets, indices: Array(sources.indices)),
                        context: &context
                    ).value.scalar)
            }
            // The batch loss is the token-weighted mean of the sentences' losses alone: padding
            // of the short source and the short target changes nothing.
            let short = loss([[6, 4]], [[6, 7]])
            let long = loss([[4, 5, 6, 7, 8, 4, 5]], [[6, 7, 4, 5, 5]])
            let both = loss([[6, 4], [4, 5, 6, 7, 8, 4, 5]], [[6, 7], [6, 7, 4, 5, 5]])
            #expect(
                abs(both - (3 * short + 6 * long) / 9) < 1e-5,
                "\(attention): \(both) vs \(short), \(long)")
            // Translations do not depend on the batch a sentence is decoded in.
            var options = DecodingOptions(beam: 3)
            options.maxLength = 6
            let together = model.translate([[6, 4], [4, 5, 6, 7, 8, 4, 5]], options: options)
            let single = model.translate([[6, 4]], options: options)
            #expect(together[0].first?.tokens == single[0].first?.tokens, "\(attention)")
            #expect(
                abs((together[0].first?.score ?? 0) - (single[0].first?.score ?? 1)) < 1e-4,
                "\(attention)")
        }
    }

    @Test("decoding options: n-best order, min and max length, n-gram blocking, length penalty")
    func decodingOptions() {
        var rng = Xoshiro256(seed: 8)
        let model = Seq2SeqModel(
            architecture: ModelCase(cell: .gru, attention: .general).architecture(target: 12),
            rng: &rng)
        model.eval()
        let sources: [[Int32]] = [[4, 5, 6], [7], [8, 8, 8, 4, 5, 6, 7]]

        var nBest = DecodingOptions(beam: 4, nBest: 4)
        nBest.maxLength = 8
        for hyps in model.translate(sources, options: nBest) {
            #expect(hyps.count == 4)
            #expect(zip(hyps, hyps.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(Set(hyps.map(\.tokens)).count == hyps.count, "n-best entries are distinct")
            for h in hyps {
                #expect(h.tokens.count <= 8)
                #expect(
                    h.score == h.logProbability, "no length penalty: score is the log-probability")
                #expect(h.logProbability <= 0)
                #expect(
                    !h.tokens.contains {
                        [
                            TranslationVocabulary.pad, TranslationVocabulary.start,
                            TranslationVocabulary.end,
                        ].contains($0)
                    })
            }
        }

        var minimum = DecodingOptions(beam: 3)
        minimum.minLength = 6
        minimum.maxLength = 9
        for hyps in model.translate(sources, options: minimum) {
            #expect(hyps[0].tokens.count >= 6)
        }

        var blocked = DecodingOptions(beam: 3)
        blocked.blockNgramRepeat = 2
        blocked.minLength = 8
        blocked.maxLength = 12
        for hyps in model.translate(sources, options: blocked) {
            let t = hyps[0].tokens
            let bigrams = zip(t, t.dropFirst()).map { "\($0) \($1)" }
            #expect(Set(bigrams).count == bigrams.count, "repeated bigram in \(t)")
        }

        var penalized = DecodingOptions(beam: 3)
        penalized.lengthPenalty = 0.8
        penalized.maxLength = 8
        for hyps in model.translate(sources, options: penalized) {
            let h = hyps[0]
            let expected = h.logProbability / Float.pow((5 + Float(h.tokens.count + 1)) / 6, 0.8)
            #expect(
                abs(h.score - expected) < 1e-4 * max(1, abs(expected)),
                "score \(h.score) vs \(expected)")
        }

        var attention = DecodingOptions(beam: 2)
        attention.recordAttention = true
        attention.maxLength = 5
        for (hyps, source) in zip(model.translate(sources, options: attention), sources) {
            let weights = hyps[0].attention ?? []
            #expect(weights.count == hyps[0].tokens.count + 1, "one row per output token and </s>")
            for row in weights {
                #expect(row.count == source.count)
                #expect(abs(row.reduce(0, +) - 1) < 1e-4)
            }
        }
    }

    @Test("a checkpoint round-trips and one of another vocabulary or kind is refused")
    func checkpoint() throws {
        var rng = Xoshiro256(seed: 2)
        let model = Seq2SeqModel(
            architecture: ModelCase(cell: .lstm, attention: .additive).architecture(), rng: &rng)
        let other = Seq2SeqModel(
            architecture: ModelCase(cell: .lstm, attention: .additive).architecture(source: 10),
            rng: &rng)
        #expect(throws: (any Error).self) { try other.loadStateDictionary(model.stateDictionary()) }
        let gru = Seq2SeqModel(
            architecture: ModelCase(cell: .gru, attention: .additive).architecture(), rng: &rng)
        #expect(throws: (any Error).self) { try gru.loadStateDictionary(model.stateDictionary()) }
        let copy = Seq2SeqModel(
            architecture: ModelCase(cell: .lstm, attention: .additive).architecture(), rng: &rng)
        try copy.loadStateDictionary(model.stateDictionary())
        model.eval()
        copy.eval()
        var options = DecodingOptions(beam: 2)
        options.maxLength = 6
        #expect(
            model.translate([[4, 5, 6]], options: options)[0][0].tokens
                == copy.translate([[4, 5, 6]], options: options)[0][0].tokens)
    }
}
