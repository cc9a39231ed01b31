import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

func randomTensor(_ shape: [Int], seed: UInt64, range: ClosedRange<Float> = -1...1) -> Tensor {
    var rng = Xoshiro256(seed: seed)
    return Tensor.uniform(shape, in: range, using: &rng)
}

/// One configuration of a recurrent gradient check.
struct RecurrentCase: CustomTestStringConvertible, Sendable {
    enum Cell: String, Sendable { case lstm, gru, rnnTanh, rnnReLU }
    var cell: Cell
    var layers: Int
    var bidirectional: Bool
    var lengths: [Int]?
    var withInitialState: Bool
    var dropout: Float = 0
    var testDescription: String {
        "\(cell) L=\(layers) bi=\(bidirectional) lengths=\(lengths.map { "\($0)" } ?? "full") h0=\(withInitialState) p=\(dropout)"
    }
}

/// Builds a layer of the given kind with fixed weights.
func makeLayer(_ c: RecurrentCase, input: Int, hidden: Int, seed: UInt64 = 3)
    -> any RecurrentSequenceLayer
{
    var rng = Xoshiro256(seed: seed)
    switch c.cell {
    case .lstm:
        return LSTM(
            inputSize: input, hiddenSize: hidden, layers: c.layers, bidirectional: c.bidirectional,
            dropout: c.dropout, rng: &rng)
    case .gru:
        return GRU(
            inputSize: input, hiddenSize: hidden, layers: c.layers, bidirectional: c.bidirectional,
            dropout: c.dropout, rng: &rng)
    case .rnnTanh:
        return RNN(
            inputSize: input, hiddenSize: hidden, layers: c.layers, bidirectional: c.bidirectional,
            dropout: c.dropout, rng: &rng)
    case .rnnReLU:
        return RNN(
            inputSize: input, hiddenSize: hidden, layers: c.layers, nonlinearity: .relu,
            bidirectional: c.bidirectional, dropout: c.dropout, rng: &rng)
    }
}

/// Runs any of the layer kinds through the tape API in a training pass (dropout masks from
/// `seed`), with no downcast: the protocol carries the tape call.
func apply(
    _ layer: any RecurrentSequenceLayer, _ x: Variable, h0: Variable?, c0: Variable?,
    lengths: [Int]?, seed: UInt64
) -> (Variable, Variable, Variable?) {
    var context = ForwardContext.training(tape: x.tape, generator: Xoshiro256(seed: seed))
    return layer(
        x, initialHidden: h0, initialCell: layer.hasCellState ? c0 : nil, lengths: lengths,
        context: &context)
}

@Suite("Recurrent layers: gradient checks")
struct RecurrentGradientTests {
    static let cases: [RecurrentCase] = [
        .init(cell: .lstm, layers: 1, bidirectional: false, lengths: nil, withInitialState: false),
        .init(
            cell: .lstm, layers: 2, bidirectional: true, lengths: [5, 3, 1], withInitialState: true),
        .init(cell: .gru, layers: 1, bidirectional: false, lengths: nil, withInitialState: true),
        .init(
            cell: .gru, layers: 2, bidirectional: true, lengths: [2, 5, 4], withInitialState: true),
        .init(
            cell: .rnnTanh, layers: 2, bidirectional: true, lengths: [5, 1, 3],
            withInitialState: true),
        .init(
            cell: .rnnReLU, layers: 2, bidirectional: false, lengths: [4, 5, 2],
            withInitialState: false),
        .init(
            cell: .lstm, layers: 3, bidirectional: false, lengths: nil, withInitialState: false,
            dropout: 0.3),
        .init(
            cell: .gru, layers: 2, bidirectional: true, lengths: [5, 3, 4], withInitialState: false,
            dropout: 0.25),
    ]

    @Test("output, final state and every parameter match central differences", arguments: cases)
    func check(c: RecurrentCase) {
        let (t, b, i, h) = (5, 3, 4, 6)
        let layer = makeLayer(c, input: i, hidden: h)
        let d = c.bidirectional ? 2 : 1
        let x = randomTensor([t, b, i], seed: 1)
        let h0 = randomTensor([c.layers * d, b, h], seed: 2, range: -0.5...0.5)
        let c0 = randomTensor([c.layers * d, b, h], seed: 4, range: -0.5...0.5)
        var inputs = [x]
        if c.withInitialState { inputs += [h0, c0] }
        let parameters = layer.parameters().map(\.parameter)
        // ReLU has kinks: a smaller step keeps the finite differences on one side.
        let epsilon: Float = c.cell == .rnnReLU ? 1e-3 : 1e-2
        let report = GradientCheck.check(
            inputs: inputs, parameters: parameters, epsilon: epsilon, samples: 12
        ) { tape, v in
            // Seed 99: the same dropout masks on every evaluation.
            let (out, hn, cn) = apply(
                layer, v[0], h0: c.withInitialState ? v[1] : nil,
                c0: c.withInitialState && c.cell == .lstm ? v[2] : nil, lengths: c.lengths,
                seed: 99)
            var pieces = [out.reshaped([-1]), hn.reshaped([-1])]
            if let cn { pieces.append(cn.reshaped([-1])) }
            return Variable.concatenate(pieces)
        }
        #expect(report.passed, "\(c): \(report)")
    }

