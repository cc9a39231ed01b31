import HeapModule

/// Byte-pair encoding of words into subword units (Sennrich, Haddow & Birch 2016, "Neural
/// Machine Translation of Rare Words with Subword Units"), as subword-nmt does it: learned on
/// word counts by merging the most frequent adjacent pair of symbols `merges` times, applied
/// to a word by merging its characters in the order the merges were learned.
///
/// Every unit but a word's last carries the continuation mark `@@` (`zusammenarbeit` → `zusammen@@
/// arbeit`), so that `join` puts words back together.
///
/// Words are split into Unicode scalars; the last one carries the end-of-word mark `</w>`, so
/// that a unit learned at the end of words is not used inside them. Merges, ties (the pair
/// that sorts last wins) and splits are subword-nmt's, so the two learn the same merges from
/// the same words (tested against fixtures from `Scripts/make_bpe_fixtures.py`).
public struct BytePairEncoding: Sendable, Equatable, Codable {
    /// Marks a piece that the next piece continues (`zusammen@@ arbeit`), as subword-nmt writes it.
    public static let continuation = "@@"
    static let endOfWord = "</w>"

    /// The merges, in the order learned: each the two symbols joined (the last may end in `</w>`).
    public let merges: [[String]]
    private var rank: [String: Int] = [:]
    /// The merge that made each unit.
    private var origin: [String: (String, String)] = [:]

    enum CodingKeys: String, CodingKey { case merges }

    /// A model from learned merges, each a pair of symbols, in the order they were learned.
    public init(merges: [[String]]) {
        self.merges = merges
        for (i, m) in merges.enumerated() where m.count == 2 {
            let key = m[0] + "\u{0}" + m[1]
            if rank[key] == nil { rank[key] = i }
            if origin[m[0] + m[1]] == nil { origin[m[0] + m[1]] = (m[0], m[1]) }
        }
    }

