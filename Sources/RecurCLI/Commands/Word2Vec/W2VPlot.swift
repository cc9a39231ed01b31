import ArgumentParser
import RecurBase
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VPlot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "A 2-D PCA map of words as SVG.")
    @OptionGroup var input: VectorsOption
    @Argument(help: "Words to place.") var words: [String]
    @Option(help: "The SVG file to write.") var out: String = "words.svg"

    func validate() throws {
        if words.count < 2 { throw CLIError("plot needs at least two words") }
    }

    func run() throws {
        try refuseOverwritingInputs(outputs: [out], inputs: [("--vectors", input.vectors)])
        let kv = try input.load()
        let points = try kv.projection2D(words)
        let svg = SVG.scatter(
            title: "PCA of \(words.count) word vectors",
            points: points.map { ($0.x, $0.y, $0.word) })
        do {
            try AtomicFile.write(svg, to: out)
        } catch {
            throw CLIError(error.description)
        }
        Output.line(out)
    }
}
