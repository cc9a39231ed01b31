// Double-precision log and cos for the generators, through swift-numerics.
import RealModule

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny generator used to expand one 64-bit seed into
/// the state of `Xoshiro256`, and useful on its own where a stream of hashes is needed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state.
    public var state: UInt64

    /// Creates a generator whose first output depends only on `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2018): Recur's random number generator.
///
/// Every random draw in Recur takes an explicit generator; there is no global one. The state is
/// four words that checkpoints save and restore, so a resumed run continues the same stream.
///
/// ```swift
/// var rng = Xoshiro256(seed: 1)
/// let u = rng.nextFloat()            // uniform in [0, 1)
/// let w = Tensor.normal([3, 3], mean: 0, standardDeviation: 0.1, using: &rng)
/// ```
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's whole state (never all zero).
    public var state: (UInt64, UInt64, UInt64, UInt64) { words }
    /// Storage of `state`, visible to inlined callers: `next()` is inlined into hot loops
    /// (dropout masks draw one number per element).
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a generator from a seed, expanding it with `SplitMix64`.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        words = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// Restores a generator from a saved state; returns nil for the invalid all-zero state.
    public init?(state words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        self.words = (words[0], words[1], words[2], words[3])
    }

    /// The state as four words, for checkpoints.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotateLeft(words.1 &* 5, by: 7) &* 9
        let t = words.1 << 17
        words.2 ^= words.0
        words.3 ^= words.1
        words.1 ^= words.2
        words.0 ^= words.3
        words.2 ^= t
        words.3 = Xoshiro256.rotateLeft(words.3, by: 45)
        return result
    }

    @inlinable @inline(__always)
    static func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A new generator whose stream is independent of this one's (for worker threads), derived
    /// deterministically from this generator's next output and `stream`.
    public mutating func split(stream: UInt64) -> Xoshiro256 {
        Xoshiro256(seed: next() ^ (stream &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Generators are equal when their states are (they will draw the same numbers).
    public static func == (a: Xoshiro256, b: Xoshiro256) -> Bool { a.stateWords == b.stateWords }
}

extension RandomNumberGenerator {
    /// A uniform `Float` in [0, 1) with 24 random bits (the same on every platform and Swift
    /// version, unlike `Float.random(in:)`).
    @inlinable
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (Lemire's nearly divisionless method, unbiased).
    @inlinable
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:): bound must be positive, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A standard normal sample (Box–Muller, one of the pair).
    @inlinable
    public mutating func nextGaussian() -> Float {
        var u1 = nextDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextDouble() }
        let u2 = nextDouble()
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

@usableFromInline func _log(_ x: Double) -> Double { Double.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Double.cos(x) }
