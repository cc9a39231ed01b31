import ArgumentParser
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VSimilar: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar", abstract: "Nearest neighbours of words (cosine).")
    @OptionGroup var input: VectorsOption
    @Argument(help: "Words; with several, their neighbours in turn.") var words: [String]
    @Option(name: .short, help: "Neighbours to show.") var n: Int = 10
    @Flag(help: "Print one JSON line per word: {\"word\": …, \"neighbours\": [[word, cosine], …]}.")
    var json = false

    func validate() throws {
        if n < 1 || n > 1 << 24 { throw CLIError("-n must be between 1 and 2^24, got \(n)") }
    }

    func run() throws {
        let kv = try input.load()
        try kv.requireWords(words)
        if json {
            for word in words {
                let found = try kv.mostSimilar(to: word, count: n)
                Output.line(
                    JSONValue.object([
                        ("word", .string(word)),
                        (
                            "neighbours",
                            .array(
                                found.map { .array([.string($0.0), .rounded(Double($0.1), 6)]) })
                        ),
                    ]).text)
            }
            return
        }
        for word in words {
            if words.count > 1 { Output.line("\(word):") }
            for (w, s) in try kv.mostSimilar(to: word, count: n) {
                Output.line("\(w)\t\(Console.fixed(Double(s), 4))")
            }
        }
    }
}
