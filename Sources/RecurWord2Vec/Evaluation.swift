import RecurBase
import RecurTensor
import RecurText

/// Accuracy on an analogy file in the questions-words format.
public struct AnalogyReport: Sendable {
    /// One section of the question file (`: capital-common-countries`, …).
    public struct Section: Sendable {
        /// The section's name, without the leading `: `.
        public var name: String
        /// Questions answered correctly.
        public var correct: Int
        /// Questions whose four words are all in the vocabulary.
        public var answered: Int
        /// Questions skipped because a word is outside the vocabulary.
        public var skipped: Int
        /// `correct / answered`, 0–1 (NaN when nothing was answered).
        public var accuracy: Double { answered > 0 ? Double(correct) / Double(answered) : .nan }
        /// Sections whose name starts with `gram` are syntactic (Mikolov et al.'s split).
        public var isSyntactic: Bool { name.hasPrefix("gram") }
    }

    /// The sections in file order.
    public var sections: [Section]

    func total(_ filter: (Section) -> Bool) -> (correct: Int, answered: Int, skipped: Int) {
        sections.filter(filter).reduce((0, 0, 0)) {
            ($0.0 + $1.correct, $0.1 + $1.answered, $0.2 + $1.skipped)
        }
    }

    /// Accuracy over all answered questions, 0–1.
    public var accuracy: Double {
        let t = total { _ in true }
        return t.answered > 0 ? Double(t.correct) / Double(t.answered) : .nan
    }
    /// Accuracy over the semantic sections (names not starting with `gram`).
    public var semanticAccuracy: Double {
        let t = total { !$0.isSyntactic }
        return t.answered > 0 ? Double(t.correct) / Double(t.answered) : .nan
    }
    /// Accuracy over the syntactic sections (`gram…`).
    public var syntacticAccuracy: Double {
        let t = total { $0.isSyntactic }
        return t.answered > 0 ? Double(t.correct) / Double(t.answered) : .nan
    }
    /// The share of questions skipped because a word is outside the (restricted) vocabulary.
    public var skippedFraction: Double {
        let t = total { _ in true }
        return t.answered + t.skipped > 0 ? Double(t.skipped) / Double(t.answered + t.skipped) : 0
    }
    /// Questions answered (all four words known).
    public var questions: Int { total { _ in true }.answered }
}

/// Correlation with human similarity judgements.
public struct SimilarityReport: Sendable {
    /// Pearson's r between cosine similarities and the human scores.
    public var pearson: Double
    /// Spearman's ρ between cosine similarities and the human scores.
    public var spearman: Double
    /// Pairs scored (both words known).
    public var pairs: Int
    /// Share of pairs with a word outside the vocabulary (skipped).
    public var outOfVocabularyFraction: Double
}

extension KeyedVectors {
    /// The case-insensitive lookup gensim's evaluators use: a word maps to the most frequent
    /// vector among its case variants, within the first `restrict` words.
    func caseInsensitiveIndex(restrict: Int) -> [String: Int] {
        var map: [String: Int] = [:]
        for i in 0..<min(restrict, count) {
            let key = words[i].uppercased()
            if map[key] == nil { map[key] = i }
        }
        return map
    }

    /// Evaluates "a b c d" questions (`: section` headers), as gensim's
    /// `evaluate_word_analogies`: the vocabulary is restricted to the `restrict` most frequent
    /// words, words are compared case-insensitively, questions with an unknown word are skipped,
    /// and the answer is the best word other than a, b and c.
    public func evaluateAnalogies(
        path: String, restrict: Int = 30_000, method: AnalogyMethod = .add
    ) throws -> AnalogyReport {
        let text = try TextFile.read(path)
        let lookup = caseInsensitiveIndex(restrict: restrict)
        var sections: [AnalogyReport.Section] = []
        let limit = min(restrict, count)
        for (number, raw) in TextLines.split(text).enumerated() {
            let line = String(raw).trimmingCharacters()
            if line.isEmpty { continue }
            if line.hasPrefix(":") {
                sections.append(
                    .init(
                        name: String(line.dropFirst()).trimmingCharacters(), correct: 0,
                        answered: 0, skipped: 0))
                continue
            }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
                String($0).uppercased()
            }
            guard parts.count == 4 else {
                throw TextError.malformedLine(
                    path: path, line: number + 1,
                    reason: "expected four words or a `: section` line")
            }
            if sections.isEmpty {
                sections.append(.init(name: "analogies", correct: 0, answered: 0, skipped: 0))
            }
            let ids = parts.map { lookup[$0] }
            guard let a = ids[0], let b = ids[1], let c = ids[2], let d = ids[3] else {
                sections[sections.count - 1].skipped += 1
                continue
            }
            let best = analogyScores(a, b, c, method: method, count: 1, limit: limit).first?.0
            sections[sections.count - 1].answered += 1
            if best == d { sections[sections.count - 1].correct += 1 }
        }
        return AnalogyReport(sections: sections)
    }

    /// Evaluates `word1 word2 score` lines (tab- or space-separated, `#` comments), as gensim's
    /// `evaluate_word_pairs`: Pearson and Spearman correlation between human scores and cosine
    /// similarities, pairs with unknown words skipped and counted.
    public func evaluatePairs(path: String, restrict: Int = 300_000) throws -> SimilarityReport {
        let text = try TextFile.read(path)
        let lookup = caseInsensitiveIndex(restrict: restrict)
        var human: [Double] = []
        var model: [Double] = []
        var skipped = 0
        let d = dimensions
        let unit = unitVectors  // built once, not per pair
        for (number, raw) in TextLines.split(text).enumerated() {
            let line = String(raw).trimmingCharacters()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard parts.count >= 3, let score = Double(parts[2]) else {
                throw TextError.malformedLine(
                    path: path, line: number + 1, reason: "expected `word1 word2 score`")
            }
            guard let i = lookup[parts[0].uppercased()], let j = lookup[parts[1].uppercased()]
            else {
                skipped += 1
                continue
            }
            let cosine = unit.withUnsafeBufferPointer {
                RecurTensorDot.dot($0.start + i * d, $0.start + j * d, count: d)
            }
            human.append(score)
            model.append(Double(cosine))
        }
        let total = human.count + skipped
        return SimilarityReport(
            pearson: Statistics.pearson(human, model), spearman: Statistics.spearman(human, model),
            pairs: human.count,
            outOfVocabularyFraction: total > 0 ? Double(skipped) / Double(total) : 0)
    }
}

/// Indirection so `Evaluation.swift` reads clearly.
enum RecurTensorDot {
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        VectorMath.dot(a, b, count: count)
    }
}

/// Correlation coefficients.
public enum Statistics {
    /// Pearson's correlation coefficient of two equally long samples.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard x.count == y.count, x.count > 1 else { return .nan }
        let mx = x.reduce(0, +) / n
        let my = y.reduce(0, +) / n
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        for i in 0..<x.count {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
    }

    /// Ranks with ties sharing their average rank (as scipy's `rankdata`).
    public static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var ranks = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }

    /// Spearman's rank correlation (ties get their mean rank).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(ranks(x), ranks(y))
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
