import RecurBase
import RecurNN
import RecurTensor

/// Scores of a model's translations of a set of pairs.
public struct TranslationScores: Sendable {
    /// Corpus BLEU, as sacreBLEU computes it.
    public var bleu: MetricScore
    /// Corpus chrF, as sacreBLEU computes it.
    public var chrF: MetricScore
    /// The best hypothesis per pair, as space-separated tokens.
    public var hypotheses: [String]
    /// The references, tokenized the same way.
    public var references: [String]
    /// Time spent translating.
    public var seconds: Double
    /// Sentences translated per second.
    public var sentencesPerSecond: Double { seconds > 0 ? Double(hypotheses.count) / seconds : 0 }
}

/// Translating held-out pairs and scoring them.
public enum TranslationEvaluation {
    /// Translates the sources of `pairs` and scores them against their targets.
    ///
    /// - Parameters:
    ///   - model: the translator (put it in evaluation mode first).
    ///   - pairs: the pairs to translate and score.
    ///   - source: the source vocabulary.
    ///   - target: the target vocabulary.
    ///   - options: greedy or beam search, length penalty, batch size.
    ///   - style: with a style, hypotheses are printed as text (case restored, detokenized) and
    ///     scored against the references as written, with sacreBLEU's defaults (13a
    ///     tokenization, cased), as published scores are. Without one, hypotheses and references
    ///     are compared as the model's tokens joined by spaces (lower-cased, punctuation split),
    ///     with `tok:none`: a score of the model's own task, as pre-tokenized toolkits report it.
    ///   - progress: called with the number of pairs translated so far.
    public static func score(
        model: Seq2SeqModel, pairs: [SentencePair], source: TranslationVocabulary,
        target: TranslationVocabulary,
        options: DecodingOptions, style: TargetStyle? = nil, progress: ((Int) -> Void)? = nil
    ) -> TranslationScores {
        let started = MonotonicClock.seconds()
        var hypotheses: [String] = []
        hypotheses.reserveCapacity(pairs.count)
        // In groups, so that a long evaluation can report progress.
        let group = max(options.batchSize * 8, 256)
        for start in stride(from: 0, to: pairs.count, by: group) {
            let part = pairs[start..<min(start + group, pairs.count)]
            for best in model.translate(part.map { source.encode($0.source).ids }, options: options)
            {
                let words = target.decode(best.first?.tokens ?? [])
                hypotheses.append(style.map { $0.render(words) } ?? words.joined(separator: " "))
            }
            progress?(hypotheses.count)
        }
        let seconds = MonotonicClock.seconds() - started
        let references = pairs.map {
            style == nil
                ? $0.target.joined(separator: " ") : String($0.targetText.trimmingWhitespace())
        }
        return TranslationScores(
            bleu: BLEU.corpus(
                hypotheses: hypotheses, references: references,
                tokenizer: style == nil ? .none : .thirteenA),
            chrF: ChrF.corpus(hypotheses: hypotheses, references: references),
            hypotheses: hypotheses, references: references,
            seconds: seconds)
    }
}

extension Seq2SeqModel {
    /// Mean cross-entropy per target token over `pairs` (teacher-forced; evaluation mode).
    public func meanLoss(
        pairs: [SentencePair], source: TranslationVocabulary, target: TranslationVocabulary,
        batchSize: Int = 64
    ) -> Double {
        let tape = Tape()
        tape.isRecording = false
        var total = 0.0
        var tokens = 0
        var context = ForwardContext.inference(tape: tape)
        var start = 0
        let order = pairs.indices.sorted { pairs[$0].source.count < pairs[$1].source.count }
        while start < order.count {
            let indices = Array(order[start..<min(start + batchSize, order.count)])
            let batch = TranslationBatch(
                pairs: pairs, indices: indices, source: source, target: target)
            tape.reset()
            let loss = self.loss(batch, context: &context)
            let count = batch.targetOutput.reduce(0) {
                $0 + ($1 == TranslationVocabulary.pad ? 0 : 1)
            }
            total += Double(loss.value.scalar) * Double(count)
            tokens += count
            start += indices.count
        }
        return tokens > 0 ? total / Double(tokens) : .nan
    }
}
