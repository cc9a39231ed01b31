import ArgumentParser
import Foundation
import RecurTensor
import RecurText
import ZIPFoundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct CorpusList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the corpora in the manifest.")
    @OptionGroup var manifest: ManifestOption
    @Flag(help: "Print one JSON line per corpus.") var json = false

    func run() throws {
        for e in try manifest.load().entries {
            if json {
                Output.line(
                    JSONValue.object([
                        ("name", .string(e.name)), ("url", .string(e.url)),
                        ("sha256", e.sha256.map(JSONValue.string) ?? .null),
                        ("bytes", e.bytes.map(JSONValue.int) ?? .null),
                        ("unzip", e.unzip.map(JSONValue.string) ?? .null),
                        ("unzipped_sha256", e.unzippedSHA256.map(JSONValue.string) ?? .null),
                        ("unzipped_bytes", e.unzippedBytes.map(JSONValue.int) ?? .null),
                        ("description", .string(e.description)),
                    ]).text)
                continue
            }
            let size = e.bytes.map { " (\(Console.compact(Double($0)))B)" } ?? ""
            Output.line(
                "\(e.name)\(size): \(e.description)\(e.sha256 == nil ? " [no checksum recorded]" : "")"
            )
        }
    }
}
