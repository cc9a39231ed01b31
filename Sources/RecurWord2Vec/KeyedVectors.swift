import RecurBase
import RecurTensor
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Words and their vectors, with the queries users expect from gensim's `KeyedVectors`:
/// nearest neighbours, analogies (3CosAdd and 3CosMul), analogy and similarity benchmarks and a
/// 2-D projection.
///
/// ```swift
/// let kv = try KeyedVectors.load(path: "vectors.txt")
/// kv.mostSimilar(to: "queen", count: 5)
/// kv.analogy(a: "man", b: "king", c: "woman")       // king - man + woman ≈ queen
/// ```
public struct KeyedVectors: Sendable {
    /// Words in order (the first are the most frequent for trained vectors).
    public let words: [String]
    /// `[V, D]`.
    public let vectors: Tensor
    /// The word index and the unit vectors, built on first use: training and format
    /// conversion only write the vectors, and for a large vocabulary these would cost a
    /// dictionary entry per word and a second copy of the matrix.
    private let lazy: LazyQueries

    /// Vectors for `words`, row i of `vectors` `[V, D]` belonging to `words[i]`.
    public init(words: [String], vectors: Tensor) {
        precondition(
            vectors.rank == 2 && vectors.shape[0] == words.count,
            "KeyedVectors: \(words.count) words for vectors \(vectors.shape)")
        self.words = words
        self.vectors = vectors
        lazy = LazyQueries()
    }

    /// Word → row (the first row when a word repeats).
    private var index: [String: Int] {
        lazy.index.withLock { cached in
            if let cached { return cached }
            var index: [String: Int] = [:]
            index.reserveCapacity(words.count)
            for (i, w) in words.enumerated() where index[w] == nil { index[w] = i }
            cached = index
            return index
        }
    }

    /// Rows scaled to unit length (zero rows stay zero).
    public var unitVectors: Tensor {
        lazy.unitVectors.withLock { cached in
            if let cached { return cached }
            let d = vectors.shape[1]
            var unit = vectors
            unit.withUnsafeMutableBufferPointer { p in
                for r in 0..<words.count {
                    let row = p.start + r * d
                    let norm = VectorMath.dot(row, row, count: d).squareRoot()
                    if norm > 0 { for c in 0..<d { row[c] /= norm } }
                }
            }
            cached = unit
            return unit
        }
    }

    /// The number of words (V).
    public var count: Int { words.count }
    /// The vectors' size (D).
    public var dimensions: Int { vectors.shape[1] }

    /// The row of `word`, or nil.
    public func id(of word: String) -> Int? { index[word] }

    /// The vector of `word`, or nil.
    public func vector(_ word: String) -> Tensor? { index[word].map { vectors[$0] } }

    /// Fails naming every word that is not in the vocabulary.
    public func requireWords(_ words: [String]) throws {
        let missing = words.filter { index[$0] == nil }
        if !missing.isEmpty { throw Word2VecError.unknownWords(missing) }
    }

    /// Cosine similarity of two words.
    public func similarity(_ a: String, _ b: String) throws -> Float {
        try requireWords([a, b])
        let d = dimensions
        let (i, j) = (index[a] ?? 0, index[b] ?? 0)
        return unitVectors.withUnsafeBufferPointer {
            VectorMath.dot($0.start + i * d, $0.start + j * d, count: d)
        }
    }

