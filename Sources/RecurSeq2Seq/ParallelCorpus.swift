import RecurBase
import RecurTensor
import RecurText
import Synchronization

/// Errors in parallel corpora.
public enum ParallelCorpusError: Error, Equatable, CustomStringConvertible {
    case missingTab(path: String, line: Int)
    case emptySide(path: String, line: Int, side: String)
    case noPairs(path: String, reason: String)

    /// One line naming the file, the line and what to do.
    public var description: String {
        switch self {
        case .missingTab(let path, let line):
            return
                "\(path):\(line): no tab between source and target; use --skip-bad-lines to skip such lines"
        case .emptySide(let path, let line, let side):
            return
                "\(path):\(line): the \(side) side is empty; use --skip-bad-lines to skip such lines"
        case .noPairs(let path, let reason): return "\(path): no usable sentence pairs (\(reason))"
        }
    }
}

/// A tokenized sentence pair.
public struct SentencePair: Sendable, Equatable {
    /// Source tokens.
    public var source: [String]
    /// Target tokens.
    public var target: [String]
    /// The untokenized source and target as read (for writing splits back out).
    public var sourceText: String
    /// The untokenized target as read.
    public var targetText: String

    /// A pair from its tokens; the texts default to the tokens joined by spaces.
    public init(
        source: [String], target: [String], sourceText: String? = nil, targetText: String? = nil
    ) {
        self.source = source
        self.target = target
        self.sourceText = sourceText ?? source.joined(separator: " ")
        self.targetText = targetText ?? target.joined(separator: " ")
    }
}

/// Vocabularies of a translation model: `<pad>` 0, `<s>` 1, `</s>` 2, `<unk>` 3, then the
/// units with at least `minCount` occurrences, by decreasing frequency (ties by spelling).
///
/// The units are words, or with `subwords` the byte-pair-encoded pieces of words (`zusammen@@`,
/// `arbeit`): `encode` splits words into pieces and `decode` joins them again, so callers always
/// see words.
public struct TranslationVocabulary: Sendable, Equatable, Codable {
    /// Padding (never predicted; masked out of the loss).
    public static let pad: Int32 = 0
    /// The decoder's first input, `<s>`.
    public static let start: Int32 = 1
    /// The end of a sentence, `</s>`.
    public static let end: Int32 = 2
    /// A word the vocabulary does not hold, `<unk>`.
    public static let unknown: Int32 = 3
    /// The special symbols, ids 0–3.
    public static let specials = ["<pad>", "<s>", "</s>", "<unk>"]

    /// The units by id: the specials, then words or subword pieces.
    public let words: [String]
    /// The subword model, when the units are word pieces.
    public let subwords: BytePairEncoding?
    private var index: [String: Int32] = [:]
    private let pieces = PieceCache()

    enum CodingKeys: String, CodingKey { case words, subwords }

    /// A vocabulary of `words` in id order (the specials first), with an optional subword model.
    public init(words: [String], subwords: BytePairEncoding? = nil) {
        self.words = words
        self.subwords = subwords
        for (i, w) in words.enumerated() where index[w] == nil { index[w] = Int32(i) }
    }

    /// Decodes the words and subword model (as checkpoints store them).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            words: try c.decode([String].self, forKey: .words),
            subwords: try c.decodeIfPresent(BytePairEncoding.self, forKey: .subwords))
    }

    /// Encodes the words and subword model.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(words, forKey: .words)
        try c.encodeIfPresent(subwords, forKey: .subwords)
    }

    /// Vocabularies are equal when their words and subword models are.
    public static func == (a: TranslationVocabulary, b: TranslationVocabulary) -> Bool {
        a.words == b.words && a.subwords == b.subwords
    }

    /// Builds from sentences of words (split into pieces by `subwords` when given).
    public init(sentences: [[String]], minCount: Int, subwords: BytePairEncoding? = nil) {
        var counts: [String: Int] = [:]
        for s in sentences { for w in s { counts[w, default: 0] += 1 } }
        if let subwords {
            var pieceCounts: [String: Int] = [:]
            for (w, n) in counts {
                for piece in subwords.split(w) { pieceCounts[piece, default: 0] += n }
            }
            counts = pieceCounts
        }
        let kept = counts.filter { $0.value >= minCount }.sorted {
            $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key
        }
        self.init(words: TranslationVocabulary.specials + kept.map(\.key), subwords: subwords)
    }

    /// The number of units, specials included.
    public var count: Int { words.count }

    /// Ids of a sentence of words (unknown units → `<unk>`), and the words with an unknown unit.
    public func encode(_ sentence: [String]) -> (ids: [Int32], unknown: [String]) {
        var ids: [Int32] = []
        var unknown: [String] = []
        ids.reserveCapacity(sentence.count)
        for w in sentence {
            if let subwords {
                let units = pieces.ids(of: w) { word in
                    subwords.split(word) { index[$0] != nil }.map {
                        index[$0] ?? TranslationVocabulary.unknown
                    }
                }
                if units.contains(TranslationVocabulary.unknown) { unknown.append(w) }
                ids += units
            } else if let id = index[w] {
                ids.append(id)
            } else {
                ids.append(TranslationVocabulary.unknown)
                unknown.append(w)
            }
        }
        return (ids, unknown)
    }

    /// The id of a unit, or nil when it is not in the vocabulary.
    public func id(of word: String) -> Int32? { index[word] }

    /// Words of ids, stopping at `</s>` and skipping padding and `<s>` (pieces joined).
    public func decode(_ ids: [Int32]) -> [String] {
        var out: [String] = []
        for id in ids {
            if id == TranslationVocabulary.end { break }
            if id == TranslationVocabulary.pad || id == TranslationVocabulary.start { continue }
            out.append(Int(id) < words.count ? words[Int(id)] : "<unk>")
        }
        return subwords == nil ? out : BytePairEncoding.join(out)
    }
}

