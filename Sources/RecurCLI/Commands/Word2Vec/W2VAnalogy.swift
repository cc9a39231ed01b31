import ArgumentParser
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VAnalogy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analogy", abstract: "A is to B as C is to ? (e.g. man king woman → queen).")
    @OptionGroup var input: VectorsOption
    @Argument(help: "A") var a: String
    @Argument(help: "B") var b: String
    @Argument(help: "C") var c: String
    @Option(help: "3cosadd or 3cosmul.") var method: KeyedVectors.AnalogyMethod = .add
    @Option(name: .short, help: "Answers to show.") var n: Int = 5
    @Flag(help: "Print one JSON line: {\"query\": [a, b, c], \"answers\": [[word, score], …]}.")
    var json = false

    func validate() throws {
        if n < 1 || n > 1 << 24 { throw CLIError("-n must be between 1 and 2^24, got \(n)") }
    }

    func run() throws {
        let kv = try input.load()
        let answers = try kv.analogy(a: a, b: b, c: c, method: method, count: n)
        if json {
            Output.line(
                JSONValue.object([
                    ("query", .array([.string(a), .string(b), .string(c)])),
                    ("method", .string(method.rawValue)),
                    (
                        "answers",
                        .array(answers.map { .array([.string($0.0), .rounded(Double($0.1), 6)]) })
                    ),
                ]).text)
            return
        }
        for (w, s) in answers {
            Output.line("\(w)\t\(Console.fixed(Double(s), 4))")
        }
    }
}
