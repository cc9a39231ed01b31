import RecurTensor
import RecurTestSupport
import Testing

/// Random shapes for the gradient checks: odd sizes, ones and a rank-3 case.
let unaryShapes: [[Int]] = [[1], [7], [3, 5], [2, 3, 4], [1, 17]]

func randomTensor(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -2...2) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    return Tensor.uniform(shape, in: range, using: &rng)
}

@Suite("Autodiff gradient checks")
struct AutodiffTests {
    @Test("element-wise functions", arguments: unaryShapes)
    func unary(shape: [Int]) {
        let x = randomTensor(shape, seed: 1)
        let positive = randomTensor(shape, seed: 2, range: 0.5...3)
        for (name, f) in [
            ("exp", { (v: Variable) in v.exp() }), ("tanh", { $0.tanh() }),
            ("sigmoid", { $0.sigmoid() }),
            ("squared", { $0.squared() }), ("negate", { -$0 }), ("scale", { $0 * 3 + 1 }),
            ("softmax", { $0.softmax() }), ("logSoftmax", { $0.logSoftmax() }),
        ] {
            let report = GradientCheck.check(inputs: [x], epsilon: 1e-3) { _, v in f(v[0]) }
            #expect(report.passed, "\(name) \(shape): \(report)")
        }
        let logReport = GradientCheck.check(inputs: [positive], epsilon: 1e-3) { _, v in v[0].log()
        }
        #expect(logReport.passed, "log: \(logReport)")
        // relu away from the kink.
        let away = x.map { v in
            var r = v
            r.replace(with: v + 0.5, where: v .> 0)
            r.replace(with: v - 0.5, where: v .<= 0)
            return r
        }
        let reluReport = GradientCheck.check(inputs: [away], epsilon: 1e-3) { _, v in v[0].relu() }
        #expect(reluReport.passed, "relu: \(reluReport)")
    }

    static let binaryShapes: [([Int], [Int])] = [
        ([3, 4], [3, 4]), ([3, 4], [4]), ([2, 1, 3], [4, 1]), ([5], []), ([1, 3], [2, 1]),
    ]

    @Test("broadcasting arithmetic", arguments: binaryShapes)
    func binary(shapes: ([Int], [Int])) {
        let a = randomTensor(shapes.0, seed: 3)
        let b = randomTensor(shapes.1, seed: 4, range: 0.5...2)
        for (name, f) in [
            ("+", { (x: Variable, y: Variable) in x + y }), ("-", { $0 - $1 }), ("*", { $0 * $1 }),
            ("/", { $0 / $1 }),
        ] {
            let report = GradientCheck.check(inputs: [a, b], epsilon: 1e-3) { _, v in f(v[0], v[1])
            }
            #expect(report.passed, "\(name) \(shapes): \(report)")
        }
    }

    static let matmulCases: [([Int], [Int], Bool, Bool)] = [
        ([3, 4], [4, 5], false, false), ([4, 3], [4, 5], true, false),
        ([3, 4], [5, 4], false, true),
        ([4, 3], [5, 4], true, true), ([2, 3, 4], [4, 2], false, false),
        ([2, 3, 4], [2, 4, 5], false, false),
        ([2, 4, 3], [2, 5, 4], true, true), ([3, 4], [2, 4, 5], false, false),
    ]

    @Test("matrix products, transposed and batched", arguments: matmulCases)
    func matmul(c: ([Int], [Int], Bool, Bool)) {
        let a = randomTensor(c.0, seed: 5)
        let b = randomTensor(c.1, seed: 6)
        let report = GradientCheck.check(inputs: [a, b], epsilon: 1e-2) { _, v in
            v[0].matmul(v[1], transposeSelf: c.2, transposeOther: c.3)
        }
        #expect(report.passed, "\(c): \(report)")
    }