    /// Cosines of a unit-length query against the first `limit` unit vectors.
    func cosines(_ query: [Float], limit: Int) -> [Float] {
        let n = min(limit, count)
        var out = [Float](repeating: 0, count: n)
        unitVectors.withUnsafeBufferPointer { m in
            query.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    BLAS.gemv(
                        m: n, n: dimensions, a: m.start, lda: dimensions, x: q.start,
                        y: o.start)
                }
            }
        }
        return out
    }

    func unitRow(_ i: Int) -> [Float] {
        let d = dimensions
        return unitVectors.withUnsafeBufferPointer { Array($0[(i * d)..<((i + 1) * d)]) }
    }

    static func top(_ scores: [Float], count: Int, excluding: Set<Int>) -> [(Int, Float)] {
        var best: [(Int, Float)] = []
        for (i, s) in scores.enumerated() where !excluding.contains(i) && !s.isNaN {
            if best.count < count {
                best.append((i, s))
                if best.count == count { best.sort { $0.1 > $1.1 } }
            } else if let last = best.last, s > last.1 {
                best[best.count - 1] = (i, s)
                var k = best.count - 1
                while k > 0 && best[k].1 > best[k - 1].1 {
                    best.swapAt(k, k - 1)
                    k -= 1
                }
            }
        }
        return best.sorted { $0.1 > $1.1 }
    }

    /// The `count` words closest (by cosine) to the mean of `positive` minus `negative`
    /// (gensim's `most_similar`), excluding the query words.
    public func mostSimilar(
        positive: [String], negative: [String] = [], count: Int = 10, restrict: Int? = nil
    ) throws -> [(word: String, similarity: Float)] {
        try requireWords(positive + negative)
        var q = [Float](repeating: 0, count: dimensions)
        for w in positive { for (k, v) in unitRow(index[w] ?? 0).enumerated() { q[k] += v } }
        for w in negative { for (k, v) in unitRow(index[w] ?? 0).enumerated() { q[k] -= v } }
        let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { q = q.map { $0 / norm } }
        let scores = cosines(q, limit: restrict ?? self.count)
        let excluded = Set((positive + negative).compactMap { index[$0] })
        return KeyedVectors.top(scores, count: count, excluding: excluded).map {
            (words[$0.0], $0.1)
        }
    }

    /// Nearest neighbours of one word.
    public func mostSimilar(to word: String, count: Int = 10) throws -> [(
        word: String, similarity: Float
    )] {
        try mostSimilar(positive: [word], count: count)
    }

    /// How analogies "a is to b as c is to ?" are answered.
    public enum AnalogyMethod: String, Sendable, CaseIterable {
        /// argmax cos(d, b − a + c) (Mikolov et al. 2013).
        case add = "3cosadd"
        /// argmax cos(d,b)·cos(d,c) / (cos(d,a) + ε) with cosines mapped to [0, 1] (Levy &
        /// Goldberg 2014).
        case mul = "3cosmul"
    }

    /// The best answers to "a is to b as c is to ?" (king − man + woman: a = man, b = king,
    /// c = woman), excluding a, b and c.
    public func analogy(
        a: String, b: String, c: String, method: AnalogyMethod = .add, count: Int = 1,
        restrict: Int? = nil
    )
        throws -> [(word: String, score: Float)]
    {
        try requireWords([a, b, c])
        let (ia, ib, ic) = (index[a] ?? 0, index[b] ?? 0, index[c] ?? 0)
        return analogyScores(
            ia, ib, ic, method: method, count: count, limit: restrict ?? self.count
        ).map { (words[$0.0], $0.1) }
    }

    func analogyScores(
        _ ia: Int, _ ib: Int, _ ic: Int, method: AnalogyMethod, count: Int, limit: Int
    ) -> [(Int, Float)] {
        let (va, vb, vc) = (unitRow(ia), unitRow(ib), unitRow(ic))
        let excluded: Set<Int> = [ia, ib, ic]
        switch method {
        case .add:
            var q = (0..<dimensions).map { vb[$0] - va[$0] + vc[$0] }
            let norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { q = q.map { $0 / norm } }
            return KeyedVectors.top(cosines(q, limit: limit), count: count, excluding: excluded)
        case .mul:
            let ca = cosines(va, limit: limit)
            let cb = cosines(vb, limit: limit)
            let cc = cosines(vc, limit: limit)
            var scores = [Float](repeating: 0, count: ca.count)
            for i in 0..<ca.count {
                let numerator: Float = ((cb[i] + 1) / 2) * ((cc[i] + 1) / 2)
                scores[i] = numerator / ((ca[i] + 1) / 2 + 1e-3)
            }
            return KeyedVectors.top(scores, count: count, excluding: excluded)
        }
    }

    /// The first two principal components of the given words' vectors (for `plot`).
    public func projection2D(_ selection: [String]) throws -> [(word: String, x: Double, y: Double)]
    {
        try requireWords(selection)
        let d = dimensions
        let rows = selection.map { w in unitRow(index[w] ?? 0).map(Double.init) }
        var mean = [Double](repeating: 0, count: d)
        for r in rows { for k in 0..<d { mean[k] += r[k] / Double(rows.count) } }
        let centered = rows.map { r in (0..<d).map { r[$0] - mean[$0] } }
        // Covariance and power iteration with deflation (d ≤ a few hundred).
        var cov = [Double](repeating: 0, count: d * d)
        for r in centered {
            for i in 0..<d { for j in 0..<d { cov[i * d + j] += r[i] * r[j] } }
        }
        func component(_ m: [Double]) -> [Double] {
            var v = (0..<d).map { Double(($0 * 7919) % 13) + 1 }
            for _ in 0..<200 {
                var w = [Double](repeating: 0, count: d)
                for i in 0..<d { for j in 0..<d { w[i] += m[i * d + j] * v[j] } }
                let n = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if n == 0 { break }
                v = w.map { $0 / n }
            }
            return v
        }
        let first = component(cov)
        var lambda = 0.0
        for i in 0..<d { for j in 0..<d { lambda += first[i] * cov[i * d + j] * first[j] } }
        var deflated = cov
        for i in 0..<d { for j in 0..<d { deflated[i * d + j] -= lambda * first[i] * first[j] } }
        let second = component(deflated)
        return zip(selection, centered).map { w, r in
            (
                w, zip(r, first).reduce(0) { $0 + $1.0 * $1.1 },
                zip(r, second).reduce(0) { $0 + $1.0 * $1.1 }
            )
        }
    }
}

/// The lazily built parts of `KeyedVectors`, shared by its copies.
final class LazyQueries: Sendable {
    let index = Mutex<[String: Int]?>(nil)
    let unitVectors = Mutex<Tensor?>(nil)
}
