import ArgumentParser
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert vectors between text, binary, TSV (projector) and NumPy formats.")
    @OptionGroup var input: VectorsOption
    @Option(help: "Where to write.") var out: String
    @Option(help: "text, binary, tsv or npy.") var format: VectorFormat = .text

    func run() throws {
        try refuseOverwritingInputs(
            outputs: [out, out + ".vocab.txt", out + "/vectors.tsv", out + "/metadata.tsv"],
            inputs: [("--vectors", input.vectors)])
        let kv = try input.load()
        for file in try kv.write(to: out, format: format) { Output.line(file) }
    }
}
