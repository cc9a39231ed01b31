import ArgumentParser
import RecurBase
import RecurNN
import RecurReport
import RecurSeq2Seq
import RecurTensor
import RecurText
import RecurWord2Vec

#if canImport(Glibc)
    import Glibc
#endif

struct TranslateEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "BLEU and chrF of a model on held-out pairs, greedy and with beam search.",
        discussion: """
            Scores are computed as sacreBLEU computes them by default: the translations as `run` \
            prints them (case restored, detokenized) against the references as written, BLEU with \
            the 13a tokenizer, cased, and chrF2, each printed with its signature. --tokenized \
            scores the model's own tokens instead (lower-cased, punctuation split, tok:none), as \
            tutorials that lower-case their data report.
            """
    )

    @Option(help: "Checkpoint directory: a training --out (see --weights) or any checkpoint copy.")
    var model: String
    @OptionGroup var weights: WeightsOption
    @Option(help: "Parallel file of held-out pairs: source<TAB>target per line.") var pairs: String
    @Flag(help: "Skip lines without a tab or with an empty side instead of stopping.")
    var skipBadLines = false
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Option(help: "Write the beam-search translations here, one per line.") var hypotheses: String?
    @Flag(help: "Score the model's tokens (lower-cased, punctuation split) instead of text.")
    var tokenized = false
    @Flag(help: "Print one JSON line.") var json = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @OptionGroup var decoding: DecodingFlags
    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        if let hypotheses {
            try refuseOverwritingInputs(outputs: [hypotheses], inputs: [("--pairs", pairs)])
        }
        let (loaded, modelNote) = try loadTranslationModel(model, choice: weights.choice)
        let c = loaded.config
        let corpus = try ParallelCorpus.load(
            path: pairs, tokenizer: c.tokenizer, skipBadLines: skipBadLines, lossy: lossy)
        var held = corpus.pairs
        var truncated = 0
        for i in held.indices where held[i].source.count > c.training.maxInputLength {
            held[i].source = Array(held[i].source.prefix(c.training.maxInputLength))
            truncated += 1
        }
        let unknown = held.reduce(0) { $0 + c.sourceVocabulary.encode($1.source).unknown.count }
        func score(beam: Int) -> TranslationScores {
            var meter = ProgressMeter(
                beam == 1 ? "greedy" : "beam \(beam)", total: held.count, quiet: quiet || json)
            defer { meter.finish() }
            return TranslationEvaluation.score(
                model: loaded.model, pairs: held, source: c.sourceVocabulary,
                target: c.targetVocabulary,
                options: decoding.options(beam: beam), style: tokenized ? nil : c.outputStyle
            ) { meter.update($0) }
        }
        let greedy = score(beam: 1)
        let beam = decoding.beam > 1 ? score(beam: decoding.beam) : greedy
        if let path = hypotheses {
            do {
                try AtomicFile.write(
                    Array(beam.hypotheses.map { $0 + "\n" }.joined().utf8), to: path)
            } catch {
                throw CLIError(error.description)
            }
        }
        if json {
            let line: JSONValue = .object([
                ("pairs", .int(held.count)), ("tokenized", .bool(tokenized)),
                ("unknown_source_words", .int(unknown)), ("truncated", .int(truncated)),
                ("bleu_greedy", .rounded(greedy.bleu.score, 2)),
                ("chrf_greedy", .rounded(greedy.chrF.score, 2)),
                ("beam", .int(decoding.beam)), ("bleu_beam", .rounded(beam.bleu.score, 2)),
                ("chrf_beam", .rounded(beam.chrF.score, 2)),
                ("decode_sents_per_s_greedy", .rounded(greedy.sentencesPerSecond, 1)),
                ("decode_sents_per_s_beam", .rounded(beam.sentencesPerSecond, 1)),
                ("bleu_signature", .string(greedy.bleu.signature)),
                ("chrf_signature", .string(greedy.chrF.signature)),
            ])
            Output.line(line.text)
            if let modelNote { Output.error(modelNote) }
            return
        }
        if let modelNote { Output.error(modelNote) }
        Output.line(
            "\(held.count) pairs from \(pairs)\(unknown > 0 ? ", \(unknown) unknown source words" : "")\(truncated > 0 ? ", \(truncated) sources truncated" : "")"
        )
        Output.line(
            "greedy:  \(greedy.bleu)   chrF2 = \(Console.fixed(greedy.chrF.score, 2))   (\(Console.fixed(greedy.sentencesPerSecond, 1)) sentences/s)"
        )
        if decoding.beam > 1 {
            Output.line(
                "beam \(decoding.beam):  \(beam.bleu)   chrF2 = \(Console.fixed(beam.chrF.score, 2))   (\(Console.fixed(beam.sentencesPerSecond, 1)) sentences/s)"
            )
        }
        Output.line("BLEU signature: \(greedy.bleu.signature)")
        Output.line("chrF signature: \(greedy.chrF.signature)")
    }
}
