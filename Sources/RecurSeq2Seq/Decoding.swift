// Greedy and beam-search decoding, batched: B sentences × K beams run as B·K decoder rows per
// step. Greedy decoding is beam search with K = 1 (same code path, same options).

import RecurBase
import RecurNN
import RecurTensor

/// How translations are searched for.
public struct DecodingOptions: Sendable, Equatable {
    /// Beam width K (1: greedy).
    public var beam = 1
    /// Translations returned per sentence (≤ beam).
    public var nBest = 1
    /// Longest translation in tokens (0: twice the source length plus 10).
    public var maxLength = 0
    /// Shortest translation in tokens (`</s>` is not allowed before).
    public var minLength = 0
    /// The length penalty α of Wu et al., 2016.
    ///
    /// Hypotheses are ranked by log P / ((5 + |Y|) / 6)^α. 0 ranks by log-probability, which
    /// favours short outputs; 0.6–1 are common.
    public var lengthPenalty: Float = 0
    /// Forbid repeating any n-gram of this size within a hypothesis (0: off).
    public var blockNgramRepeat = 0
    /// Sentences decoded together.
    public var batchSize = 64
    /// Keep each hypothesis's attention weights (for heatmaps).
    public var recordAttention = false

    /// Greedy decoding (`beam` 1) or beam search of width `beam`, keeping `nBest` hypotheses.
    public init(beam: Int = 1, nBest: Int = 1) {
        self.beam = beam
        self.nBest = nBest
    }
}

/// One translation of a sentence.
public struct Hypothesis: Sendable {
    /// Target token ids, without `<s>` and `</s>`.
    public var tokens: [Int32]
    /// Sum of the log-probabilities of the tokens and `</s>`.
    public var logProbability: Float
    /// The score hypotheses are ranked by (log-probability over the length penalty).
    public var score: Float
    /// Attention weights per output token (and `</s>`), each over the source tokens.
    public var attention: [[Float]]?
}

extension Seq2SeqModel.Encoded {
    /// Each batch row repeated `k` times in place (row b becomes rows b·k … b·k + k - 1).
    func repeated(_ k: Int) -> Seq2SeqModel.Encoded {
        guard k > 1 else { return self }
        let b = memory.shape[0]
        let rows = (0..<(b * k)).map { $0 / k }
        let tape = memory.tape
        func expand(_ t: Tensor) -> Tensor {
            // [B, …] → [B·k, …]
            let inner = t.count / b
            return t.reshaped([b, inner]).gathering(rows: rows).reshaped(
                [b * k] + Array(t.shape.dropFirst()))
        }
        func expandState(_ t: Tensor) -> Tensor {
            // [L, B, H] → [L, B·k, H]
            let (l, h) = (t.shape[0], t.shape[2])
            return t.reshaped([l * b, h]).gathering(
                rows: (0..<l).flatMap { layer in rows.map { layer * b + $0 } }
            ).reshaped([l, b * k, h])
        }
        return Seq2SeqModel.Encoded(
            memory: tape.constant(expand(memory.value)),
            hidden: tape.constant(expandState(hidden.value)),
            cell: cell.map { tape.constant(expandState($0.value)) }, mask: expand(mask),
            keys: keys.map { tape.constant(expand($0.value)) })
    }
}

/// Gathers rows of a recurrent state `[L, R, H]` by `rows`.
func gatherState(_ t: Tensor, rows: [Int]) -> Tensor {
    let (l, r, h) = (t.shape[0], t.shape[1], t.shape[2])
    return t.reshaped([l * r, h]).gathering(
        rows: (0..<l).flatMap { layer in rows.map { layer * r + $0 } }
    ).reshaped([l, rows.count, h])
}

/// A partial hypothesis on the beam.
private struct Beam {
    var tokens: [Int32]
    var logProbability: Float
    var attention: [[Float]]
}

