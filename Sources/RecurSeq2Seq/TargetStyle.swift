import RecurText

/// How the target language is written, learned from the training targets, so that a model
/// trained on lower-cased, punctuation-split tokens prints text a person can use:
/// `je mange du pain .` → `Je mange du pain.`.
///
/// - **Case** (truecasing as Moses' `truecase.perl` does it): each word takes the form it is
///   most often written in where case carries meaning, i.e. not at the start of a sentence
///   (`tom` → `Tom`, `i` → `I`, German `haus` → `Haus`); sentences start with a capital when
///   the training targets mostly do.
/// - **Spacing** (what Moses' `detokenizer.perl` does with rules per language, learned here
///   instead, so that any language works): for each gap between a punctuation or symbol token
///   and its neighbour, described by the token and the neighbour's shape (a word, a number, or
///   the other token itself), whether the training targets mostly write a space there. So
///   `,` and `.` attach to the word before them in English and German, `?` keeps its space
///   in French, `(` `¿` `„` attach to the word after them, `.` joins digits (`2.30`) but not
///   sentences, `'` joins `don't` and `l'homme`. A token that is as often opening as closing
///   (`"`) alternates, as Moses does with quotes. Gaps seen fewer than `minimumCount` times
///   follow Moses' rules for English, and tokens those rules do not name the side most of
///   their gaps take.
public struct TargetStyle: Codable, Sendable, Equatable {
    /// Lower-cased word → the form it is written in, where they differ.
    public var casing: [String: String]
    /// Gap (`"<word> ."`, `". <num>"`, `"( <word>"`, …) → whether a space is written there.
    public var spacing: [String: Bool]
    /// Tokens written without a space before them where `spacing` does not say.
    public var attachLeft: [String]
    /// Tokens written without a space after them where `spacing` does not say.
    public var attachRight: [String]
    /// Tokens that alternate between opening (attach right) and closing (attach left).
    public var paired: [String]
    /// Whether sentences start with a capital letter.
    public var capitalizeSentences: Bool

    /// Occurrences in the training targets before a token's own casing or spacing is trusted.
    public static let minimumCount = 3

    /// Moses' English rules: what a style falls back on for gaps it has not seen often.
    public static let moses = TargetStyle(
        casing: [:], spacing: [:],
        attachLeft: [".", ",", "!", "?", ":", ";", "%", ")", "]", "}", "…", "”", "’", "»"],
        attachRight: ["(", "[", "{", "¿", "¡", "“", "‘", "«", "„", "$", "£", "€", "#"],
        paired: ["\""], capitalizeSentences: true)

    /// A style from its parts (see the properties).
    public init(
        casing: [String: String], spacing: [String: Bool], attachLeft: [String],
        attachRight: [String], paired: [String],
        capitalizeSentences: Bool
    ) {
        self.casing = casing
        self.spacing = spacing
        self.attachLeft = attachLeft
        self.attachRight = attachRight
        self.paired = paired
        self.capitalizeSentences = capitalizeSentences
    }

    /// Counts of one kind of gap: how often it was seen, and how often without a space.
    private struct Count {
        var seen = 0
        var joined = 0
        mutating func add(_ isJoined: Bool) {
            seen += 1
            if isJoined { joined += 1 }
        }
        /// Whether most occurrences are joined, when there are enough to say.
        var majority: Bool? { seen >= TargetStyle.minimumCount ? 2 * joined > seen : nil }
    }

