import ArgumentParser
import RecurSeq2Seq
import RecurText

extension BLEUTokenizer: ExpressibleByArgument {}

/// `recur translate score`: BLEU and chrF of any hypothesis file, as sacreBLEU computes them.
struct TranslateScore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract:
            "BLEU and chrF of a file of translations against a file of references, as sacreBLEU computes them.",
        discussion: """
            Both files hold one sentence per line, in the same order (empty lines count). The \
            defaults are sacreBLEU's: 13a tokenization, cased; the signatures say what was done. \
            Equivalent to `sacrebleu REFS -i HYPS -m bleu chrf`.
            """
    )

    @Option(help: "Translations, one per line ('-': standard input).") var hyps: String
    @Option(help: "References, one per line.") var refs: String
    @Option(help: "BLEU tokenization: 13a (sacreBLEU's default) or none (text already tokenized).")
    var tokenize: BLEUTokenizer = .thirteenA
    @Flag(help: "Lower-case both sides before BLEU (sacreBLEU's -lc).") var lowercase = false
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Flag(help: "Print one JSON line.") var json = false

    func run() throws {
        let hypothesisText =
            hyps == "-"
            ? try TextFile.readStandardInput(lossy: lossy)
            : try TextFile.read(hyps, lossy: lossy, allowEmpty: true)
        let referenceText = try TextFile.read(refs, lossy: lossy, allowEmpty: true)
        // LF, CRLF or CR line ends; a final line end adds no empty line.
        let hypotheses = TextLines.split(hypothesisText).map(String.init)
        let references = TextLines.split(referenceText).map(String.init)
        guard hypotheses.count == references.count else {
            throw CLIError(
                "\(hyps == "-" ? "standard input" : hyps) has \(hypotheses.count) lines but \(refs) has \(references.count); the files must align line by line"
            )
        }
        guard !references.isEmpty else { throw CLIError("\(refs): no lines to score") }
        let bleu = BLEU.corpus(
            hypotheses: hypotheses, references: references, tokenizer: tokenize,
            lowercase: lowercase)
        let chrF = ChrF.corpus(hypotheses: hypotheses, references: references)
        if json {
            Output.line(
                JSONValue.object([
                    ("sentences", .int(hypotheses.count)), ("bleu", .rounded(bleu.score, 4)),
                    ("chrf", .rounded(chrF.score, 4)),
                    ("bleu_detail", .string(bleu.detail)),
                    ("bleu_signature", .string(bleu.signature)),
                    ("chrf_signature", .string(chrF.signature)),
                ]).text)
            return
        }
        Output.line("\(bleu)")
        Output.line("chrF2 = \(Console.fixed(chrF.score, 2))")
        Output.line("BLEU signature: \(bleu.signature)")
        Output.line("chrF signature: \(chrF.signature)")
    }

}