/// Ids of the pieces of words already split (training encodes the same words every epoch).
final class PieceCache: Sendable {
    private let cache = Mutex<[String: [Int32]]>([:])

    func ids(of word: String, split: (String) -> [Int32]) -> [Int32] {
        if let hit = cache.withLock({ $0[word] }) { return hit }
        let ids = split(word)
        cache.withLock { if $0.count < 1 << 20 { $0[word] = ids } }
        return ids
    }
}

/// A parallel corpus read from a tab-separated file: source, target and any extra columns
/// (ignored), as the Tatoeba/Anki exports that tutorials use.
public struct ParallelCorpus: Sendable {
    /// The usable pairs, in file order.
    public var pairs: [SentencePair]
    /// Lines skipped with `skipBadLines`, and pairs dropped by the length filter.
    public var skippedLines: Int
    /// Pairs dropped because a side was longer than `maxLength`.
    public var filteredPairs: Int

    /// Reads and tokenizes `path`.
    ///
    /// - Parameters:
    ///   - path: the tab-separated file.
    ///   - tokenizer: splits each side into tokens.
    ///   - maxLength: keep pairs whose sides both have 1…maxLength tokens (0: no limit).
    ///   - skipBadLines: skip lines without a tab or with an empty side instead of failing.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    public static func load(
        path: String, tokenizer: WordTokenizer, maxLength: Int = 0, skipBadLines: Bool = false,
        lossy: Bool = false
    ) throws -> ParallelCorpus {
        let text = try TextFile.read(path, lossy: lossy)
        var pairs: [SentencePair] = []
        var skipped = 0
        var filtered = 0
        for (number, line) in TextLines.split(text).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2 else {
                if skipBadLines {
                    skipped += 1
                    continue
                }
                throw ParallelCorpusError.missingTab(path: path, line: number + 1)
            }
            let source = tokenizer.tokens(String(fields[0]))
            let target = tokenizer.tokens(String(fields[1]))
            if source.isEmpty || target.isEmpty {
                if skipBadLines {
                    skipped += 1
                    continue
                }
                throw ParallelCorpusError.emptySide(
                    path: path, line: number + 1, side: source.isEmpty ? "source" : "target")
            }
            if maxLength > 0 && (source.count > maxLength || target.count > maxLength) {
                filtered += 1
                continue
            }
            pairs.append(
                SentencePair(
                    source: source, target: target, sourceText: String(fields[0]),
                    targetText: String(fields[1])))
        }
        guard !pairs.isEmpty else {
            throw ParallelCorpusError.noPairs(
                path: path,
                reason: filtered > 0
                    ? "all \(filtered) pairs are longer than --max-length \(maxLength)"
                    : "the file has no pairs")
        }
        return ParallelCorpus(pairs: pairs, skippedLines: skipped, filteredPairs: filtered)
    }

    /// A seeded split into training, validation and test pairs (shuffled first).
    public func split(validation: Double, test: Double, seed: UInt64) -> (
        train: [SentencePair], validation: [SentencePair], test: [SentencePair]
    ) {
        var order = Array(pairs.indices)
        var rng = Xoshiro256(seed: seed)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.nextInt(below: i + 1))
        }
        let n = order.count
        let testCount = test > 0 ? max(1, Int(Double(n) * test)) : 0
        let validationCount = validation > 0 ? max(1, Int(Double(n) * validation)) : 0
        let shuffled = order.map { pairs[$0] }
        let testPairs = Array(shuffled.prefix(testCount))
        let validationPairs = Array(shuffled.dropFirst(testCount).prefix(validationCount))
        let train = Array(shuffled.dropFirst(testCount + validationCount))
        return (train.isEmpty ? shuffled : train, validationPairs, testPairs)
    }
}