    /// Learns the style of `texts` (untokenized target sentences) as `tokenizer` splits them.
    public init(learningFrom texts: some Sequence<String>, tokenizer: WordTokenizer) {
        var forms: [String: [String: Int]] = [:]
        var gaps: [String: Count] = [:]
        var before: [String: Count] = [:]
        var after: [String: Count] = [:]
        var opening: [String: Int] = [:]
        var closing: [String: Int] = [:]
        var occurrences: [String: Int] = [:]
        var sentences = 0
        var capitalized = 0
        for text in texts {
            let tokens = tokenizer.writtenTokens(text)
            var initial = true
            var firstWord = true
            for (i, t) in tokens.enumerated() {
                if TargetStyle.isWord(t.token) {
                    if firstWord, TargetStyle.hasCase(t.written) {
                        sentences += 1
                        if TargetStyle.startsUpper(t.written) { capitalized += 1 }
                    }
                    firstWord = false
                    if !initial { forms[t.token, default: [:]][t.written, default: 0] += 1 }
                    initial = false
                } else if TargetStyle.endsSentence(t.token) {
                    initial = true
                }
                guard i + 1 < tokens.count else { continue }
                let next = tokens[i + 1]
                let joined = !next.spaceBefore
                let (aIsWord, bIsWord) = (
                    TargetStyle.isWord(t.token), TargetStyle.isWord(next.token)
                )
                if aIsWord && bIsWord { continue }  // two words: spaced (CJK aside)
                gaps[
                    TargetStyle.shape(t.token) + " " + TargetStyle.shape(next.token),
                    default: Count()
                ].add(joined)
                // Per token, against words only: between two punctuation tokens (`".`, `...`)
                // either could decide.
                if bIsWord {
                    after[t.token, default: Count()].add(joined)
                    occurrences[t.token, default: 0] += 1
                    let attachedBefore = i > 0 && !t.spaceBefore
                    if joined && !attachedBefore { opening[t.token, default: 0] += 1 }
                    if attachedBefore && !joined { closing[t.token, default: 0] += 1 }
                }
                if aIsWord {
                    before[next.token, default: Count()].add(joined)
                    if i + 2 == tokens.count {
                        occurrences[next.token, default: 0] += 1
                        if joined { closing[next.token, default: 0] += 1 }
                    }
                }
            }
        }
        var casing: [String: String] = [:]
        for (word, counts) in forms {
            // The most frequent form; ties go to the lower-cased one, then by spelling.
            let best = counts.max { a, b in
                a.value != b.value
                    ? a.value < b.value : (a.key == word ? false : b.key == word || a.key > b.key)
            }
            if let best, best.key != word { casing[word] = best.key }
        }
        var paired = Set(TargetStyle.moses.paired)
        for (token, n) in occurrences where n >= TargetStyle.minimumCount {
            // Quotes: as often opening a span as closing one.
            if 4 * opening[token, default: 0] >= n && 4 * closing[token, default: 0] >= n {
                paired.insert(token)
            } else {
                paired.remove(token)
            }
        }
        var spacing: [String: Bool] = [:]
        for (gap, count) in gaps {
            let tokens = gap.split(separator: " ").map(String.init)
            if tokens.contains(where: paired.contains) { continue }
            if let joined = count.majority { spacing[gap] = !joined }
        }
        var left = Set(TargetStyle.moses.attachLeft)
        var right = Set(TargetStyle.moses.attachRight)
        // Tokens Moses' tables do not name take the side their counts over all gaps give; the
        // gaps themselves (above) override the tables where they were seen often enough.
        let known = left.union(right).union(paired)
        for (token, count) in before where !known.contains(token) && count.majority == true {
            left.insert(token)
        }
        for (token, count) in after where !known.contains(token) && count.majority == true {
            right.insert(token)
        }
        self.init(
            casing: casing, spacing: spacing, attachLeft: left.subtracting(paired).sorted(),
            attachRight: right.subtracting(paired).sorted(),
            paired: paired.sorted(),
            capitalizeSentences: sentences == 0 || 2 * capitalized >= sentences)
    }

    /// Text of model tokens (lower-cased, split) as the target language writes it.
    public func render(_ tokens: [String]) -> String {
        let left = Set(attachLeft)
        let right = Set(attachRight)
        let pairedSet = Set(paired)
        var out = ""
        var initial = capitalizeSentences
        var previous: String?
        var previousOpens = false
        var openPairs: Set<String> = []
        for token in tokens {
            var written = casing[token] ?? token
            if TargetStyle.isWord(token) {
                if initial { written = UnicodeText.capitalizingFirst(written) }
                initial = false
            } else if TargetStyle.endsSentence(token) && capitalizeSentences {
                initial = true
            }
            var opens = false
            var closes = false
            if pairedSet.contains(token) {
                closes = openPairs.contains(token)
                opens = !closes
                if closes { openPairs.remove(token) } else { openPairs.insert(token) }
            }
            if let previous {
                let space: Bool
                if closes || previousOpens {
                    space = false
                } else if opens {
                    space = !right.contains(previous)
                } else if pairedSet.contains(previous) {
                    space = !left.contains(token)  // after a closing quote
                } else if let learned = spacing[
                    TargetStyle.shape(previous) + " " + TargetStyle.shape(token)]
                {
                    space = learned
                } else if TargetStyle.isCJK(previous) && TargetStyle.isCJK(token) {
                    space = false
                } else {
                    space = !(left.contains(token) || right.contains(previous))
                }
                if space { out += " " }
            }
            out += written
            previous = token
            previousOpens = opens
        }
        return out
    }

    /// A token as a gap sees it: `<num>` for numbers, `<word>` for other words, else itself.
    static func shape(_ token: String) -> String {
        guard isWord(token) else { return token }
        return token.unicodeScalars.allSatisfy {
            UnicodeText.characterClass(Int32(bitPattern: $0.value)) == .number
        } ? "<num>" : "<word>"
    }

    /// Whether a token is a word (letters, digits, marks), not punctuation or a symbol.
    static func isWord(_ token: String) -> Bool {
        token.unicodeScalars.contains { s in
            let c = UnicodeText.characterClass(Int32(bitPattern: s.value))
            return c == .letter || c == .number
        }
    }

    static func isCJK(_ token: String) -> Bool {
        token.unicodeScalars.count == 1 && token.unicodeScalars.first.map(Detokenizer.isCJK) == true
    }

    static func endsSentence(_ token: String) -> Bool {
        token == "." || token == "!" || token == "?" || token == "…" || token == "。" || token == "！"
            || token == "？"
    }

    static func hasCase(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first else { return false }
        return first.properties.changesWhenCaseMapped
    }

    static func startsUpper(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first else { return false }
        return first.properties.isUppercase || first.properties.changesWhenLowercased
    }
}
