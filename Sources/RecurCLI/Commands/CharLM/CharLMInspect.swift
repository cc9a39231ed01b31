import ArgumentParser
import RecurCharLM
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

struct CharLMInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Architecture, parameters, vocabulary and training history of a checkpoint.")

    @Option(help: "Checkpoint directory.") var model: String
    @Flag(
        help: "Print one JSON line: the parameter count and the checkpoint's whole configuration.")
    var json = false

    func run() throws {
        let loaded = try CharLMStore.load(directory: model)
        let c = loaded.config
        if json {
            Output.line(try inspectionJSON(parameters: loaded.model.parameterCount, config: c))
            return
        }
        let p = c.progress
        Output.line("model: \(c.architecture.summary), \(loaded.model.parameterCount) parameters")
        Output.line(loaded.model.summary())
        let shown = (1..<c.vocabulary.count).map { c.vocabulary.display(Int32($0)) }
        Output.line(
            "vocabulary (\(c.unit.rawValue), \(c.symbols.count) symbols + <unk>): "
                + shown.prefix(200).joined(separator: " ") + (shown.count > 200 ? " …" : ""))
        Output.line(
            "trained on: \(c.dataPath) (\(c.dataSymbols) symbols, \(Console.fixed(c.training.validationFraction * 100, 1))% for validation)"
        )
        Output.line(
            "training: \(p.step) of \(c.training.steps) steps, \(p.epochs) epochs, batch \(c.training.batchSize) × \(c.training.sequenceLength), \(c.training.optimizer.rawValue) lr \(c.training.learningRate), clip \(c.training.clip) (fired on \(p.clippedSteps) steps), \(Console.duration(p.trainingSeconds)) of training"
        )
        if let best = p.bestValidationBPC {
            Output.line(
                "validation: best bpc \(Console.fixed(best, 4)) at step \(p.bestStep ?? 0), last \(p.lastValidationBPC.map { Console.fixed($0, 4) } ?? "n/a")"
            )
        }
    }
}
