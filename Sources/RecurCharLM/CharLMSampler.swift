import RecurNN
import RecurTensor
import RecurText

/// How to pick the next symbol.
public struct SamplingOptions: Sendable {
    /// Divides the logits: below 1 sharper, above 1 more varied.
    public var temperature: Float = 1
    /// Sample only among the k most likely symbols (0: all).
    public var topK: Int = 0
    /// Sample only from the smallest set of symbols whose probability reaches p (1: all).
    public var topP: Float = 1
    /// Always take the most likely symbol.
    public var argmax = false

    /// Options for sampling; the defaults sample from the model's distribution unchanged.
    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, argmax: Bool = false) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.argmax = argmax
    }
}

/// Generates text from a trained `CharLanguageModel`, one symbol at a time.
///
/// ```swift
/// let sampler = CharLMSampler(model: model, vocabulary: vocabulary)
/// sampler.generate(length: 200, prime: "ROMEO:", options: .init(temperature: 0.8), rng: &rng) { bytes in
///     print(String(decoding: bytes, as: UTF8.self), terminator: "")
/// }
/// ```
public final class CharLMSampler {
    /// The model that predicts each next symbol.
    public let model: CharLanguageModel
    /// Maps between the model's ids and the text's symbols.
    public let vocabulary: CharVocabulary
    private var state: RecurrentState?
    private var context: [Int32] = []

    /// A sampler for `model`, whose ids `vocabulary` describes.
    public init(model: CharLanguageModel, vocabulary: CharVocabulary) {
        self.model = model
        self.vocabulary = vocabulary
    }

    /// Generates `length` symbols after `prime`, calling `emit` with each symbol's bytes as soon
    /// as it is chosen.
    ///
    /// - Returns: how many symbols of the prime were not in the vocabulary (fed as `<unk>`).
    @discardableResult
    public func generate(
        length: Int, prime: String, options: SamplingOptions, rng: inout Xoshiro256,
        emit: ([UInt8]) -> Void
    ) -> Int {
        state = nil
        let prepared = vocabulary.unit.prepare(Array(prime.utf8))
        var (ids, unknown) = vocabulary.encode(prepared)
        if ids.isEmpty {
            // Start after a newline when the text has one, else from a random symbol.
            let newline = vocabulary.id(of: [0x0A])
            ids = [newline ?? Int32(1 + rng.nextInt(below: max(vocabulary.count - 1, 1)))]
            unknown = 0
        }
        context = ids
        var pending = ids
        if model.isRecurrent {
            // A long prime is fed in chunks with the state carried over: the same result, with
            // activation memory bounded by the chunk instead of growing with the prime.
            let chunk = 4096
            // The last chunk is fed by the loop below.
            let fed = (pending.count - 1) / chunk * chunk
            for start in stride(from: 0, to: fed, by: chunk) {
                _ = model.nextLogits(
                    context: Array(pending[start..<(start + chunk)]), state: &state)
            }
            pending.removeFirst(fed)
        }
        for _ in 0..<length {
            let logits = model.nextLogits(
                context: model.isRecurrent ? pending : context, state: &state)
            let next = CharLMSampler.choose(
                logits, options: options, excluding: CharVocabulary.unknownID, rng: &rng)
            emit(vocabulary.symbols[Int(next)])
            pending = [next]
            context.append(next)
            if let field = model.receptiveField, context.count > 2 * field {
                context.removeFirst(context.count - field)
            }
        }
        return unknown
    }

    /// Draws an id from `logits` with temperature, top-k and top-p (nucleus) filtering.
    public static func choose(
        _ logits: Tensor, options: SamplingOptions, excluding excluded: Int32? = nil,
        rng: inout Xoshiro256
    ) -> Int32 {
        var z = logits.scalars
        if let excluded, Int(excluded) < z.count, z.count > 1 { z[Int(excluded)] = -.infinity }
        if options.argmax || options.temperature <= 0 {
            var best = 0
            for i in 1..<z.count where z[i] > z[best] { best = i }
            return Int32(best)
        }
        // Subtract the largest logit before dividing: with a tiny temperature z/T overflows to
        // infinity and the softmax of inf - inf is NaN (random text instead of the argmax);
        // (z - max)/T is 0 for the best symbol and -inf or finite for the others.
        let top = z.max() ?? 0
        let scaled = z.map {
            top.isFinite ? ($0 - top) / options.temperature : $0 / options.temperature
        }
        let probabilities = Tensor(scaled).softmax().scalars
        var order = Array(0..<probabilities.count)
        order.sort {
            probabilities[$0] > probabilities[$1]
                || (probabilities[$0] == probabilities[$1] && $0 < $1)
        }
        var keep = order.count
        if options.topK > 0 { keep = min(keep, options.topK) }
        if options.topP < 1 {
            var mass: Float = 0
            for (rank, i) in order.enumerated() {
                mass += probabilities[i]
                if mass >= options.topP {
                    keep = min(keep, rank + 1)
                    break
                }
            }
        }
        let candidates = order.prefix(keep)
        let total = candidates.reduce(Float(0)) { $0 + probabilities[$1] }
        var u = rng.nextFloat() * total
        for i in candidates {
            u -= probabilities[i]
            if u <= 0 { return Int32(i) }
        }
        return Int32(candidates.last ?? 0)
    }
}
