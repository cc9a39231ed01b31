// The encoder-decoder with attention (legend: B batch, S source steps, T target steps, H hidden,
// E embedding, V vocabulary). The recurrent parts are the fused sequence layers; the attention
// glue runs on the autodiff tape, batch-major ([B, T, H]).

import RecurNN
import RecurTensor

/// How the decoder looks at the encoder's outputs.
public enum AttentionKind: String, Codable, Sendable, CaseIterable {
    /// No attention: the decoder sees only the encoder's final state.
    case none
    /// Luong dot: score(h, m) = h · m.
    case dot
    /// Luong general: score(h, m) = (W_a h) · m.
    case general
    /// Bahdanau additive: score(h, m) = vᵀ tanh(W₁ h + W₂ m).
    case additive
}

/// The recurrent cell of encoder and decoder.
public enum Seq2SeqCell: String, Codable, Sendable, CaseIterable {
    case gru, lstm
}

/// The architecture of a translation model (saved in checkpoints).
public struct Seq2SeqArchitecture: Codable, Equatable, Sendable {
    /// The recurrent cell of encoder and decoder.
    public var cell: Seq2SeqCell = .gru
    /// Source vocabulary size, the four specials included.
    public var sourceVocabularySize = 0
    /// Target vocabulary size (V), the four specials included.
    public var targetVocabularySize = 0
    /// Embedding size of both sides (E).
    public var embeddingSize = 256
    /// Hidden units of encoder and decoder (H).
    public var hiddenSize = 256
    /// Recurrent layers of encoder and decoder.
    public var layers = 1
    /// Whether the encoder reads both ways (its directions are summed).
    public var bidirectional = false
    /// The attention score, or none.
    public var attention: AttentionKind = .general
    /// Dropout on embeddings, between layers and before the output layer.
    public var dropout: Float = 0
    /// The output layer reuses the target embedding matrix (needs embedding = hidden size).
    public var tiedEmbeddings = false

    /// The defaults: a GRU 1×256 with general attention (set the vocabulary sizes).
    public init() {}

    /// A one-line description, such as `GRU 1×256, general attention, embedding 256, vocabularies 5000/6000`.
    public var summary: String {
        "\(cell.rawValue.uppercased()) \(layers)×\(hiddenSize)\(bidirectional ? " bidirectional encoder" : ""), \(attention.rawValue) attention, embedding \(embeddingSize), vocabularies \(sourceVocabularySize)/\(targetVocabularySize)"
    }
}

/// One decoding step's outputs for a batch of hypotheses.
struct DecoderStep {
    var logProbabilities: Tensor  // [R, V]
    var state: RecurrentState  // decoder state after the step
    var attention: Tensor?  // [R, S]
}

/// An encoder-decoder translation model (Sutskever et al., 2014) with Luong (2015) or Bahdanau
/// (2015) attention.
///
/// The encoder's final state (directions summed) starts the decoder; a bidirectional encoder's
/// outputs are also summed over directions, so attention compares vectors of size H. With
/// attention, the decoder output h and context c give h̃ = tanh(W_c [h; c]), and the output layer
/// maps h̃ to the target vocabulary (PyTorch peer `seq2seq_torch.py` uses the same layout and
/// parameter names: `se`, `te`, `enc`, `dec`, `wa`, `wc`, `out`).
public final class Seq2SeqModel: Module {
    /// The sizes and kinds (saved in checkpoints).
    public let architecture: Seq2SeqArchitecture
    /// Source embeddings `[V_src, E]` (`se`).
    public let sourceEmbedding: Embedding
    /// Target embeddings `[V, E]` (`te`).
    public let targetEmbedding: Embedding
    /// The encoder stack (`enc`).
    public let encoder: any RecurrentSequenceLayer
    /// The decoder stack (`dec`), started from the encoder's final state.
    public let decoder: any RecurrentSequenceLayer
    /// The attention layers, by kind: W_c `[H, 2H]` combines the decoder output with the
    /// context; W_a (general) or W₁, W₂ and v (additive) score the encoder's outputs.
    public enum Attention {
        /// No attention: the decoder's output goes to the output layer.
        case none
        /// Luong dot scores; `combine` is W_c (`wc`).
        case dot(combine: Linear)
        /// Luong general scores with `query` W_a (`wa`); `combine` is W_c (`wc`).
        case general(query: Linear, combine: Linear)
        /// Bahdanau additive scores vᵀ tanh(W₁ h + W₂ m) (`attn.w1`, `attn.w2`, `attn.v`);
        /// `combine` is W_c (`wc`).
        case additive(query: Linear, key: Linear, vector: Parameter, combine: Linear)
    }

