import ArgumentParser
import Foundation
import RecurTensor
import RecurText
import ZIPFoundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `recur corpus …`: standard corpora from `corpora/MANIFEST`.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus", abstract: "List and download standard corpora (corpora/MANIFEST).",
        subcommands: [CorpusList.self, CorpusFetch.self])
}

struct ManifestOption: ParsableArguments {
    @Option(help: "The manifest to read.") var manifest: String = "corpora/MANIFEST"

    func load() throws -> CorpusManifest {
        let text: String
        do {
            text = try TextFile.read(manifest)
        } catch TextError.fileNotFound {
            throw CLIError(
                "\(manifest) not found; run recur from the Recur checkout or pass --manifest")
        }
        return try CorpusManifest(text: text, path: manifest)
    }
}
