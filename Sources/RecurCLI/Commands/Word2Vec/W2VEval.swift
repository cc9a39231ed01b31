import ArgumentParser
import RecurReport
import RecurTensor
import RecurText
import RecurWord2Vec
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct W2VEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Analogy accuracy (questions-words format) or word-similarity correlation.",
        discussion:
            "Accuracies and out-of-vocabulary shares are in percent (0–100, in --json too, as BLEU and chrF are); correlations in −1…1."
    )
    @OptionGroup var input: VectorsOption
    @Option(help: "Analogy questions (`: section` headers, `a b c d` lines).") var analogies:
        String?
    @Option(help: "Word pairs with human scores (`word1 word2 score`).") var pairs: String?
    @Option(help: "Only the most frequent words take part (and answer).") var restrict: Int = 30_000
    @Option(help: "3cosadd or 3cosmul.") var method: KeyedVectors.AnalogyMethod = .add
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        if (analogies == nil) == (pairs == nil) {
            throw CLIError("give exactly one of --analogies FILE and --pairs FILE")
        }
        if restrict <= 0 { throw CLIError("--restrict must be positive, got \(restrict)") }
    }

    func run() throws {
        let kv = try input.load()
        if let analogies {
            let r = try kv.evaluateAnalogies(path: analogies, restrict: restrict, method: method)
            if json {
                let line: JSONValue = .object([
                    // Percent (0–100), as printed and as BLEU and chrF are: one scale for every score.
                    ("accuracy", .rounded(100 * r.accuracy, 2)),
                    ("semantic", .rounded(100 * r.semanticAccuracy, 2)),
                    ("syntactic", .rounded(100 * r.syntacticAccuracy, 2)),
                    ("questions", .int(r.questions)),
                    ("skipped_percent", .rounded(100 * r.skippedFraction, 2)),
                    (
                        "sections",
                        .object(r.sections.map { ($0.name, .rounded(100 * $0.accuracy, 2)) })
                    ),
                ])
                Output.line(line.text)
                return
            }
            for s in r.sections {
                Output.line(
                    "\(s.name): \(Console.fixed(100 * s.accuracy, 2))% (\(s.correct)/\(s.answered), \(s.skipped) skipped)"
                )
            }
            Output.line(
                "semantic: \(Console.fixed(100 * r.semanticAccuracy, 2))%  syntactic: \(Console.fixed(100 * r.syntacticAccuracy, 2))%"
            )
            Output.line(
                "total: \(Console.fixed(100 * r.accuracy, 2))% of \(r.questions) questions; \(Console.fixed(100 * r.skippedFraction, 2))% skipped (out of vocabulary)"
            )
        } else if let pairs {
            let r = try kv.evaluatePairs(path: pairs)
            if json {
                let line: JSONValue = .object([
                    ("spearman", .rounded(r.spearman, 4)), ("pearson", .rounded(r.pearson, 4)),
                    ("pairs", .int(r.pairs)),
                    ("oov_percent", .rounded(100 * r.outOfVocabularyFraction, 2)),
                ])
                Output.line(line.text)
                return
            }
            Output.line(
                "Spearman \(Console.fixed(r.spearman, 4)), Pearson \(Console.fixed(r.pearson, 4)) on \(r.pairs) pairs; \(Console.fixed(100 * r.outOfVocabularyFraction, 2))% out of vocabulary"
            )
        }
    }
}