extension Seq2SeqModel {
    /// Translates id sequences (each non-empty), returning up to `options.nBest` hypotheses per
    /// sentence, best first.
    ///
    /// Sentences are decoded in length-sorted batches; the result is in
    /// input order. The model must be in evaluation mode.
    public func translate(_ sources: [[Int32]], options: DecodingOptions) -> [[Hypothesis]] {
        precondition(
            options.beam >= 1 && options.nBest >= 1 && options.nBest <= options.beam,
            "translate: need 1 ≤ nBest ≤ beam")
        precondition(!isTraining, "translate: switch the model to evaluation mode first (eval())")
        var results = [[Hypothesis]](repeating: [], count: sources.count)
        let order = sources.indices.sorted { sources[$0].count < sources[$1].count }
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(start + max(options.batchSize, 1), order.count)])
            let found = beamSearch(chunk.map { sources[$0] }, options: options)
            for (i, index) in chunk.enumerated() { results[index] = found[i] }
            start += chunk.count
        }
        return results
    }

    private func beamSearch(_ sources: [[Int32]], options o: DecodingOptions) -> [[Hypothesis]] {
        let b = sources.count
        let k = o.beam
        let v = architecture.targetVocabularySize
        let tape = Tape()
        tape.isRecording = false
        let batch = TranslationBatch(sources: sources, targets: [], indices: Array(0..<b))
        let encoded = encodeForDecoding(batch, tape: tape).repeated(k)
        var state = RecurrentState(hidden: encoded.hidden.value, cell: encoded.cell?.value)
        let maxLengths = sources.map { o.maxLength > 0 ? o.maxLength : 2 * $0.count + 10 }
        // Row b·K + j holds beam j of sentence b; only beam 0 starts alive, so the first step
        // does not fill the beam with copies of one hypothesis.
        var beams: [[Beam]] = (0..<b).map { _ in
            [Beam(tokens: [], logProbability: 0, attention: [])]
        }
        var finished: [[Hypothesis]] = Array(repeating: [], count: b)
        var done = [Bool](repeating: false, count: b)
        var inputs = [Int32](repeating: TranslationVocabulary.start, count: b * k)
        let lengthPenalty = { (length: Int) -> Float in
            o.lengthPenalty == 0 ? 1 : Float.pow((5 + Float(length)) / 6, o.lengthPenalty)
        }
        while done.contains(false) {
            let out = self.step(tokens: inputs, state: state, encoded: encoded, tape: tape)
            var parents = [Int](repeating: 0, count: b * k)
            let logp = out.logProbabilities
            for sentence in 0..<b where !done[sentence] {
                var candidates: [(score: Float, beam: Int, token: Int32)] = []
                candidates.reserveCapacity(2 * k * k)
                for (j, beam) in beams[sentence].enumerated() {
                    let row = sentence * k + j
                    let blocked =
                        o.blockNgramRepeat > 0
                        ? blockedTokens(beam.tokens, n: o.blockNgramRepeat) : []
                    let mustEnd = beam.tokens.count >= maxLengths[sentence]
                    let mayEnd = beam.tokens.count >= o.minLength
                    logp.withUnsafeBufferPointer { p in
                        let base = row * v
                        // The best 2K continuations of this beam (K could all end).
                        var best: [(Float, Int32)] = []
                        func offer(_ token: Int32) {
                            let score = beam.logProbability + p[base + Int(token)]
                            guard score > -Float.infinity else { return }
                            if best.count < 2 * k {
                                best.append((score, token))
                                if best.count == 2 * k { best.sort { $0.0 > $1.0 } }
                            } else if score > best[best.count - 1].0 {
                                var i = best.count - 1
                                best[i] = (score, token)
                                while i > 0 && best[i - 1].0 < best[i].0 {
                                    best.swapAt(i, i - 1)
                                    i -= 1
                                }
                            }
                        }
                        if mustEnd {
                            offer(TranslationVocabulary.end)
                        } else {
                            for token in 0..<v {
                                let id = Int32(token)
                                if id == TranslationVocabulary.pad
                                    || id == TranslationVocabulary.start
                                {
                                    continue
                                }
                                if id == TranslationVocabulary.end && !mayEnd { continue }
                                if !blocked.isEmpty && blocked.contains(id) { continue }
                                offer(id)
                            }
                        }
                        for (score, token) in best { candidates.append((score, j, token)) }
                    }
                }
                candidates.sort {
                    $0.score != $1.score
                        ? $0.score > $1.score : ($0.beam, $0.token) < ($1.beam, $1.token)
                }
                var next: [Beam] = []
                for (rank, c) in candidates.enumerated() {
                    let parent = beams[sentence][c.beam]
                    // `</s>` ends a hypothesis only when it ranks among the best K continuations
                    // (otherwise greedy search would stop on a runner-up).
                    if c.token == TranslationVocabulary.end && rank >= k { continue }
                    if c.token != TranslationVocabulary.end && next.count == k { continue }
                    var attention = parent.attention
                    if o.recordAttention, let a = out.attention {
                        let row = (sentence * k + c.beam) * a.shape[1]
                        attention.append(Array(a.scalars[row..<(row + sources[sentence].count)]))
                    }
                    if c.token == TranslationVocabulary.end {
                        let length = parent.tokens.count + 1
                        finished[sentence].append(
                            Hypothesis(
                                tokens: parent.tokens, logProbability: c.score,
                                score: c.score / lengthPenalty(length),
                                attention: o.recordAttention ? attention : nil))
                    } else {
                        parents[sentence * k + next.count] = sentence * k + c.beam
                        inputs[sentence * k + next.count] = c.token
                        next.append(
                            Beam(
                                tokens: parent.tokens + [c.token], logProbability: c.score,
                                attention: attention))
                    }
                }
                beams[sentence] = next
                // Done when K hypotheses have ended and no live beam can beat the K-th of them
                // (exact without a length penalty, since scores only fall; Hugging Face's
                // heuristic with one).
                if next.isEmpty {
                    done[sentence] = true
                } else if finished[sentence].count >= k {
                    finished[sentence].sort { $0.score > $1.score }
                    let worstKept = finished[sentence][k - 1].score
                    let bestLive =
                        next.lazy.map(\.logProbability).max().map {
                            $0 / lengthPenalty(next[0].tokens.count + 1)
                        }
                        ?? -Float.infinity
                    if bestLive <= worstKept { done[sentence] = true }
                }
            }
            for sentence in 0..<b {
                // Rows of finished sentences and unused beams keep running on padding; they are
                // never read.
                let used = done[sentence] ? 0 : beams[sentence].count
                for j in used..<k {
                    parents[sentence * k + j] = sentence * k
                    inputs[sentence * k + j] = TranslationVocabulary.end
                }
            }
            state = RecurrentState(
                hidden: gatherState(out.state.hidden, rows: parents),
                cell: out.state.cell.map { gatherState($0, rows: parents) })
        }
        return finished.map { hyps in
            Array(
                hyps.sorted {
                    $0.score != $1.score
                        ? $0.score > $1.score : $0.tokens.lexicographicallyPrecedes($1.tokens)
                }.prefix(o.nBest))
        }
    }

    /// Tokens that would repeat an n-gram already in `tokens`.
    private func blockedTokens(_ tokens: [Int32], n: Int) -> Set<Int32> {
        guard tokens.count >= n - 1 else { return [] }
        if n == 1 { return Set(tokens) }
        let suffix = tokens.suffix(n - 1)
        var blocked = Set<Int32>()
        if tokens.count >= n {
            for i in 0...(tokens.count - n) where tokens[i..<(i + n - 1)].elementsEqual(suffix) {
                blocked.insert(tokens[i + n - 1])
            }
        }
        return blocked
    }
}