    @Test("shape operations")
    func shapes() {
        let x = randomTensor([4, 3, 2], seed: 7)
        let y = randomTensor([4, 2, 2], seed: 8)
        let cases: [(String, (Variable, Variable) -> Variable)] = [
            ("reshape", { a, _ in a.reshaped([6, 4]) }),
            ("permute", { a, _ in a.permuted([2, 0, 1]) }),
            ("transpose", { a, _ in a.reshaped([12, 2]).transposed() }),
            ("slice", { a, _ in a[1..<3] }),
            ("index", { a, _ in a[2] }),
            ("gather", { a, _ in a.gathering(rows: [3, 0, 3, 1]) }),
            ("concatenate", { a, b in Variable.concatenate([a, b], axis: 1) }),
            ("stack", { a, b in Variable.stack([a, a * b[0..<4].sum()], axis: 0) }),
            ("split", { a, _ in a.split(sizes: [1, 2], axis: 1)[1] * 2 }),
            ("narrow", { a, _ in a.narrow(axis: 2, start: 1, length: 1) }),
        ]
        for (name, f) in cases {
            let report = GradientCheck.check(inputs: [x, y], epsilon: 1e-2) { _, v in f(v[0], v[1])
            }
            #expect(report.entries.count > 0)
            // y is unused by most cases: its zero gradient must match a zero numeric gradient.
            #expect(report.passed, "\(name): \(report)")
        }
    }

    @Test("reductions")
    func reductions() {
        let x = randomTensor([3, 4, 5], seed: 9)
        let cases: [(String, (Variable) -> Variable)] = [
            ("sum", { $0.sum() }), ("mean", { $0.mean() }),
            ("sum0", { $0.sum(axis: 0) }), ("sum1", { $0.sum(axis: 1, keepingDimension: true) }),
            ("mean2", { $0.mean(axis: 2) }), ("max1", { $0.max(axis: 1) }),
            ("max-1", { $0.max(axis: -1) }),
        ]
        for (name, f) in cases {
            let report = GradientCheck.check(inputs: [x], epsilon: 1e-3) { _, v in f(v[0]) }
            #expect(report.passed, "\(name): \(report)")
        }
    }

    @Test("gradients accumulate into parameters and across uses")
    func accumulation() {
        let p = Parameter(Tensor([1, 2, 3]))
        let tape = Tape()
        let w = tape.parameter(p)
        let loss = (w * w).sum() + w.sum()
        tape.backward(from: loss)
        #expect(p.gradient.scalars == [3, 5, 7])
        tape.reset()
        let w2 = tape.parameter(p)
        tape.backward(from: w2.sum())
        #expect(p.gradient.scalars == [4, 6, 8])
        p.zeroGradient()
        #expect(p.gradient.scalars == [0, 0, 0])
    }

    @Test("a parameter checked through the tape")
    func parameterCheck() {
        let p = Parameter(randomTensor([3, 3], seed: 10))
        let x = randomTensor([2, 3], seed: 11)
        let report = GradientCheck.check(inputs: [x], parameters: [p]) { tape, v in
            v[0].matmul(tape.parameter(p)).tanh()
        }
        #expect(report.passed, "\(report)")
    }

    @Test("no-grad scope records no backward closures")
    func noGrad() {
        let p = Parameter(Tensor([1, 2]))
        let tape = Tape()
        let y = tape.withoutRecording { (tape.parameter(p) * 2).sum() }
        #expect(!tape.requiresGradient(y))
        tape.backward(from: y)
        #expect(p.gradient.scalars == [0, 0])
    }

    @Test("deep graphs do not overflow the stack")
    func deepGraph() {
        let tape = Tape()
        let x = tape.variable(Tensor([0.5]))
        var h = x
        for _ in 0..<20_000 { h = (h * 0.9999).tanh() + x * 0.0001 }
        tape.backward(from: h.sum())
        #expect(tape.gradient(of: x)?.isFinite == true)
    }
}

@Suite("Tape lifetime")
struct TapeLifetimeTests {
    @Test("a tape dropped after backward is freed with its activations (no reference cycle)")
    func freedAfterBackward() {
        weak var weakTape: Tape?
        let p = Parameter(Tensor([1, 2, 3]))
        do {
            let tape = Tape()
            weakTape = tape
            let w = tape.parameter(p)
            let loss = ((w * w).tanh() + w.relu()).sum()
            tape.backward(from: loss)
        }
        #expect(weakTape == nil)
        #expect(p.gradient.scalars.allSatisfy { $0 > 0 })
    }
}
