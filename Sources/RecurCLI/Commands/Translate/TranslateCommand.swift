import ArgumentParser
import RecurNN
import RecurReport
import RecurSeq2Seq
import RecurTensor
import RecurText
import RecurWord2Vec

#if canImport(Glibc)
    import Glibc
#endif

/// `recur translate …`: sequence-to-sequence translation.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract:
            "Train encoder-decoder translation models with attention, translate, and score translations.",
        subcommands: [
            TranslateTrain.self, TranslateRun.self, TranslateEval.self, TranslateScore.self,
            TranslateInspect.self,
        ]
    )
}

extension Seq2SeqCell: ExpressibleByArgument {}
extension AttentionKind: ExpressibleByArgument {}

/// Decoding flags shared by `run` and `eval`.
struct DecodingFlags: ParsableArguments {
    @Option(help: "Beam width (1: greedy).") var beam: Int = 5
    @Option(help: "Longest translation in tokens (default: 2 × source length + 10).") var maxLength:
        Int?
    @Option(help: "Shortest translation in tokens.") var minLength: Int = 0
    @Option(help: "Length penalty α of Wu et al. (0: none; 0.6–1 favour longer outputs).")
    var lengthPenalty: Float = 0
    @Option(help: "Never repeat an n-gram of this size within a translation (0: off).")
    var blockNgramRepeat: Int = 0
    @Option(help: "Sentences decoded together.") var batch: Int = 64

    func validate() throws {
        if beam < 1 || beam > 100 {
            throw CLIError("--beam must be between 1 and 100, got \(beam)")
        }
        if let maxLength, maxLength < 1 || maxLength > 1 << 16 {
            throw CLIError("--max-length must be between 1 and 65536, got \(maxLength)")
        }
        if minLength > 1 << 16 {
            throw CLIError("--min-length must be at most 65536, got \(minLength)")
        }
        if blockNgramRepeat > 1 << 16 {
            throw CLIError("--block-ngram-repeat must be at most 65536, got \(blockNgramRepeat)")
        }
        if batch > 1 << 16 { throw CLIError("--batch must be at most 65536, got \(batch)") }
        if minLength < 0 { throw CLIError("--min-length must not be negative, got \(minLength)") }
        if let maxLength, minLength > maxLength {
            throw CLIError("--min-length \(minLength) exceeds --max-length \(maxLength)")
        }
        if !(lengthPenalty >= 0 && lengthPenalty.isFinite) {
            throw CLIError("--length-penalty must be 0 or positive, got \(lengthPenalty)")
        }
        if blockNgramRepeat < 0 {
            throw CLIError("--block-ngram-repeat must not be negative, got \(blockNgramRepeat)")
        }
        if batch < 1 { throw CLIError("--batch must be positive, got \(batch)") }
    }

    func options(beam: Int? = nil, nBest: Int = 1) -> DecodingOptions {
        var o = DecodingOptions(beam: beam ?? self.beam, nBest: nBest)
        o.maxLength = maxLength ?? 0
        o.minLength = minLength
        o.lengthPenalty = lengthPenalty
        o.blockNgramRepeat = blockNgramRepeat
        o.batchSize = batch
        return o
    }
}

/// Which weights of a training directory `run` and `eval` use.
enum WeightsChoice: String, ExpressibleByArgument, CaseIterable {
    /// The mean of the last epochs' weights (`average/`, written with --average-epochs).
    case average
    /// The final weights.
    case last
    /// The weights with the best validation BLEU (`best/`).
    case best
}

/// Shared by `run` and `eval`: which weights of a training directory to use.
struct WeightsOption: ParsableArguments {
    @Option(
        help:
            "Weights of a training directory: average (of the last epochs, when the run kept one), last (final) or best (best validation BLEU). Default: average, else last."
    )
    var weights: WeightsChoice?
    @Flag(help: .hidden) var last = false

    var choice: WeightsChoice? { last ? .last : weights }
}

/// Loads the model to translate with from a checkpoint directory: its `average/` copy when it
/// has one, else its own (final) weights, unless `choice` names one; `best/` on request.
///
/// A directory that is itself a checkpoint copy loads as it is. The note says which copy was used
/// (printed once the command has succeeded, so that a failure stays one line).
func loadTranslationModel(_ directory: String, choice: WeightsChoice?) throws -> (
    loaded: Seq2SeqStore.Loaded, note: String?
) {
    func has(_ sub: String) -> Bool {
        access(directory + "/" + sub + "/" + CheckpointDirectory.sidecarName, F_OK) == 0
    }
    if let chosen = choice, chosen != .last {
        let sub = chosen.rawValue
        guard has(sub) else {
            throw CLIError(
                "\(directory) has no \(sub)/ copy (\(sub == "best" ? "the run had no validation pairs" : "the run was trained without --average-epochs"))"
            )
        }
        let loaded = try loadTranslationModel(directory + "/" + sub)
        let p = loaded.config.progress
        let what =
            sub == "best"
            ? "best validation BLEU \(p.bestValidationBLEU.map { Console.fixed($0, 2) } ?? "n/a"), epoch \(p.bestEpoch ?? p.epoch)"
            : "weights averaged over the last \(loaded.config.training.averageEpochs ?? 0) epochs"
        return (loaded, "note: used \(directory)/\(sub) (\(what))\n")
    }
    if choice == nil && has("average") {
        let loaded = try loadTranslationModel(directory + "/average")
        return (
            loaded,
            "note: used \(directory)/average (weights averaged over the last \(loaded.config.training.averageEpochs ?? 0) epochs); --weights last|best for others\n"
        )
    }
    return (try loadTranslationModel(directory), nil)
}

func loadTranslationModel(_ directory: String) throws -> Seq2SeqStore.Loaded {
    if let kind = try? CheckpointDirectory.readSidecar(AnyKind.self, directory: directory).kind,
        kind != Seq2SeqCheckpoint.kind
    {
        throw CLIError("\(directory): this is a \(kind) checkpoint, not a translation model")
    }
    return try Seq2SeqStore.load(directory: directory)
}

/// Decodes a checkpoint sidecar's `config` as nothing, to read its kind.
struct AnyKind: Codable, Sendable {}
