import Foundation
import RecurTensor
import RecurTestSupport
import Testing

/// Error of a Float result in units in the last place of the Double reference.
func ulpError(_ value: Float, _ reference: Double) -> Double {
    if value.isNaN && reference.isNaN { return 0 }
    if Double(value) == reference { return 0 }
    let r = Float(reference)
    if r.isInfinite || value.isInfinite { return value == r ? 0 : .infinity }
    // The ulp in Double arithmetic: Float's `ulp` of a value below 2^-103 is itself subnormal,
    // and compute threads flush subnormal results to zero (`FloatingPointMode`).
    let ulp =
        r == 0
        ? Double(Float.leastNonzeroMagnitude)
        : Double(sign: .plus, exponent: max(Int(r.exponent), -126) - 23, significand: 1)
    return abs(Double(value) - reference) / ulp
}

@Suite("Vectorized math")
struct VectorMathTests {
    /// A dense sweep of inputs in [low, high].
    static func sweep(_ low: Float, _ high: Float, count: Int = 200_003) -> Tensor {
        Tensor.arange(0, Float(count)) * ((high - low) / Float(count - 1)) + low
    }

    static func maxULP(_ input: Tensor, _ output: Tensor, _ reference: (Double) -> Double) -> Double
    {
        var worst = 0.0
        let x = input.scalars
        let y = output.scalars
        for i in 0..<x.count { worst = max(worst, ulpError(y[i], reference(Double(x[i])))) }
        return worst
    }

    @Test("exp is within 2 ulp")
    func exp() {
        let x = Self.sweep(-87, 88)
        #expect(Self.maxULP(x, x.exp(), Foundation.exp) <= 2)
        let small = Self.sweep(-1e-3, 1e-3)
        #expect(Self.maxULP(small, small.exp(), Foundation.exp) <= 2)
        let edge = Tensor([-200, -87.5, 89, .infinity, -.infinity]).exp().scalars
        #expect(
            edge[0] == 0 && edge[1] == 0 && edge[2] == .infinity && edge[3] == .infinity
                && edge[4] == 0)
        #expect(Tensor([.nan]).exp().scalars[0].isNaN)
    }

    @Test("log is within 2 ulp, tiny values included")
    func log() {
        let x = Self.sweep(1e-3, 100)
        #expect(Self.maxULP(x, x.log(), Foundation.log) <= 2)
        let tiny = Tensor([1e-30, 1e-38, 1e-42, Float.leastNonzeroMagnitude, 1e30, 3e38])
        #expect(Self.maxULP(tiny, tiny.log(), Foundation.log) <= 2)
        let edge = Tensor([0, -1, .infinity]).log().scalars
        #expect(edge[0] == -.infinity && edge[1].isNaN && edge[2] == .infinity)
    }

    @Test("tanh is within 2 ulp")
    func tanh() {
        let x = Self.sweep(-10, 10)
        #expect(Self.maxULP(x, x.tanh(), Foundation.tanh) <= 2)
        let small = Self.sweep(-1e-4, 1e-4)
        #expect(Self.maxULP(small, small.tanh(), Foundation.tanh) <= 2)
        let big = Tensor([-1e4, 50, .infinity]).tanh().scalars
        #expect(big == [-1, 1, 1])
    }

    @Test("sigmoid is within 2.5 ulp")
    func sigmoid() {
        let x = Self.sweep(-80, 40)
        #expect(Self.maxULP(x, x.sigmoid(), { 1 / (1 + Foundation.exp(-$0)) }) <= 2.5)
        let extreme = Tensor([-1e4, 1e4]).sigmoid().scalars
        #expect(extreme == [0, 1])
    }

    @Test("lengths that are not multiples of 16")
    func tails() {
        for n in [0, 1, 15, 16, 17, 33] {
            let x = Tensor.arange(n) * 0.1
            let expected = x.scalars.map { Float(Foundation.exp(Double($0))) }
            let got = x.exp().scalars
            #expect(got.count == n)
            for i in 0..<n {
                #expect(
                    ulpError(got[i], Foundation.exp(Double(x.scalars[i]))) <= 2,
                    "n=\(n) i=\(i) \(expected[i])")
            }
        }
    }
}

@Suite("Numerical stability")
struct StabilityTests {
    @Test("softmax of ±1e4 is finite and exact")
    func softmaxExtremes() {
        let x = Tensor([[1e4, 0, -1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
        let s = x.softmax()
        #expect(s.isFinite)
        #expect(s[0].scalars == [1, 0, 0])
        #expect(s[1].scalars == [0.5, 0.5, 0])
        #expect(s[2].isApproximatelyEqual(to: Tensor([1.0 / 3, 1.0 / 3, 1.0 / 3])))
        let l = x.logSoftmax()
        #expect(l.isFinite)
        #expect(l[0].scalars[0] == 0)
        #expect(l[0].scalars[2] == -2e4)
        #expect(abs(l[1].scalars[0] + Float(Foundation.log(2.0))) < 1e-6)
    }

    @Test("softmax rows sum to one")
    func softmaxSums() {
        var rng = Xoshiro256(seed: 11)
        let x = Tensor.normal([7, 37], standardDeviation: 30, using: &rng)
        let sums = x.softmax().sum(axis: 1)
        #expect(sums.isApproximatelyEqual(to: Tensor.ones([7]), relativeTolerance: 1e-5))
        let ls = x.logSoftmax().exp().sum(axis: 1)
        #expect(ls.isApproximatelyEqual(to: Tensor.ones([7]), relativeTolerance: 1e-5))
    }

    @Test("compute threads flush subnormal results to zero; subnormal inputs still count")
    func flushToZero() {
        BLAS.prepare()
        #expect(FloatingPointMode.flushesSubnormals)
        #expect(Tensor([1e-42]).log().scalars[0].isFinite)
        // The pool's workers run in the same mode (a large job is split across them).
        let x = Tensor(Array(repeating: Float.leastNormalMagnitude, count: 1 << 16))
        #expect((x * Tensor(0.25)).scalars.allSatisfy { $0 == 0 })
    }

    @Test("log of tiny values is finite")
    func logTiny() {
        let values = Tensor([1e-38, 1e-44, 1e-45]).log().scalars
        #expect(values.allSatisfy { $0.isFinite && $0 < -87 })
        #expect(abs(values[2] - Float(Foundation.log(Double(Float.leastNonzeroMagnitude)))) < 1e-4)
    }

    @Test("softmax with infinities and NaN")
    func softmaxNonFinite() {
        #expect(Tensor([.infinity, 0, .infinity]).softmax().scalars == [0.5, 0, 0.5])
        #expect(Tensor([.nan, 0]).softmax().scalars.allSatisfy { $0.isNaN })
    }
}
