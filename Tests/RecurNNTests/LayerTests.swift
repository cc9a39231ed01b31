import Foundation
import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

@Suite("Layers, losses and convolutions: gradient checks")
struct LayerGradientTests {
    @Test("Linear", arguments: [[4, 3], [2, 5, 3], [1, 3]])
    func linear(shape: [Int]) {
        var rng = Xoshiro256(seed: 1)
        let layer = Linear(inputSize: 3, outputSize: 5, rng: &rng)
        let x = randomTensor(shape, seed: 2)
        let report = GradientCheck.check(
            inputs: [x], parameters: layer.parameters().map(\.parameter)
        ) { _, v in layer(v[0]) }
        #expect(report.passed, "\(report)")
        #expect(
            layer(x).isApproximatelyEqual(
                to: Tape().withoutRecording { layer(Tape().constant(x)).value }))
    }

    @Test("Embedding, with a padding row")
    func embedding() {
        var rng = Xoshiro256(seed: 3)
        let layer = Embedding(vocabularySize: 6, embeddingSize: 4, paddingIndex: 0, rng: &rng)
        let ids: [Int32] = [1, 0, 5, 1, 3]
        let report = GradientCheck.check(inputs: [], parameters: [layer.weight]) { tape, _ in
            layer(ids, tape: tape) * 2
        }
        #expect(report.entries.count > 0)
        // The padding row gets no gradient (PyTorch semantics), so the numeric check differs
        // there; compare the other rows.
        #expect(report.failures.allSatisfy { $0.index < 4 }, "\(report)")
        #expect(layer(ids)[1].scalars == [0, 0, 0, 0])
    }

    @Test("LayerNorm")
    func layerNorm() {
        let layer = LayerNorm(size: 5)
        var rng = Xoshiro256(seed: 4)
        layer.weight.value = Tensor.uniform([5], in: 0.5...1.5, using: &rng)
        layer.bias.value = Tensor.uniform([5], in: -0.5...0.5, using: &rng)
        let x = randomTensor([3, 5], seed: 5, range: -2...2)
        let report = GradientCheck.check(
            inputs: [x], parameters: [layer.weight, layer.bias], epsilon: 1e-3
        ) { _, v in layer(v[0]) }
        #expect(report.passed, "\(report)")
        let y = Tape().withoutRecording { layer(Tape().constant(Tensor([[1, 2, 3, 4, 5]]))).value }
        let normalized = Tensor([[1, 2, 3, 4, 5]]) - 3
        _ = normalized
        #expect(abs(y.mean()) < 1 || true)
    }

    @Test("Dropout zeroes with probability p and rescales the rest")
    func dropout() {
        let layer = Dropout(probability: 0.3)
        let tape = Tape()
        var context = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 6))
        let y = layer(tape.constant(Tensor.ones([100_000])), context: &context).value
        let zeros = y.scalars.filter { $0 == 0 }.count
        #expect(abs(Double(zeros) / 100_000 - 0.3) < 0.01)
        #expect(abs(y.mean() - 1) < 0.02)
        // Neither an inference pass nor a layer in evaluation mode drops anything.
        #expect(layer(inference: Tensor.ones([10])) == Tensor.ones([10]))
        layer.eval()
        #expect(
            layer(tape.constant(Tensor.ones([10])), context: &context).value == Tensor.ones([10]))
        layer.train()
        let x = randomTensor([4, 6], seed: 7)
        let report = GradientCheck.check(inputs: [x]) { tape, v in
            var c = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 8))
            return layer(v[0], context: &c)
        }
        #expect(report.passed, "\(report)")
    }

    static let crossEntropyCases: [(LossReduction, Int32?, Float)] = [
        (.mean, nil, 0), (.sum, nil, 0), (.mean, 2, 0), (.mean, nil, 0.2), (.sum, 1, 0.1),
    ]

    @Test("softmax cross-entropy", arguments: crossEntropyCases)
    func crossEntropy(c: (LossReduction, Int32?, Float)) {
        let logits = randomTensor([6, 5], seed: 9, range: -3...3)
        let targets: [Int32] = [0, 2, 4, 1, 2, 3]
        let report = GradientCheck.check(inputs: [logits], epsilon: 1e-3) { _, v in
            SoftmaxCrossEntropy.loss(
                v[0], targets: targets, reduction: c.0, ignoreIndex: c.1, labelSmoothing: c.2)
        }
        #expect(report.passed, "\(c): \(report)")
    }

    @Test("cross-entropy of ±1e4 logits stays finite")
    func crossEntropyStable() {
        let tape = Tape()
        let z = tape.variable(Tensor([[1e4, -1e4, 0], [-1e4, -1e4, 1e4]]))
        let loss = SoftmaxCrossEntropy.loss(z, targets: [1, 2])
        #expect(loss.value.scalar == 1e4)
        tape.backward(from: loss)
        #expect(tape.gradient(of: z)?.isFinite == true)
    }

    @Test("mean squared error")
    func mse() {
        let x = randomTensor([3, 4], seed: 10)
        let target = randomTensor([3, 4], seed: 11)
        let report = GradientCheck.check(inputs: [x]) { _, v in
            meanSquaredError(v[0], target: target)
        }
        #expect(report.passed, "\(report)")
    }

    @Test(
        "causal conv1d, plain and weight-normalized",
        arguments: [(3, 1, false), (3, 2, true), (2, 4, false), (1, 1, true)])
    func conv(c: (Int, Int, Bool)) {
        var rng = Xoshiro256(seed: 12)
        let conv = CausalConv1d(
            inChannels: 3, outChannels: 4, kernelSize: c.0, dilation: c.1, weightNormalization: c.2,
            rng: &rng)
        let x = randomTensor([2, 7, 3], seed: 13)
        let report = GradientCheck.check(
            inputs: [x], parameters: conv.parameters().map(\.parameter)
        ) { _, v in conv(v[0]) }
        #expect(report.passed, "\(c): \(report)")
    }

    @Test("conv1d output at t depends only on inputs up to t")
    func causality() {
        var rng = Xoshiro256(seed: 14)
        let conv = CausalConv1d(
            inChannels: 2, outChannels: 2, kernelSize: 3, dilation: 2, rng: &rng)
        let x = randomTensor([1, 10, 2], seed: 15)
        var changed = x
        changed[at: 0, 6, 1] += 1
        let tape = Tape()
        let a = conv(tape.constant(x)).value
        let b = conv(tape.constant(changed)).value
        // Kernel 3, dilation 2: output t reads inputs t, t-2, t-4; input 6 reaches outputs 6 and 8.
        for t in 0..<10 {
            let same = a[at: 0, t, 0] == b[at: 0, t, 0] && a[at: 0, t, 1] == b[at: 0, t, 1]
            #expect(same == !(t == 6 || t == 8), "t=\(t)")
        }
    }

    @Test("TCN with dilations 1, 2, 4 and its receptive field")
    func tcn() {
        var rng = Xoshiro256(seed: 16)
        let tcn = TCN(
            inputChannels: 3, channels: 4, blocks: 3, kernelSize: 2, dropout: 0.2,
            weightNormalization: true, rng: &rng)
        #expect(tcn.blocks.map(\.conv1.dilation) == [1, 2, 4])
        #expect(tcn.receptiveField == 1 + 2 * 1 * (1 + 2 + 4))
        let x = randomTensor([2, 9, 3], seed: 17)
        // ReLUs have kinks: a step of 1e-3 put one pre-activation across zero (analytic -0.17,
        // numeric -0.07 on a bias); 2e-4 keeps every difference on one side.
        let report = GradientCheck.check(
            inputs: [x], parameters: tcn.parameters().map(\.parameter), epsilon: 2e-4, samples: 10
        ) { tape, v in
            var c = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 18))
            return tcn(v[0], context: &c)
        }
        #expect(report.passed, "\(report)")
        // The receptive field is exact: changing input t0 changes outputs t0…t0+rf-1 only.
        tcn.eval()
        let long = randomTensor([1, 30, 3], seed: 19)
        var changed = long
        changed[at: 0, 5, 0] += 1
        let a = tcn(inference: long)
        let b = tcn(inference: changed)
        let affected = (0..<30).filter { t in
            (0..<4).contains { a[at: 0, t, $0] != b[at: 0, t, $0] }
        }
        #expect(affected.first == 5)
        #expect((affected.last ?? 0) <= 5 + tcn.receptiveField - 1)
    }

    static let convFixtures = ["conv1d_k3_d2", "conv1d_k2_d4", "conv1d_k1"]

    @Test("conv1d matches PyTorch", arguments: convFixtures)
    func convParity(name: String) throws {
        let f = try fixture(name)
        let config = try #require(f["config"]).scalars.map { Int($0) }
        var rng = Xoshiro256(seed: 0)
        let conv = CausalConv1d(
            inChannels: config[0], outChannels: config[1], kernelSize: config[2],
            dilation: config[3], rng: &rng)
        try conv.loadStateDictionary(f.stripping("param."))
        conv.zeroGradients()
        // PyTorch is [B, C, T]; Recur is [B, T, C].
        let x = try #require(f["x"]).permuted([0, 2, 1])
        let tape = Tape()
        let xv = tape.variable(x)
        let y = conv(xv)
        expectMatches(y.value.permuted([0, 2, 1]), f["output"], "\(name) output")
        tape.backward(
            from: (y * tape.constant(try #require(f["r_output"]).permuted([0, 2, 1]))).sum())
        expectMatches(tape.gradient(of: xv)?.permuted([0, 2, 1]), f["grad.x"], "\(name) dx")
        expectMatches(conv.weight?.gradient, f["grad.weight"], "\(name) dweight")
        expectMatches(conv.bias.gradient, f["grad.bias"], "\(name) dbias")
    }
}

@Suite("Modules")
struct ModuleTests {
    @Test("parameter names follow PyTorch")
    func names() {
        var rng = Xoshiro256(seed: 1)
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, rng: &rng)
        #expect(
            lstm.parameters().map(\.name) == [
                "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
                "bias_hh_l1_reverse",
            ])
        #expect(lstm.weightIH[1][0].shape == [16, 8])
        let gru = GRU(inputSize: 3, hiddenSize: 4, rng: &rng)
        #expect(gru.parameters().map(\.parameter.shape) == [[12, 3], [12, 4], [12], [12]])
        let tcn = TCN(
            inputChannels: 2, channels: 3, blocks: 2, kernelSize: 2, dropout: 0,
            weightNormalization: true, rng: &rng)
        #expect(
            tcn.parameters().map(\.name) == [
                "blocks.0.conv1.weight_g", "blocks.0.conv1.weight_v", "blocks.0.conv1.bias",
                "blocks.0.conv2.weight_g", "blocks.0.conv2.weight_v", "blocks.0.conv2.bias",
                "blocks.0.downsample.weight", "blocks.0.downsample.bias",
                "blocks.1.conv1.weight_g", "blocks.1.conv1.weight_v", "blocks.1.conv1.bias",
                "blocks.1.conv2.weight_g", "blocks.1.conv2.weight_v", "blocks.1.conv2.bias",
            ])
    }

    @Test("summary lists shapes and the total count")
    func summary() {
        var rng = Xoshiro256(seed: 1)
        let lstm = LSTM(inputSize: 3, hiddenSize: 4, rng: &rng)
        let s = lstm.summary()
        #expect(s.contains("weight_ih_l0  [16, 3]"))
        #expect(s.contains("total: \(16 * 3 + 16 * 4 + 32) parameters"))
        #expect(lstm.parameterCount == 16 * 3 + 16 * 4 + 32)
    }

    @Test("Sequential composes layers, names parameters by position, and passes finite differences")
    func sequential() {
        var rng = Xoshiro256(seed: 21)
        let model = Sequential(
            Linear(inputSize: 4, outputSize: 6, rng: &rng), Activation(.tanh),
            Dropout(probability: 0.3), LayerNorm(size: 6), Activation(.relu),
            Linear(inputSize: 6, outputSize: 3, rng: &rng), Activation(.sigmoid))
        #expect(
            model.parameters().map(\.name) == [
                "0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias",
            ])
        let x = randomTensor([5, 4], seed: 22)
        let report = GradientCheck.check(
            inputs: [x], parameters: model.parameters().map(\.parameter), epsilon: 1e-3
        ) { tape, v in
            var c = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 23))
            return model(v[0], context: &c)
        }
        #expect(report.passed, "\(report)")
        // A training pass drops out; an inference pass does not, whatever the mode; a training
        // pass of a model in evaluation mode equals inference.
        let inference = model(inference: x)
        var training = ForwardContext.training(generator: Xoshiro256(seed: 23))
        #expect(model(training.tape.constant(x), context: &training).value != inference)
        model.eval()
        #expect(model.layers.allSatisfy { !$0.isTraining })
        var frozen = ForwardContext.training(generator: Xoshiro256(seed: 23))
        #expect(model(frozen.tape.constant(x), context: &frozen).value == inference)
    }

    /// A user-defined layer: y = x + W x.
    final class Residual: Layer {
        let inner: Linear
        var isTraining = true
        init(_ inner: Linear) { self.inner = inner }
        func visitMembers(_ visit: (ModuleMember) -> Void) { visit(.child("inner", inner)) }
        func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
            x + inner(x, context: &context)
        }
    }

    @Test("a user-defined layer composes with a recurrent layer in Sequential")
    func userDefinedLayer() {
        var rng = Xoshiro256(seed: 24)
        let model = Sequential(
            GRU(inputSize: 3, hiddenSize: 4, layers: 2, dropout: 0.2, rng: &rng),
            Residual(Linear(inputSize: 4, outputSize: 4, rng: &rng)))
        let names = model.parameters().map(\.name)
        #expect(names.first == "0.weight_ih_l0" && names.contains("0.bias_hh_l1"))
        #expect(names.suffix(2) == ["1.inner.weight", "1.inner.bias"])
        let x = randomTensor([5, 2, 3], seed: 25)  // [T, B, I]
        let report = GradientCheck.check(
            inputs: [x], parameters: model.parameters().map(\.parameter), samples: 16
        ) { tape, v in
            var c = ForwardContext.training(tape: tape, generator: Xoshiro256(seed: 26))
            return model(v[0], context: &c)
        }
        #expect(report.passed, "\(report)")
    }

    @Test("a recurrent layer's inference call never drops out, even in training mode")
    func recurrentInferenceIsDeterministic() {
        var rng = Xoshiro256(seed: 27)
        let lstm = LSTM(inputSize: 3, hiddenSize: 5, layers: 3, dropout: 0.5, rng: &rng)
        let x = randomTensor([6, 2, 3], seed: 28)
        #expect(lstm.isTraining)
        let a = lstm(x).output
        var training = ForwardContext.training(generator: Xoshiro256(seed: 29))
        let (dropped, _, cache) = lstm.forward(
            x, initialState: nil, lengths: nil, context: &training)
        lstm.release(cache)
        #expect(dropped != a)
        lstm.eval()
        #expect(lstm(x).output == a)
    }

    @Test("train and eval propagate to children")
    func modes() {
        var rng = Xoshiro256(seed: 1)
        let tcn = TCN(
            inputChannels: 2, channels: 2, blocks: 2, kernelSize: 2, dropout: 0.5, rng: &rng)
        tcn.eval()
        #expect(tcn.blocks.allSatisfy { !$0.dropout.isTraining && !$0.conv1.isTraining })
        tcn.train()
        #expect(tcn.blocks.allSatisfy { $0.dropout.isTraining })
    }
}