    /// The attention layers of the architecture's kind.
    public let attention: Attention
    /// `[V, H]`; nil when tied to the target embedding.
    public let outputWeight: Parameter?
    /// The output layer's bias `[V]`.
    public let outputBias: Parameter
    /// The dropout applied where `architecture.dropout` says.
    public let dropout: Dropout
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// A freshly initialized model (PyTorch's default initializations, drawn from `rng`).
    public init(architecture a: Seq2SeqArchitecture, rng: inout Xoshiro256) {
        precondition(
            !a.tiedEmbeddings || a.embeddingSize == a.hiddenSize,
            "Seq2SeqModel: tied embeddings need embedding size = hidden size")
        architecture = a
        sourceEmbedding = Embedding(
            vocabularySize: a.sourceVocabularySize, embeddingSize: a.embeddingSize, paddingIndex: 0,
            rng: &rng)
        targetEmbedding = Embedding(
            vocabularySize: a.targetVocabularySize, embeddingSize: a.embeddingSize, paddingIndex: 0,
            rng: &rng)
        switch a.cell {
        case .gru:
            encoder = GRU(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                bidirectional: a.bidirectional, dropout: a.dropout, rng: &rng)
            decoder = GRU(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                dropout: a.dropout, rng: &rng)
        case .lstm:
            encoder = LSTM(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                bidirectional: a.bidirectional, dropout: a.dropout, rng: &rng)
            decoder = LSTM(
                inputSize: a.embeddingSize, hiddenSize: a.hiddenSize, layers: a.layers,
                dropout: a.dropout, rng: &rng)
        }
        let h = a.hiddenSize
        func combine() -> Linear { Linear(inputSize: 2 * h, outputSize: h, rng: &rng) }
        switch a.attention {
        case .none:
            attention = .none
        case .dot:
            attention = .dot(combine: combine())
        case .general:
            let query = Linear(inputSize: h, outputSize: h, bias: false, rng: &rng)
            attention = .general(query: query, combine: combine())
        case .additive:
            let query = Linear(inputSize: h, outputSize: h, bias: false, rng: &rng)
            let key = Linear(inputSize: h, outputSize: h, bias: false, rng: &rng)
            let bound = 1 / Float(h).squareRoot()
            let vector = Parameter(Tensor.uniform([h], in: -bound...bound, using: &rng))
            attention = .additive(query: query, key: key, vector: vector, combine: combine())
        }
        let bound = 1 / Float(h).squareRoot()
        outputWeight =
            a.tiedEmbeddings
            ? nil
            : Parameter(
                Tensor.uniform([a.targetVocabularySize, h], in: -bound...bound, using: &rng))
        outputBias = Parameter(
            Tensor.uniform([a.targetVocabularySize], in: -bound...bound, using: &rng))
        dropout = Dropout(probability: a.dropout)
    }