/// A batch of encoded pairs, time-major and padded.
public struct TranslationBatch: Sendable {
    /// `[S·B]`, `source[s·B + b]`, padded with `<pad>`.
    public var source: [Int32]
    /// Each pair's source length (before padding).
    public var sourceLengths: [Int]
    /// Decoder inputs `<s> y…` and outputs `y… </s>`, `[T·B]`, padded.
    public var targetInput: [Int32]
    /// The decoder's targets `y… </s>`, `[T·B]`, padded.
    public var targetOutput: [Int32]
    /// Pairs in the batch (B).
    public var batch: Int
    /// The longest source length (S).
    public var sourceSteps: Int
    /// The longest target length plus one (T).
    public var targetSteps: Int
    /// Indices of the pairs in their list.
    public var indices: [Int]

    /// Encodes pairs `indices` of `pairs`.
    public init(
        pairs: [SentencePair], indices: [Int], source sv: TranslationVocabulary,
        target tv: TranslationVocabulary
    ) {
        let sources = indices.map { sv.encode(pairs[$0].source).ids }
        let targets = indices.map { tv.encode(pairs[$0].target).ids }
        self.init(sources: sources, targets: targets, indices: indices)
    }

    /// Encodes id sequences (targets may be empty for decoding).
    public init(sources: [[Int32]], targets: [[Int32]], indices: [Int]) {
        let b = sources.count
        batch = b
        self.indices = indices
        sourceSteps = sources.map(\.count).max() ?? 1
        targetSteps = (targets.map(\.count).max() ?? 0) + 1
        sourceLengths = sources.map(\.count)
        source = [Int32](repeating: TranslationVocabulary.pad, count: sourceSteps * b)
        targetInput = [Int32](repeating: TranslationVocabulary.pad, count: targetSteps * b)
        targetOutput = [Int32](repeating: TranslationVocabulary.pad, count: targetSteps * b)
        for (row, s) in sources.enumerated() {
            for (t, id) in s.enumerated() { source[t * b + row] = id }
        }
        for (row, y) in targets.enumerated() where !targets.isEmpty {
            targetInput[row] = TranslationVocabulary.start
            for (t, id) in y.enumerated() {
                targetInput[(t + 1) * b + row] = id
                targetOutput[t * b + row] = id
            }
            targetOutput[y.count * b + row] = TranslationVocabulary.end
        }
    }

    /// Length-bucketed batches: pairs sorted by source then target length, cut into batches,
    /// batch order shuffled with `rng` (similar lengths waste little padding).
    public static func buckets(pairs: [SentencePair], batchSize: Int, rng: inout Xoshiro256)
        -> [[Int]]
    {
        var order = Array(pairs.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.nextInt(below: i + 1))
        }
        order.sort {
            (pairs[$0].source.count, pairs[$0].target.count) < (
                pairs[$1].source.count, pairs[$1].target.count
            )
        }
        var batches = stride(from: 0, to: order.count, by: batchSize).map {
            Array(order[$0..<min($0 + batchSize, order.count)])
        }
        for i in stride(from: batches.count - 1, to: 0, by: -1) {
            batches.swapAt(i, rng.nextInt(below: i + 1))
        }
        return batches
    }
}

/// Joins output tokens into text: with spaces, except around CJK ideographs and CJK
/// punctuation, which Chinese and Japanese write without them (`我 爱 你 。` → `我爱你。`).
public enum Detokenizer {
    /// Joins `tokens` into one line of text.
    public static func join(_ tokens: [String]) -> String {
        var out = ""
        var previousIsCJK = false
        for (i, token) in tokens.enumerated() {
            let isCJK =
                token.unicodeScalars.count == 1 && token.unicodeScalars.first.map(isCJK) == true
            if i > 0 && !(isCJK && previousIsCJK) { out += " " }
            out += token
            previousIsCJK = isCJK
        }
        return out
    }

    /// CJK ideographs (as the tokenizer splits them) and CJK or full-width punctuation.
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return WordTokenizer.isIdeograph(Int32(v)) || (0x3000...0x303F).contains(v)
            || (0xFF00...0xFFEF).contains(v)
    }
}
