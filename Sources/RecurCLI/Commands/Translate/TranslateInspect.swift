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

struct TranslateInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Architecture, vocabularies and training history of a translation checkpoint.")

    @Option(help: "Checkpoint directory.") var model: String
    @Flag(
        help: "Print one JSON line: the parameter count and the checkpoint's whole configuration.")
    var json = false

    func run() throws {
        let loaded = try loadTranslationModel(model)
        let c = loaded.config
        if json {
            Output.line(try inspectionJSON(parameters: loaded.model.parameterCount, config: c))
            return
        }
        let p = c.progress
        Output.line("model: \(c.architecture.summary), \(loaded.model.parameterCount) parameters")
        Output.line(loaded.model.summary())
        for (name, v) in [("source", c.sourceVocabulary), ("target", c.targetVocabulary)] {
            let shown = v.words.dropFirst(4).prefix(100)
            Output.line(
                "\(name) vocabulary (\(v.count - 4) words + 4 specials): "
                    + shown.joined(separator: " ") + (v.count > 104 ? " …" : ""))
        }
        Output.line(
            "trained on: \(c.dataPath) (\(c.dataPairs) pairs; \(c.training.tokenization.rawValue) tokens, at most \(c.training.maxLength); inputs up to \(c.training.maxInputLength) tokens)"
        )
        Output.line(
            "training: \(p.epoch) of \(c.training.epochs) epochs, \(p.step) steps, batch \(c.training.batchSize), Adam lr \(c.training.learningRate), clip \(c.training.clip) (fired on \(p.clippedSteps) steps), teacher forcing \(c.training.teacherForcing), \(Console.duration(p.trainingSeconds)) of training"
        )
        if let best = p.bestValidationBLEU {
            Output.line(
                "validation: best BLEU \(Console.fixed(best, 2)) after epoch \(p.bestEpoch ?? 0), last \(p.lastValidationBLEU.map { Console.fixed($0, 2) } ?? "n/a")"
            )
        }
    }
}