    @Test("token input through the folded embedding table matches central differences")
    func tokenInput() {
        var rng = Xoshiro256(seed: 5)
        let embedding = Embedding(vocabularySize: 7, embeddingSize: 4, rng: &rng)
        for bidirectional in [false, true] {
            let lstm = LSTM(
                inputSize: 4, hiddenSize: 5, layers: 2, bidirectional: bidirectional, rng: &rng)
            let tokens: [Int32] = [1, 3, 6, 0, 2, 2, 5, 1, 3, 4, 6, 0]  // T=4, B=3
            let parameters = (lstm.parameters() + embedding.parameters()).map(\.parameter)
            let report = GradientCheck.check(inputs: [], parameters: parameters, samples: 12) {
                tape, _ in
                var context = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 1))
                let (out, hn, _) = lstm(
                    tokens: tokens, timeSteps: 4, batch: 3, embedding: embedding,
                    lengths: [4, 2, 3], context: &context)
                return Variable.concatenate([out.reshaped([-1]), hn.reshaped([-1])])
            }
            #expect(report.passed, "bidirectional=\(bidirectional): \(report)")
        }
    }

    @Test("token input gives the same output as embedding then LSTM")
    func tokenInputMatchesEmbedding() {
        var rng = Xoshiro256(seed: 6)
        let embedding = Embedding(vocabularySize: 9, embeddingSize: 5, rng: &rng)
        let lstm = LSTM(inputSize: 5, hiddenSize: 7, layers: 2, rng: &rng)
        let tokens: [Int32] = (0..<24).map { Int32(($0 * 7) % 9) }
        let x = embedding(tokens).reshaped([6, 4, 5])
        let a = lstm(x).output
        var context = ForwardContext.inference()
        let (b, _, cache) = lstm.forward(
            tokens: tokens, timeSteps: 6, batch: 4, embedding: embedding, context: &context)
        lstm.release(cache)
        #expect(a.isApproximatelyEqual(to: b, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }
}

@Suite("Recurrent layers: thread splits")
struct RecurrenceSplitTests {
    /// Output, final state, input gradient and every parameter gradient of one forward/backward.
    static func run(
        _ layer: any RecurrentSequenceLayer, split: RecurrenceSplit, pool: ThreadPool,
        lengths: [Int]
    ) -> [Tensor] {
        layer.recurrenceSplit = split
        layer.threadPool = pool
        for (_, p) in layer.parameters() { p.zeroGradient() }
        let (t, b) = (7, lengths.count)
        let d = layer.directionCount
        let x = randomTensor([t, b, layer.inputSize], seed: 11)
        let h0 = randomTensor(
            [layer.layerCount * d, b, layer.hiddenSize], seed: 12, range: -0.5...0.5)
        let c0 =
            layer.hasCellState
            ? randomTensor(
                [layer.layerCount * d, b, layer.hiddenSize], seed: 13, range: -0.5...0.5) : nil
        let dy = randomTensor([t, b, d * layer.hiddenSize], seed: 14)
        var context = ForwardContext.training(generator: Xoshiro256(seed: 15))
        let (output, state, cache) = layer.forward(
            x, initialState: RecurrentState(hidden: h0, cell: c0), lengths: lengths,
            context: &context)
        let (dx, d0) = layer.backward(
            cache, outputGradient: dy, stateGradient: RecurrentState(hidden: h0, cell: c0),
            needsInputGradient: true)
        guard let dx else {
            Issue.record("backward returned no input gradient")
            return []
        }
        var result = [output, state.hidden, dx, d0.hidden]
        if let c = state.cell { result.append(c) }
        return result + layer.parameters().map(\.parameter.gradient)
    }

    @Test(
        "a pool busy with other work gives the same numbers, bit for bit",
        arguments: [RecurrenceSplit.automatic, .batchRows, .hiddenUnits])
    func busyPool(split: RecurrenceSplit) {
        let c = RecurrentCase(
            cell: .lstm, layers: 2, bidirectional: true, lengths: nil, withInitialState: true)
        let lengths = (0..<32).map { 1 + ($0 * 5) % 7 }
        let pool = ThreadPool(threadCount: 4)
        func run(busy: Bool) -> [Tensor] {
            let layer = makeLayer(c, input: 5, hidden: 40)
            // Holding the pool is what a second computation running at the same time does.
            if busy { #expect(pool.tryAcquire()) }
            defer { if busy { pool.release() } }
            return Self.run(layer, split: split, pool: pool, lengths: lengths)
        }
        let free = run(busy: false)
        let busy = run(busy: true)
        #expect(free.count == busy.count && !free.isEmpty)
        for (i, (a, b)) in zip(free, busy).enumerated() {
            #expect(a.isBitIdentical(to: b), "\(split) tensor \(i)")
        }
    }

    @Test(
        "splitting by batch rows, by hidden units or not at all gives the same numbers",
        arguments: [RecurrentCase.Cell.lstm, .gru, .rnnTanh])
    func splitsAgree(cell: RecurrentCase.Cell) {
        // H = 40: unit slices 0..<16 and 16..<40 (a partial panel); 19 rows: 9 + 10.
        let c = RecurrentCase(
            cell: cell, layers: 2, bidirectional: true, lengths: nil, withInitialState: true)
        let lengths = (0..<19).map { 1 + ($0 * 5) % 7 }
        let serial = ThreadPool(threadCount: 1)
        let reference = Self.run(
            makeLayer(c, input: 5, hidden: 40), split: .automatic, pool: serial, lengths: lengths)
        // Four threads: two per direction.
        let pool = ThreadPool(threadCount: 4)
        for split in [RecurrenceSplit.batchRows, .hiddenUnits] {
            let result = Self.run(
                makeLayer(c, input: 5, hidden: 40), split: split, pool: pool, lengths: lengths)
            #expect(result.count == reference.count)
            for (a, b) in zip(result, reference) {
                #expect(
                    a.isApproximatelyEqual(to: b, relativeTolerance: 1e-5, absoluteTolerance: 1e-6),
                    "\(cell) \(split)")
            }
        }
    }
}
