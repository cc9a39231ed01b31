import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

@Suite("Cells, initialization schemes, truncated BPTT")
struct CellAndInitTests {
    @Test("a cell stepped T times gives the sequence layer's outputs and final state")
    func cellMatchesSequence() throws {
        var rng = Xoshiro256(seed: 21)
        let cell = LSTMCell(inputSize: 5, hiddenSize: 7, rng: &rng)
        #expect(cell.parameters().map(\.name) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"])
        let lstm = LSTM(inputSize: 5, hiddenSize: 7, rng: &rng)
        try lstm.loadStateDictionary(
            Dictionary(
                uniqueKeysWithValues: cell.stateDictionary().map { ($0.key + "_l0", $0.value) }))
        let x = randomTensor([6, 3, 5], seed: 22)
        var context = ForwardContext.inference()
        let (out, final, cache) = lstm.forward(
            x, initialState: nil, lengths: nil, context: &context)
        lstm.release(cache)
        var state = cell.zeroState(batch: 3)
        for t in 0..<6 {
            state = cell.step(x[t], state: state)
            #expect(
                state.hidden.isApproximatelyEqual(
                    to: out[t], relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
        }
        #expect(
            state.cell!.isApproximatelyEqual(
                to: final.cell!.reshaped([3, 7]), relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
    }

    @Test("cells on a tape match central differences (LSTM, GRU, RNN)")
    func cellGradients() {
        var rng = Xoshiro256(seed: 23)
        let cells:
            [(any Module, (Variable, Variable, Variable?) -> (hidden: Variable, cell: Variable?))] =
                {
                    let l = LSTMCell(inputSize: 3, hiddenSize: 4, rng: &rng)
                    let g = GRUCell(inputSize: 3, hiddenSize: 4, rng: &rng)
                    let r = RNNCell(inputSize: 3, hiddenSize: 4, rng: &rng)
                    return [
                        (l, { l($0, hidden: $1, cell: $2) }), (g, { x, h, _ in g(x, hidden: h) }),
                        (r, { x, h, _ in r(x, hidden: h) }),
                    ]
                }()
        for (module, run) in cells {
            let inputs = [
                randomTensor([2, 3], seed: 24), randomTensor([2, 4], seed: 25, range: -0.5...0.5),
                randomTensor([2, 4], seed: 26),
            ]
            let report = GradientCheck.check(
                inputs: inputs, parameters: module.parameters().map(\.parameter), samples: 12
            ) { _, v in
                // Two steps, so the state's gradient flows through a step too.
                let (h1, c1) = run(v[0], v[1], v[2])
                let (h2, c2) = run(v[0], h1, c1)
                return Variable.concatenate(
                    [h2.reshaped([-1])] + (c2.map { [$0.reshaped([-1])] } ?? []))
            }
            #expect(report.passed, "\(type(of: module)): \(report)")
        }
    }

    @Test("Xavier/orthogonal initialization: bounds, orthogonal recurrent blocks, forget-gate bias")
    func initialization() {
        var rng = Xoshiro256(seed: 27)
        let lstm = LSTM(inputSize: 10, hiddenSize: 16, layers: 2, bidirectional: true, rng: &rng)
        lstm.initialize(.xavierOrthogonal, forgetBias: 1, rng: &rng)
        let bound = (6 / Float(10 + 16)).squareRoot()
        #expect(lstm.weightIH[0][0].value.scalars.allSatisfy { abs($0) <= bound })
        #expect(lstm.weightIH[0][0].value.scalars.map(abs).max()! > bound * 0.9)
        for l in 0..<2 {
            for d in 0..<2 {
                let w = lstm.weightHH[l][d].value
                for gate in 0..<4 {
                    let block = w[(gate * 16)..<((gate + 1) * 16)]
                    let product = block.matmul(block.transposed())
                    #expect(
                        product.isApproximatelyEqual(
                            to: Tensor.eye(16), relativeTolerance: 0, absoluteTolerance: 1e-5))
                }
                let b = lstm.biasIH[l][d].value.scalars
                #expect(
                    b[0..<16].allSatisfy { $0 == 0 } && b[16..<32].allSatisfy { $0 == 1 }
                        && b[32...].allSatisfy { $0 == 0 })
                #expect(lstm.biasHH[l][d].value.scalars.allSatisfy { $0 == 0 })
            }
        }
        // Different blocks and layers get different matrices.
        #expect(lstm.weightHH[0][0].value.scalars != lstm.weightHH[0][1].value.scalars)
        // PyTorch's scheme again: everything within ±1/√H.
        lstm.initialize(.pytorch, rng: &rng)
        #expect(
            lstm.biasIH[1][1].value.scalars.allSatisfy { abs($0) <= 0.25 }
                && lstm.biasIH[1][1].value.scalars.contains { $0 != 0 })
    }

    @Test("truncated BPTT carries the state across windows and cuts the graph between them")
    func truncatedBPTT() {
        var rng = Xoshiro256(seed: 28)
        let gru = GRU(inputSize: 3, hiddenSize: 5, layers: 2, rng: &rng)
        let x = randomTensor([8, 2, 3], seed: 29)
        var context = ForwardContext.inference()
        let (full, _, cache) = gru.forward(x, initialState: nil, lengths: nil, context: &context)
        gru.release(cache)
        var tbptt = TruncatedBPTT()
        var outputs: [Tensor] = []
        var inputGradients: [Tensor?] = []
        for window in 0..<2 {
            let tape = Tape()
            let input = tape.variable(x[(window * 4)..<((window + 1) * 4)])
            var pass = ForwardContext.training(tape: tape, generator: rng)
            let out = tbptt(gru, input, context: &pass)
            outputs.append(out.value)
            tape.backward(from: out.sum())
            inputGradients.append(tape.gradient(of: input))
        }
        #expect(
            Tensor.concatenate(outputs).isApproximatelyEqual(
                to: full, relativeTolerance: 1e-5, absoluteTolerance: 1e-6))
        #expect(tbptt.state?.hidden.shape == [2, 2, 5])
        // Each window's backward reaches its own inputs only (the carried state is a constant).
        #expect(inputGradients.allSatisfy { $0 != nil })
        tbptt.reset()
        #expect(tbptt.state == nil)
    }
}
