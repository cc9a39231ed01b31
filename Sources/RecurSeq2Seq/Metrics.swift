// Corpus BLEU and chrF, computed exactly as sacreBLEU 2.x does (same tokenizers, statistics,
// smoothing and rounding-free scores), so that numbers can be compared with published ones.
// Tested against fixtures written by Scripts/make_metric_fixtures.py with sacreBLEU.

/// Tokenizers of sacreBLEU's BLEU.
public enum BLEUTokenizer: String, Sendable, CaseIterable {
    /// mteval-v13a, sacreBLEU's default.
    case thirteenA = "13a"
    /// Split on whitespace only.
    case none

    /// The tokenized line, tokens separated by single spaces.
    public func tokenize(_ line: String) -> String {
        switch self {
        case .none: return line.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        case .thirteenA: return BLEUTokenizer.thirteenA(line)
        }
    }

    static func thirteenA(_ input: String) -> String {
        var line = input.replacing("<skipped>", with: "").replacing("-\n", with: "").replacing(
            "\n", with: " ")
        if line.contains("&") {
            line = line.replacing("&quot;", with: "\"").replacing("&amp;", with: "&").replacing(
                "&lt;", with: "<"
            )
            .replacing("&gt;", with: ">")
        }
        var s = Array((" " + line + " ").unicodeScalars)
        // 1. ASCII punctuation and symbols in [{-~], [[-`], [ -&], [(-+], [:-@], [/] get spaces around.
        func isSymbol(_ c: Unicode.Scalar) -> Bool {
            let v = c.value
            return (0x7B...0x7E).contains(v) || (0x5B...0x60).contains(v)
                || (0x20...0x26).contains(v)
                || (0x28...0x2B).contains(v) || (0x3A...0x40).contains(v) || v == 0x2F
        }
        var out: [Unicode.Scalar] = []
        for c in s {
            if isSymbol(c) {
                out += [" ", c, " "]
            } else {
                out.append(c)
            }
        }
        s = out
        func isDigit(_ c: Unicode.Scalar) -> Bool { (0x30...0x39).contains(c.value) }
        func isPeriodComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }
        /// A Python `re.sub` of a two-character pattern: non-overlapping, left to right.
        func substitute(
            _ matches: (Unicode.Scalar, Unicode.Scalar) -> Bool,
            _ replace: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]
        ) {
            var result: [Unicode.Scalar] = []
            var i = 0
            while i < s.count {
                if i + 1 < s.count && matches(s[i], s[i + 1]) {
                    result += replace(s[i], s[i + 1])
                    i += 2
                } else {
                    result.append(s[i])
                    i += 1
                }
            }
            s = result
        }
        // 2. period/comma unless preceded by a digit; 3. unless followed by a digit; 4. dash after a digit.
        substitute({ !isDigit($0) && isPeriodComma($1) }, { [$0, " ", $1, " "] })
        substitute({ isPeriodComma($0) && !isDigit($1) }, { [" ", $0, " ", $1] })
        substitute({ isDigit($0) && $1 == "-" }, { [$0, " ", $1, " "] })
        var text = ""
        text.unicodeScalars.append(contentsOf: s)
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// A corpus-level score with its sacreBLEU-style signature.
public struct MetricScore: Sendable, CustomStringConvertible {
    /// The metric, `BLEU` or `chrF2`.
    public var name: String
    /// The score, 0–100.
    public var score: Double
    /// sacreBLEU's signature: what was computed and how.
    public var signature: String
    /// The statistics behind the score (n-gram precisions, brevity penalty, lengths).
    public var detail: String

    /// The score as sacreBLEU prints it, such as `BLEU = 27.83 62.1/35.0/…`.
    public var description: String { "\(name) = \(Self.format(score)) \(detail)" }

    static func format(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        var s = String(r)
        if let dot = s.firstIndex(of: "."), s.distance(from: dot, to: s.endIndex) == 2 { s += "0" }
        return s
    }
}

/// Corpus BLEU (Papineni et al., 2002) as sacreBLEU computes it: n-grams up to 4, one reference,
/// brevity penalty over the corpus, "exp" smoothing for orders without matches.
public enum BLEU {
    /// The sacreBLEU version whose numbers these match (named in the signatures).
    public static let sacreBLEUVersion = "2.6.0"

    /// Corpus BLEU of `hypotheses` against one reference each, with sacreBLEU's signature.
    ///
    /// - Parameters:
    ///   - hypotheses: one translation per line.
    ///   - references: the reference for each hypothesis.
    ///   - tokenizer: sacreBLEU's tokenizer (default 13a; `none` for pre-tokenized text).
    ///   - lowercase: compare lower-cased text (sacreBLEU's `-lc`).
    public static func corpus(
        hypotheses: [String], references: [String], tokenizer: BLEUTokenizer = .thirteenA,
        lowercase: Bool = false
    ) -> MetricScore {
        precondition(
            hypotheses.count == references.count,
            "BLEU: \(hypotheses.count) hypotheses for \(references.count) references")
        var correct = [Int](repeating: 0, count: 4)
        var total = [Int](repeating: 0, count: 4)
        var systemLength = 0
        var referenceLength = 0
        for (h, r) in zip(hypotheses, references) {
            // sacreBLEU strips trailing whitespace before tokenizing.
            let (h, r) = lowercase ? (h.lowercased(), r.lowercased()) : (h, r)
            let hyp = tokenizer.tokenize(String(h.trimmingTrailingWhitespace())).split(
                separator: " "
            ).map(String.init)
            let ref = tokenizer.tokenize(String(r.trimmingTrailingWhitespace())).split(
                separator: " "
            ).map(String.init)
            systemLength += hyp.count
            referenceLength += ref.count
            for n in 1...4 {
                let hc = ngrams(hyp, n)
                let rc = ngrams(ref, n)
                for (gram, count) in hc { correct[n - 1] += min(count, rc[gram] ?? 0) }
                total[n - 1] += max(0, hyp.count - n + 1)
            }
        }
        let score = compute(
            correct: correct, total: total, systemLength: systemLength,
            referenceLength: referenceLength)
        let precisions = (0..<4).map {
            total[$0] > 0 ? 100 * Double(correct[$0]) / Double(total[$0]) : 0
        }
        let ratio = referenceLength > 0 ? Double(systemLength) / Double(referenceLength) : 0
        let bp =
            systemLength < referenceLength
            ? (systemLength > 0 ? exp(1 - Double(referenceLength) / Double(systemLength)) : 0) : 1
        let detail =
            precisions.map { String(format1($0)) }.joined(separator: "/")
            + " (BP = \(String(format3(bp))) ratio = \(String(format3(ratio))) hyp_len = \(systemLength) ref_len = \(referenceLength))"
        return MetricScore(
            name: "BLEU", score: score,
            signature:
                "nrefs:1|case:\(lowercase ? "lc" : "mixed")|eff:no|tok:\(tokenizer.rawValue)|smooth:exp|version:\(sacreBLEUVersion)",
            detail: detail)
    }