    /// Visits the parameters with the peer's names (`se`, `te`, `enc`, `dec`, `wa`, `wc`, `out`).
    ///
    /// The children are the embeddings, encoder, decoder, attention layers and dropout.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.child("se", sourceEmbedding))
        visit(.child("te", targetEmbedding))
        visit(.child("enc", encoder))
        visit(.child("dec", decoder))
        switch attention {
        case .none: break
        case .dot(let combine):
            visit(.child("wc", combine))
        case .general(let query, let combine):
            visit(.child("wa", query))
            visit(.child("wc", combine))
        case .additive(let query, let key, let vector, let combine):
            visit(.child("attn.w1", query))
            visit(.child("attn.w2", key))
            visit(.parameter("attn.v", vector))
            visit(.child("wc", combine))
        }
        if let outputWeight { visit(.parameter("out.weight", outputWeight)) }
        visit(.parameter("out.bias", outputBias))
        visit(.child("dropout", dropout))
    }

    // MARK: - Encoder

    /// The encoder's memory `[B, S, H]`, final state (directions summed) `[L, B, H]`, and the
    /// additive attention mask `[B, 1, S]` (0 on words, -10⁹ on padding).
    struct Encoded {
        var memory: Variable
        var hidden: Variable
        var cell: Variable?
        var mask: Tensor
        var keys: Variable?  // W₂ m for additive attention, [B, S, H]
    }

    func encode(_ batch: TranslationBatch, context: inout ForwardContext) -> Encoded {
        let (s, b, h, l) = (
            batch.sourceSteps, batch.batch, architecture.hiddenSize, architecture.layers
        )
        let lengths = batch.sourceLengths.map { max($0, 1) }
        let out: Variable
        let hidden: Variable
        let cell: Variable?
        if !Seq2SeqModel.foldsEmbedding(
            vocabulary: architecture.sourceVocabularySize, tokens: s * b,
            training: context.isTraining(self), dropout: architecture.dropout)
        {
            let embedded = sourceEmbedding(batch.source, tape: context.tape)
            let x = dropout(embedded, context: &context).reshaped([
                s, b, architecture.embeddingSize,
            ])
            (out, hidden, cell) = encoder(
                x, initialHidden: nil, initialCell: nil, lengths: lengths, context: &context)
        } else {
            (out, hidden, cell) = encoder(
                tokens: batch.source, timeSteps: s, batch: b, embedding: sourceEmbedding,
                initialHidden: nil, initialCell: nil, lengths: lengths, context: &context)
        }
        var memory = out
        var finalHidden = hidden
        var finalCell = cell
        if architecture.bidirectional {
            memory =
                out.narrow(axis: 2, start: 0, length: h) + out.narrow(axis: 2, start: h, length: h)
            finalHidden = hidden.reshaped([l, 2, b, h]).sum(axis: 1)
            finalCell = cell.map { $0.reshaped([l, 2, b, h]).sum(axis: 1) }
        }
        var mask = Tensor.zeros([b, 1, s])
        mask.withUnsafeMutableBufferPointer { m in
            for row in 0..<b { for t in batch.sourceLengths[row]..<s { m[row * s + t] = -1e9 } }
        }
        let batchMajor = memory.permuted([1, 0, 2])
        var keys: Variable?
        if case .additive(_, let key, _, _) = attention { keys = key(batchMajor) }
        return Encoded(
            memory: batchMajor, hidden: finalHidden, cell: finalCell, mask: mask, keys: keys)
    }

    /// Whether a recurrent layer should read token ids through its folded table `E W_ihᵀ`
    /// rather than embedded vectors.
    ///
    /// In training the table is rebuilt (and back-propagated) per
    /// call, a `[V, E] × [E, G·H]` product, which pays off only when the call has more tokens
    /// than the vocabulary has words; in evaluation the table is cached across calls. Dropout on
    /// the embeddings needs the vectors.
    static func foldsEmbedding(vocabulary: Int, tokens: Int, training: Bool, dropout: Float) -> Bool
    {
        guard training else { return true }
        return dropout == 0 && vocabulary <= tokens
    }

    func runDecoder(
        tokens: [Int32], steps: Int, batch: Int, hidden: Variable, cell: Variable?,
        context: inout ForwardContext
    ) -> (Variable, Variable, Variable?) {
        if !Seq2SeqModel.foldsEmbedding(
            vocabulary: architecture.targetVocabularySize, tokens: steps * batch,
            training: context.isTraining(self), dropout: architecture.dropout)
        {
            let embedded = targetEmbedding(tokens, tape: context.tape)
            let x = dropout(embedded, context: &context).reshaped([
                steps, batch, architecture.embeddingSize,
            ])
            return decoder(
                x, initialHidden: hidden, initialCell: cell, lengths: nil, context: &context)
        }
        return decoder(
            tokens: tokens, timeSteps: steps, batch: batch, embedding: targetEmbedding,
            initialHidden: hidden, initialCell: cell, lengths: nil, context: &context)
    }

    // MARK: - Attention and output

    /// h̃ `[B, T, H]` (or h without attention) and the attention weights `[B, T, S]`.
    func attend(_ query: Variable, _ encoded: Encoded) -> (Variable, Variable?) {
        let tape = query.tape
        let scores: Variable
        let combine: Linear
        switch attention {
        case .none:
            return (query, nil)
        case .dot(let wc):
            scores = query.matmul(encoded.memory, transposeOther: true)
            combine = wc
        case .general(let wa, let wc):
            scores = wa(query).matmul(encoded.memory, transposeOther: true)
            combine = wc
        case .additive(let w1, let w2, let v, let wc):
            let keys = encoded.keys ?? w2(encoded.memory)
            let (b, t, h) = (query.shape[0], query.shape[1], query.shape[2])
            let s = keys.shape[1]
            let q = w1(query).reshaped([b, t, 1, h])
            let e = (q + keys.reshaped([b, 1, s, h])).tanh()
            scores = e.reshaped([b * t * s, h]).matmul(tape.parameter(v).reshaped([h, 1])).reshaped(
                [b, t, s])
            combine = wc
        }
        let weights = (scores + tape.constant(encoded.mask)).softmax()
        let context = weights.matmul(encoded.memory)
        return (combine(Variable.concatenate([query, context], axis: 2)).tanh(), weights)
    }

    /// logits `[N, V]` of h̃ `[N, H]`.
    func project(_ x: Variable) -> Variable {
        let tape = x.tape
        let w = tape.parameter(outputWeight ?? targetEmbedding.weight)
        return x.matmul(w, transposeOther: true) + tape.parameter(outputBias)
    }

    // MARK: - Training

    /// The mean cross-entropy per target token of a batch (padding ignored), recorded on the
    /// context's tape for backward.
    ///
    /// In a training pass (`ForwardContext.training`), dropout applies and, with
    /// `teacherForcing` < 1, each step feeds the gold previous word with that probability and
    /// the model's own argmax otherwise, drawing from the context's generator. An inference
    /// pass is always teacher-forced and deterministic.
    public func loss(
        _ batch: TranslationBatch, teacherForcing: Float = 1, labelSmoothing: Float = 0,
        context: inout ForwardContext
    ) -> Variable {
        let (b, t, h) = (batch.batch, batch.targetSteps, architecture.hiddenSize)
        let encoded = encode(batch, context: &context)
        var logits: Variable
        if teacherForcing >= 1 || !context.isTraining(self) {
            let (out, _, _) = runDecoder(
                tokens: batch.targetInput, steps: t, batch: b, hidden: encoded.hidden,
                cell: encoded.cell, context: &context)
            var (combined, _) = attend(out.permuted([1, 0, 2]), encoded)
            combined = dropout(combined, context: &context)
            logits = project(combined.reshaped([b * t, h]))
        } else {
            var hidden = encoded.hidden
            var cell = encoded.cell
            var input = Array(batch.targetInput[0..<b])
            var steps: [Variable] = []
            for step in 0..<t {
                let (out, nh, nc) = runDecoder(
                    tokens: input, steps: 1, batch: b, hidden: hidden, cell: cell,
                    context: &context)
                hidden = nh
                cell = nc
                var (combined, _) = attend(out.permuted([1, 0, 2]), encoded)
                combined = dropout(combined, context: &context)
                let stepLogits = project(combined.reshaped([b, h]))
                steps.append(stepLogits.reshaped([b, 1, architecture.targetVocabularySize]))
                if step + 1 < t {
                    if context.generator.nextFloat() < teacherForcing {
                        input = Array(batch.targetInput[((step + 1) * b)..<((step + 2) * b)])
                    } else {
                        input = stepLogits.value.argmax(axis: 1).map { Int32($0) }
                    }
                }
            }
            logits = Variable.concatenate(steps, axis: 1).reshaped([
                b * t, architecture.targetVocabularySize,
            ])
        }
        // Targets in the logits' batch-major row order.
        var targets = [Int32](repeating: 0, count: b * t)
        for row in 0..<b {
            for step in 0..<t { targets[row * t + step] = batch.targetOutput[step * b + row] }
        }
        return SoftmaxCrossEntropy.loss(
            logits, targets: targets, ignoreIndex: TranslationVocabulary.pad,
            labelSmoothing: labelSmoothing)
    }

    // MARK: - Decoding

    /// Runs the encoder in an inference pass on `tape`, for decoding.
    func encodeForDecoding(_ batch: TranslationBatch, tape: Tape) -> Encoded {
        var context = ForwardContext.inference(tape: tape)
        return encode(batch, context: &context)
    }

    /// One decoder step for `rows` hypotheses: log-probabilities of the next word.
    func step(
        tokens: [Int32], state: RecurrentState, encoded: Encoded, tape: Tape
    ) -> DecoderStep {
        var context = ForwardContext.inference(tape: tape)
        let hidden = tape.constant(state.hidden)
        let cell = state.cell.map { tape.constant($0) }
        let (out, nh, nc) = runDecoder(
            tokens: tokens, steps: 1, batch: tokens.count, hidden: hidden, cell: cell,
            context: &context)
        let (combined, weights) = attend(out.permuted([1, 0, 2]), encoded)
        let logits = project(combined.reshaped([tokens.count, architecture.hiddenSize])).value
        return DecoderStep(
            logProbabilities: logits.logSoftmax(),
            state: RecurrentState(hidden: nh.value, cell: nc?.value),
            attention: weights?.value.reshaped([tokens.count, -1]))
    }
}
