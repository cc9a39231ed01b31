import RecurBase
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

/// An open-addressing hash table from word bytes to ids, with the words stored in one arena
/// (no allocation per lookup; the C tool's vocab hash, in Swift).
public struct WordTable: Sendable {
    private var arena: [UInt8] = []
    private var starts: [Int] = []  // id → offset in arena; starts[id + 1] is the end
    private var slots: [Int32]  // -1 empty
    private var mask: Int

    /// An empty table sized for about `capacity` words (it grows as needed).
    public init(capacity: Int = 1 << 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
        starts = [0]
    }

    /// Number of words.
    public var count: Int { starts.count - 1 }

    @inline(__always)
    static func hash(_ w: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in w {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// The bytes of word `id`.
    public func word(_ id: Int) -> ArraySlice<UInt8> { arena[starts[id]..<starts[id + 1]] }

    /// The word as a String.
    public func string(_ id: Int) -> String { String(decoding: word(id), as: UTF8.self) }

    @inline(__always)
    private func equal(_ id: Int, _ w: UnsafeBufferPointer<UInt8>) -> Bool {
        let s = starts[id]
        let n = starts[id + 1] - s
        guard n == w.count else { return false }
        return arena.withUnsafeBufferPointer { a in
            memcmp(a.start + s, w.start, n) == 0
        }
    }

    /// The id of `w`, or nil.
    @inline(__always)
    public func id(of w: UnsafeBufferPointer<UInt8>) -> Int? {
        if w.isEmpty { return nil }
        var slot = WordTable.hash(w) & mask
        while true {
            let id = slots[slot]
            if id < 0 { return nil }
            if equal(Int(id), w) { return Int(id) }
            slot = (slot + 1) & mask
        }
    }

    /// The id of `w`, adding it when new.
    @discardableResult
    public mutating func insert(_ w: UnsafeBufferPointer<UInt8>) -> Int {
        if let id = id(of: w) { return id }
        if count * 2 >= slots.count { grow() }
        arena.append(contentsOf: w)
        starts.append(arena.count)
        let id = count - 1
        var slot = WordTable.hash(w) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(id)
        return id
    }

    /// Adds a word given as a String.
    @discardableResult
    public mutating func insert(_ word: String) -> Int {
        Array(word.utf8).withUnsafeBufferPointer { insert($0) }
    }

    /// The id of a word given as a String.
    public func id(of word: String) -> Int? {
        Array(word.utf8).withUnsafeBufferPointer { id(of: $0) }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for id in 0..<count {
            arena.withUnsafeBufferPointer { a in
                let w = UnsafeBufferPointer(rebasing: a[starts[id]..<starts[id + 1]])
                var slot = WordTable.hash(w) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(id)
            }
        }
    }
}

/// The words a model learns vectors for, sorted by decreasing frequency, with their counts.
public struct WordVocabulary: Sendable {
    /// Ids follow descending count (ties by bytes), so the most frequent words come first.
    public private(set) var table: WordTable
    /// Occurrences of each word in the corpus, by id.
    public private(set) var counts: [Int]
    /// Words in the corpus (before min-count), and tokens of kept words.
    public var corpusWords: Int
    /// Tokens of kept words in the corpus (one epoch's work).
    public var trainingWords: Int { counts.reduce(0, +) }

    /// The number of kept words.
    public var count: Int { counts.count }

    /// Counts the words of a corpus file (streamed) and keeps those with at least `minCount`
    /// occurrences (at most `maxWords` of them when positive).
    public static func build(
        path: String, tokenizer: WordTokenizer, minCount: Int, maxWords: Int = 0
    ) throws -> WordVocabulary {
        let size = try fileSize(path)
        var all = WordTable(capacity: 1 << 17)
        var counts: [Int] = []
        var total = 0
        var stream = try TokenStream(path: path, range: 0..<size, tokenizer: tokenizer)
        defer { stream.close() }
        while try stream.next({ token in
            if token.isEmpty { return }
            let id = all.insert(token)
            if id == counts.count { counts.append(0) }
            counts[id] += 1
            total += 1
        }) {}
        return WordVocabulary(
            from: all, counts: counts, corpusWords: total, minCount: minCount, maxWords: maxWords)
    }

    /// Keeps the words of `all` with at least `minCount` occurrences, sorted by count.
    public init(
        from all: WordTable, counts allCounts: [Int], corpusWords: Int, minCount: Int,
        maxWords: Int = 0
    ) {
        var kept = (0..<allCounts.count).filter { allCounts[$0] >= minCount }
        kept.sort { a, b in
            allCounts[a] != allCounts[b]
                ? allCounts[a] > allCounts[b] : all.word(a).lexicographicallyPrecedes(all.word(b))
        }
        if maxWords > 0 && kept.count > maxWords { kept.removeLast(kept.count - maxWords) }
        var table = WordTable(capacity: max(kept.count, 16))
        var counts: [Int] = []
        counts.reserveCapacity(kept.count)
        for old in kept {
            Array(all.word(old)).withUnsafeBufferPointer { _ = table.insert($0) }
            counts.append(allCounts[old])
        }
        self.table = table
        self.counts = counts
        self.corpusWords = corpusWords
    }

    /// A vocabulary from explicit words and counts (for `--read-vocab` and tests).
    public init(words: [String], counts: [Int]) {
        var table = WordTable(capacity: max(words.count, 16))
        for w in words { table.insert(w) }
        self.table = table
        self.counts = counts
        corpusWords = counts.reduce(0, +)
    }

    /// The C tool's vocabulary file: `word count` per line.
    public func savedText() -> String {
        (0..<count).map { "\(table.string($0)) \(counts[$0])" }.joined(separator: "\n") + "\n"
    }

    /// Reads a vocabulary saved with `--save-vocab` (the C tool's format).
    public static func read(path: String, minCount: Int, maxWords: Int = 0) throws -> WordVocabulary
    {
        let text = try TextFile.read(path)
        var all = WordTable()
        var counts: [Int] = []
        for (number, line) in TextLines.split(text).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Counts are bounded so that sums over them cannot overflow (2^48 is far above any corpus).
            guard fields.count == 2, let c = Int(fields[1]), c >= 0, c <= 1 << 48 else {
                throw TextError.malformedLine(
                    path: path, line: number + 1, reason: "expected `word count` (count 0…2^48)")
            }
            let id = all.insert(String(fields[0]))
            if id == counts.count { counts.append(0) }
            counts[id] += c
        }
        return WordVocabulary(
            from: all, counts: counts, corpusWords: counts.reduce(0, +), minCount: minCount,
            maxWords: maxWords)
    }

    /// The size of a corpus file, which must be a regular file (a FIFO would hang, a device
    /// never end).
    static func fileSize(_ path: String) throws -> Int {
        do {
            return try SafeRead.regularFileSize(path)
        } catch {
            throw TextError(error)
        }
    }
}
