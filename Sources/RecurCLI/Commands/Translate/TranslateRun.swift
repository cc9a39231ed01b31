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

struct TranslateRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Translate lines from standard input or --input, one translation per line on stdout.",
        discussion: """
            Translations are printed as text: case restored and punctuation spaced the way the \
            training targets write them ("Je mange du pain."); --tokenized prints the model's own \
            tokens instead ("je mange du pain ."). Words the model has not seen become <unk> \
            (reported on stderr). One output line per input line; empty lines give empty \
            translations. With --n-best N each input gives N lines "index ||| translation ||| score".
            """
    )

    @Option(help: "Checkpoint directory: a training --out (see --weights) or any checkpoint copy.")
    var model: String
    @OptionGroup var weights: WeightsOption
    @Option(help: "File of source sentences, one per line (default: standard input).") var input:
        String?
    @Option(help: "Translations per input (≤ --beam).") var nBest: Int = 1
    @Option(help: "Write an SVG attention heatmap per sentence into this directory.")
    var showAttention: String?
    @Flag(help: "Cut inputs longer than the model accepts instead of stopping.") var truncate =
        false
    @Flag(
        help: "Print the model's tokens (lower-cased, punctuation split by spaces) instead of text."
    ) var tokenized = false
    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of stopping.") var lossy = false
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @OptionGroup var decoding: DecodingFlags
    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if nBest < 1 || nBest > decoding.beam {
            throw CLIError("--n-best must be between 1 and --beam (\(decoding.beam)), got \(nBest)")
        }
    }

    func run() throws {
        runtime.apply()
        let (loaded, modelNote) = try loadTranslationModel(model, choice: weights.choice)
        let c = loaded.config
        let tokenizer = c.tokenizer
        var options = decoding.options(nBest: nBest)
        options.recordAttention = showAttention != nil
        if let showAttention {
            do {
                try AtomicFile.createDirectory(showAttention)
            } catch {
                throw CLIError(
                    "--show-attention \(showAttention): cannot create the directory (\(error.reason))"
                )
            }
        }
        let interactive = input == nil && isatty(STDIN_FILENO) != 0
        let style = c.outputStyle
        let tokenized = self.tokenized
        func text(_ tokens: [String]) -> String {
            tokenized ? Detokenizer.join(tokens) : style.render(tokens)
        }
        var unknown: [String: Int] = [:]
        var lineNumber = 0
        var written = 0
        // Translates a group of lines and prints the results in order.
        func translate(_ lines: [String]) throws {
            var ids: [[Int32]] = []
            var tokens: [[String]] = []
            for line in lines {
                lineNumber += 1
                var words = tokenizer.tokens(line)
                if words.count > c.training.maxInputLength {
                    guard truncate else {
                        throw CLIError(
                            "input line \(lineNumber) has \(words.count) tokens; the model accepts at most \(c.training.maxInputLength) (use --truncate to cut it)"
                        )
                    }
                    words = Array(words.prefix(c.training.maxInputLength))
                }
                let (encoded, missing) = c.sourceVocabulary.encode(words)
                for w in missing { unknown[w, default: 0] += 1 }
                ids.append(encoded)
                tokens.append(words)
            }
            let nonEmpty = ids.indices.filter { !ids[$0].isEmpty }
            let results = loaded.model.translate(nonEmpty.map { ids[$0] }, options: options)
            var byLine = [[Hypothesis]](repeating: [], count: lines.count)
            for (k, i) in nonEmpty.enumerated() { byLine[i] = results[k] }
            var out = ""
            for (i, hyps) in byLine.enumerated() {
                let index = lineNumber - lines.count + i
                if nBest > 1 {
                    for h in hyps {
                        out +=
                            "\(index) ||| \(text(c.targetVocabulary.decode(h.tokens))) ||| \(Console.fixed(Double(h.score), 4))\n"
                    }
                } else {
                    out += text(c.targetVocabulary.decode(hyps.first?.tokens ?? [])) + "\n"
                }
                if let dir = showAttention, let best = hyps.first, let weights = best.attention {
                    written += 1
                    let targetWords = c.targetVocabulary.decode(best.tokens) + ["</s>"]
                    let sourceWords = zip(tokens[i], ids[i]).map {
                        $1 == TranslationVocabulary.unknown ? "<unk>:\($0)" : $0
                    }
                    let svg = SVG.heatmap(
                        title: "Attention, line \(index + 1)",
                        values: weights.map { $0.map(Double.init) }, rowLabels: targetWords,
                        columnLabels: sourceWords, rowTitle: "translation", columnTitle: "source",
                        scaleTitle: "attention")
                    let name =
                        dir + "/attention-"
                        + String(repeating: "0", count: max(0, 5 - String(index + 1).count))
                        + "\(index + 1).svg"
                    do {
                        try AtomicFile.write(svg, to: name)
                    } catch {
                        throw CLIError(error.description)
                    }
                }
            }
            Output.write(Array(out.utf8))
        }
        if interactive {
            while let line = readLine(strippingNewline: true) { try translate([line]) }
        } else {
            let contents: String
            if let input {
                contents = try TextFile.read(input, lossy: lossy, allowEmpty: true)
            } else {
                contents = try TextFile.readStandardInput(lossy: lossy)
            }
            let lines = TextLines.split(contents).map(String.init)
            var start = 0
            let group = max(decoding.batch * 4, 256)
            var meter = ProgressMeter("translated lines", total: lines.count, quiet: quiet)
            while start < lines.count {
                try translate(Array(lines[start..<min(start + group, lines.count)]))
                start = min(start + group, lines.count)
                meter.update(start)
            }
            meter.finish()
        }
        if !unknown.isEmpty {
            let total = unknown.values.reduce(0, +)
            let listed = unknown.sorted {
                $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
            }.prefix(10).map(\.key)
            Output.error(
                "note: \(total) unknown word\(total == 1 ? "" : "s") translated as <unk>: \(listed.joined(separator: ", "))\(unknown.count > 10 ? ", …" : "")\n"
            )
        }
        if let showAttention {
            Output.error(
                "wrote \(written) attention heatmap\(written == 1 ? "" : "s") to \(showAttention)\n"
            )
        }
        if let modelNote { Output.error(modelNote) }
    }
}