    /// Decodes the merges (as checkpoints store them).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(merges: try c.decode([[String]].self, forKey: .merges))
    }

    /// Encodes the merges.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(merges, forKey: .merges)
    }

    /// Models are equal when their merges are.
    public static func == (a: BytePairEncoding, b: BytePairEncoding) -> Bool {
        a.merges == b.merges
    }

    /// Learns `count` merges (fewer if the words run out of pairs) from word frequencies.
    ///
    /// Deterministic: ties go to the pair whose symbols sort first.
    public init(learningFrom counts: [String: Int], merges count: Int) {
        // Symbols interned as integers; words as symbol sequences ending in `</w>`.
        var symbols: [String] = []
        var symbolID: [String: Int32] = [:]
        func intern(_ s: String) -> Int32 {
            if let id = symbolID[s] { return id }
            let id = Int32(symbols.count)
            symbols.append(s)
            symbolID[s] = id
            return id
        }
        let sortedWords = counts.filter { $0.value > 0 && !$0.key.isEmpty }.sorted {
            $0.key < $1.key
        }
        var words: [[Int32]] = []
        var frequency: [Int] = []
        for (word, n) in sortedWords {
            var units = word.unicodeScalars.map { String($0) }
            units[units.count - 1] += BytePairEncoding.endOfWord
            words.append(units.map(intern))
            frequency.append(n)
        }
        @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 {
            UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
        }
        var pairCount: [UInt64: Int] = [:]
        var pairWords: [UInt64: Set<Int>] = [:]
        for (i, w) in words.enumerated() {
            for j in 0..<max(w.count - 1, 0) {
                let k = key(w[j], w[j + 1])
                pairCount[k, default: 0] += frequency[i]
                pairWords[k, default: []].insert(i)
            }
        }
        /// A heap entry: a pair's count when pushed; stale entries are skipped when popped.
        struct Entry: Comparable {
            var count: Int
            var first: String
            var second: String
            var key: UInt64
            static func < (a: Entry, b: Entry) -> Bool {
                // Max-heap by count; ties: the pair that sorts last by code points wins, as
                // subword-nmt's `max(stats, key=lambda x: (stats[x], x))`.
                if a.count != b.count { return a.count < b.count }
                if a.first != b.first {
                    return a.first.unicodeScalars.lexicographicallyPrecedes(b.first.unicodeScalars)
                }
                return a.second.unicodeScalars.lexicographicallyPrecedes(b.second.unicodeScalars)
            }
            static func == (a: Entry, b: Entry) -> Bool { a.key == b.key && a.count == b.count }
        }
        var heap = Heap<Entry>()
        for (k, n) in pairCount {
            heap.insert(
                Entry(
                    count: n, first: symbols[Int(k >> 32)], second: symbols[Int(k & 0xFFFF_FFFF)],
                    key: k))
        }
        var learned: [[String]] = []
        while learned.count < count, let top = heap.popMax() {
            guard let current = pairCount[top.key], current == top.count, current > 0 else {
                continue
            }
            if current < 2 { break }  // a pair seen once is not worth a unit (as subword-nmt)
            let (a, b) = (Int32(top.key >> 32), Int32(top.key & 0xFFFF_FFFF))
            learned.append([symbols[Int(a)], symbols[Int(b)]])
            let merged = intern(symbols[Int(a)] + symbols[Int(b)])
            var changed: Set<UInt64> = []
            for i in (pairWords[top.key] ?? []).sorted() {
                let old = words[i]
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var j = 0
                while j < old.count {
                    if j + 1 < old.count && old[j] == a && old[j + 1] == b {
                        new.append(merged)
                        j += 2
                    } else {
                        new.append(old[j])
                        j += 1
                    }
                }
                guard new.count != old.count else { continue }
                let n = frequency[i]
                for j in 0..<max(old.count - 1, 0) {
                    let k = key(old[j], old[j + 1])
                    pairCount[k, default: 0] -= n
                    changed.insert(k)
                }
                for j in 0..<max(new.count - 1, 0) {
                    let k = key(new[j], new[j + 1])
                    pairCount[k, default: 0] += n
                    pairWords[k, default: []].insert(i)
                    changed.insert(k)
                }
                words[i] = new
            }
            pairCount[top.key] = 0
            for k in changed where k != top.key {
                let n = pairCount[k] ?? 0
                if n > 0 {
                    heap.insert(
                        Entry(
                            count: n, first: symbols[Int(k >> 32)],
                            second: symbols[Int(k & 0xFFFF_FFFF)], key: k))
                }
            }
        }
        self.init(merges: learned)
    }

    /// The units of one word, every one but the last marked with `@@`.
    ///
    /// - Parameters:
    ///   - word: one word, without spaces.
    ///   - known: when given, a unit it rejects is split back into the units it was merged
    ///     from until they are known or single characters (subword-nmt's vocabulary filter: a
    ///     joint model's unit the source side never saw is not an `<unk>`).
    public func split(_ word: String, known: ((String) -> Bool)? = nil) -> [String] {
        guard !word.isEmpty else { return [] }
        var parts = word.unicodeScalars.map { String($0) }
        parts[parts.count - 1] += BytePairEncoding.endOfWord
        while parts.count > 1 {
            var best = Int.max
            var at = -1
            for j in 0..<(parts.count - 1) {
                if let r = rank[parts[j] + "\u{0}" + parts[j + 1]], r < best {
                    best = r
                    at = j
                }
            }
            guard at >= 0 else { break }
            // Merge every occurrence of the best pair, left to right.
            let (a, b) = (parts[at], parts[at + 1])
            var merged: [String] = []
            var j = 0
            while j < parts.count {
                if j + 1 < parts.count && parts[j] == a && parts[j + 1] == b {
                    merged.append(a + b)
                    j += 2
                } else {
                    merged.append(parts[j])
                    j += 1
                }
            }
            parts = merged
        }
        if let known {
            func surface(_ unit: String) -> String {
                unit.hasSuffix(BytePairEncoding.endOfWord)
                    ? String(unit.dropLast(BytePairEncoding.endOfWord.count))
                    : unit + BytePairEncoding.continuation
            }
            func expand(_ unit: String) -> [String] {
                if known(surface(unit)) { return [unit] }
                guard let (a, b) = origin[unit] else { return [unit] }
                return expand(a) + expand(b)
            }
            parts = parts.flatMap(expand)
        }
        let last = parts.count - 1
        parts[last] = String(parts[last].dropLast(BytePairEncoding.endOfWord.count))
        for j in 0..<(parts.count - 1) { parts[j] += BytePairEncoding.continuation }
        return parts
    }

    /// Words put back together from units (a unit ending in `@@` continues into the next).
    public static func join(_ units: [String]) -> [String] {
        var words: [String] = []
        var pending = ""
        for unit in units {
            if unit.hasSuffix(continuation) {
                pending += unit.dropLast(continuation.count)
            } else {
                words.append(pending + unit)
                pending = ""
            }
        }
        if !pending.isEmpty { words.append(pending) }
        return words
    }
}
