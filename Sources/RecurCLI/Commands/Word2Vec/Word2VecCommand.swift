import ArgumentParser
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `recur word2vec …`: word embeddings.
struct Word2VecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "word2vec",
        abstract: "Train word embeddings (skip-gram/CBOW), export them and query them.",
        subcommands: [
            W2VTrain.self, W2VSimilar.self, W2VAnalogy.self, W2VEval.self, W2VPlot.self,
            W2VConvert.self,
        ]
    )
}

extension VectorFormat: ExpressibleByArgument {}
extension Tokenization: ExpressibleByArgument {}
extension KeyedVectors.AnalogyMethod: ExpressibleByArgument {}

/// Options for commands that read vectors.
struct VectorsOption: ParsableArguments {
    @Option(help: "Vectors in word2vec text or binary format (detected).") var vectors: String
    @Flag(help: "Force reading the binary format.") var binary = false

    func load() throws -> KeyedVectors {
        try KeyedVectors.load(path: vectors, binary: binary ? true : nil)
    }
}
