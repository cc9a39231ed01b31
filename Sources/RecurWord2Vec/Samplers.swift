import RecurTensor

/// Draws negative samples from the unigram distribution raised to 3/4 (Mikolov et al., 2013)
/// with Walker's alias method: O(1) per draw from two arrays of V entries, instead of the C
/// tool's 10⁸-entry table (400 MB), for the same distribution.
public struct UnigramSampler: Sendable {
    private let probability: [Float]  // acceptance threshold per bucket
    private let alias: [Int32]
    /// The number of words it draws from.
    public let count: Int

    /// A sampler that draws word i with probability proportional to `counts[i]^power`.
    public init(counts: [Int], power: Double = 0.75) {
        let n = counts.count
        count = n
        var weights = counts.map { Double($0) > 0 ? Double.powDouble(Double($0), power) : 0 }
        let total = weights.reduce(0, +)
        for i in 0..<n { weights[i] = total > 0 ? weights[i] * Double(n) / total : 1 }
        var probability = [Float](repeating: 1, count: n)
        var alias = [Int32](repeating: 0, count: n)
        var small: [Int] = []
        var large: [Int] = []
        for i in 0..<n { if weights[i] < 1 { small.append(i) } else { large.append(i) } }
        while let s = small.popLast() {
            guard let l = large.last else { break }
            probability[s] = Float(weights[s])
            alias[s] = Int32(l)
            weights[l] -= 1 - weights[s]
            if weights[l] < 1 {
                large.removeLast()
                small.append(l)
            }
        }
        for i in large { probability[i] = 1 }
        for i in small { probability[i] = 1 }
        self.probability = probability
        self.alias = alias
    }

    /// One draw using 64 random bits (high bits pick the bucket, low bits the coin).
    @inline(__always)
    public func sample(_ bits: UInt64) -> Int {
        let bucket = Int(((bits >> 32) &* UInt64(count)) >> 32)
        let coin = Float(bits & 0xFF_FFFF) * 0x1p-24
        return coin < probability[bucket] ? bucket : Int(alias[bucket])
    }
}

extension Double {
    static func powDouble(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
}

/// The logistic function and log-sigmoid on a grid over [-6, 6] (the C tool's EXP_TABLE);
/// outside it the gradient saturates exactly as the C tool does.
public struct SigmoidTable: Sendable {
    /// The grid covers [-limit, limit].
    public static let limit: Float = 6
    /// Grid points.
    public static let size = 1000
    let sigmoid: [Float]
    let logSigmoid: [Float]

    /// Fills the table (computed in Float64, stored as Float).
    public init() {
        // One entry more than the grid, as the C tool allocates: f = +limit indexes it.
        var s = [Float](repeating: 0, count: SigmoidTable.size + 1)
        var l = [Float](repeating: 0, count: SigmoidTable.size + 1)
        for i in 0...SigmoidTable.size {
            let x = (Double(i) / Double(SigmoidTable.size) * 2 - 1) * Double(SigmoidTable.limit)
            let e = Glibc.exp(x)
            s[i] = Float(e / (e + 1))
            l[i] = Float(-Glibc.log1p(Glibc.exp(-x)))
        }
        sigmoid = s
        logSigmoid = l
    }

    @inline(__always)
    static func index(_ f: Float) -> Int { Int((f + limit) * (Float(size) / limit / 2)) }
}

#if canImport(Glibc)
    import Glibc
#endif

/// The Huffman tree of hierarchical softmax (the C tool's CreateBinaryTree): for each word, the
/// inner nodes on its path (`points`) and the branch taken at each (`codes`).
public struct HuffmanTree: Sendable {
    /// Per word, the branch (0 or 1) taken at each inner node of its path.
    public let codes: [[UInt8]]
    /// Per word, the inner nodes on its path from the root.
    public let points: [[Int32]]

    /// Builds the tree from word counts (the C tool's `CreateBinaryTree`).
    public init(counts: [Int]) {
        let n = counts.count
        guard n > 1 else {
            codes = Array(repeating: [0], count: n)
            points = Array(repeating: [0], count: n)
            return
        }
        var count = counts + Array(repeating: Int.max / 4, count: n)
        var binary = [UInt8](repeating: 0, count: 2 * n)
        var parent = [Int](repeating: 0, count: 2 * n)
        // counts are sorted descending: two pointers over leaves (right to left) and new nodes.
        var pos1 = n - 1
        var pos2 = n
        for a in 0..<(n - 1) {
            var mins = [0, 0]
            for k in 0..<2 {
                if pos1 >= 0 && count[pos1] < count[pos2] {
                    mins[k] = pos1
                    pos1 -= 1
                } else {
                    mins[k] = pos2
                    pos2 += 1
                }
            }
            count[n + a] = count[mins[0]] + count[mins[1]]
            parent[mins[0]] = n + a
            parent[mins[1]] = n + a
            binary[mins[1]] = 1
        }
        var codes: [[UInt8]] = []
        var points: [[Int32]] = []
        for w in 0..<n {
            var code: [UInt8] = []
            var point: [Int32] = []
            var b = w
            while b != 2 * n - 2 {
                code.append(binary[b])
                point.append(Int32(b))
                b = parent[b]
            }
            // Root first; inner-node indices shifted to 0…n-2.
            code.reverse()
            point.reverse()
            var shifted: [Int32] = [Int32(n - 2)]
            for p in point.dropLast() { shifted.append(p - Int32(n)) }
            codes.append(code)
            points.append(shifted)
        }
        self.codes = codes
        self.points = points
    }
}
