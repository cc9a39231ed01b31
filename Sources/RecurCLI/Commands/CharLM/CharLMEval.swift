import ArgumentParser
import RecurCharLM
import RecurNN
import RecurReport
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

struct CharLMEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Bits per character of a trained model on any text.")

    @Option(help: "Checkpoint directory.") var model: String
    @Option(help: "UTF-8 text file to score.") var data: String
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Option(
        help:
            "Pieces of the text scored in parallel, each after 256 unscored symbols of context (default: automatic; 1 scores it as one stream exactly)."
    ) var streams: Int?
    @Flag(help: "Print one JSON line.") var json = false
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        if let streams, streams < 1 {
            throw CLIError("--streams must be at least 1, got \(streams)")
        }
        let loaded = try CharLMStore.load(directory: model)
        let corpus = try CharCorpus.load(
            path: data, unit: loaded.config.unit, validationFraction: 0,
            vocabulary: loaded.config.vocabulary, lossy: lossy)
        guard corpus.trainIDs.count >= 2 else {
            throw CLIError("\(data): needs at least two symbols to score")
        }
        let result = loaded.model.evaluate(ids: corpus.trainIDs, streams: streams)
        if json {
            let line: JSONValue = .object([
                ("bpc", .rounded(result.bitsPerSymbol, 4)), ("symbols", .int(result.count)),
                ("unknown_symbols", .int(corpus.unknownSymbols)),
                ("unit", .string(loaded.config.unit.rawValue)),
            ])
            Output.line(line.text)
        } else {
            Output.line(
                "\(Console.fixed(result.bitsPerSymbol, 4)) bits per \(loaded.config.unit.rawValue) over \(result.count) symbols"
                    + (corpus.unknownSymbols > 0
                        ? " (\(corpus.unknownSymbols) not in the model's vocabulary, scored as <unk>)"
                        : ""))
        }
    }
}