    static func compute(correct: [Int], total: [Int], systemLength: Int, referenceLength: Int)
        -> Double
    {
        var bp = 1.0
        if systemLength < referenceLength {
            bp = systemLength > 0 ? exp(1 - Double(referenceLength) / Double(systemLength)) : 0
        }
        if !correct.contains(where: { $0 > 0 }) { return 0 }
        var precisions = [Double](repeating: 0, count: 4)
        var smooth = 1.0
        for n in 1...4 {
            if total[n - 1] == 0 { break }
            if correct[n - 1] == 0 {
                smooth *= 2
                precisions[n - 1] = 100 / (smooth * Double(total[n - 1]))
            } else {
                precisions[n - 1] = 100 * Double(correct[n - 1]) / Double(total[n - 1])
            }
        }
        let logs = precisions.map { $0 == 0 ? -9_999_999_999.0 : log($0) }
        return bp * exp(logs.reduce(0, +) / 4)
    }

    static func ngrams(_ words: [String], _ n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        if words.count >= n {
            for i in 0...(words.count - n) { counts[Array(words[i..<(i + n)]), default: 0] += 1 }
        }
        return counts
    }
}

/// chrF (Popović 2015) as sacreBLEU computes it: character n-grams up to 6 with whitespace
/// removed, β = 2, statistics summed over the corpus, averaged over the effective orders.
public enum ChrF {
    /// Corpus chrF of `hypotheses` against one reference each, as sacreBLEU's default `chrF2`.
    public static func corpus(hypotheses: [String], references: [String]) -> MetricScore {
        precondition(
            hypotheses.count == references.count,
            "chrF: \(hypotheses.count) hypotheses for \(references.count) references")
        let order = 6
        var stats = [Int](repeating: 0, count: 3 * order)
        for (h, r) in zip(hypotheses, references) {
            let hyp = Array(h.unicodeScalars.filter { !$0.properties.isWhitespace })
            let ref = Array(r.unicodeScalars.filter { !$0.properties.isWhitespace })
            for n in 1...order {
                let hc = grams(hyp, n)
                let rc = grams(ref, n)
                var match = 0
                for (g, c) in hc { match += min(c, rc[g] ?? 0) }
                let refCount = max(0, ref.count - n + 1)
                // As sacreBLEU: hypothesis n-grams of an order the reference lacks do not count.
                stats[3 * (n - 1)] += refCount > 0 ? max(0, hyp.count - n + 1) : 0
                stats[3 * (n - 1) + 1] += refCount
                stats[3 * (n - 1) + 2] += match
            }
        }
        return MetricScore(
            name: "chrF2", score: score(stats, order: order),
            signature:
                "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:\(BLEU.sacreBLEUVersion)",
            detail: "")
    }

    static func grams(_ s: [Unicode.Scalar], _ n: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        if s.count >= n {
            for i in 0...(s.count - n) {
                var g = ""
                g.unicodeScalars.append(contentsOf: s[i..<(i + n)])
                counts[g, default: 0] += 1
            }
        }
        return counts
    }

    static func score(_ stats: [Int], order: Int) -> Double {
        let factor = 4.0  // β²
        var averagePrecision = 0.0
        var averageRecall = 0.0
        var effective = 0
        for i in 0..<order {
            let (hyp, ref, match) = (
                Double(stats[3 * i]), Double(stats[3 * i + 1]), Double(stats[3 * i + 2])
            )
            let precision = hyp > 0 ? match / hyp : 1e-16
            let recall = ref > 0 ? match / ref : 1e-16
            if hyp > 0 && ref > 0 {
                averagePrecision += precision
                averageRecall += recall
                effective += 1
            }
        }
        if effective == 0 { return 0 }
        averagePrecision /= Double(effective)
        averageRecall /= Double(effective)
        guard averagePrecision + averageRecall > 0 else { return 0 }
        return 100 * (1 + factor) * averagePrecision * averageRecall
            / (factor * averagePrecision + averageRecall)
    }
}

func format1(_ v: Double) -> String {
    let r = (v * 10).rounded() / 10
    return String(r)
}

func format3(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return String(r)
}

extension String {
    func trimmingTrailingWhitespace() -> Substring {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }

    func trimmingWhitespace() -> Substring {
        trimmingTrailingWhitespace().drop(while: \.isWhitespace)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
