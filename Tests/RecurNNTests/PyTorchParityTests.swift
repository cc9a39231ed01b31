import Foundation
import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

/// Loads a fixture written by `Scripts/make_fixtures.py`.
func fixture(_ name: String) throws -> [String: Tensor] {
    guard
        let url = Bundle.module.url(
            forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")
    else {
        throw CheckpointError.fileNotFound(path: "Fixtures/\(name).safetensors")
    }
    return try SafeTensors.read(url.path).tensors
}

/// |a - b| ≤ 1e-5 · max(|a|, |b|) + 1e-6 element-wise (the issue's "1e-5 relative").
func expectMatches(
    _ a: Tensor?, _ b: Tensor?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let a, let b else {
        Issue.record("\(what): missing tensor", sourceLocation: sourceLocation)
        return
    }
    #expect(
        a.isApproximatelyEqual(to: b, relativeTolerance: 1e-5, absoluteTolerance: 1e-6),
        "\(what): \(a.difference(from: b))", sourceLocation: sourceLocation)
}

extension Dictionary where Key == String, Value == Tensor {
    /// The tensors under `prefix`, with the prefix removed.
    func stripping(_ prefix: String) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in self where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
    }
}

@Suite("PyTorch parity")
struct PyTorchParityTests {
    static let recurrentFixtures: [(String, RecurrentCase.Cell, Bool)] = [
        ("lstm_2layer_bi_packed", .lstm, true), ("lstm_2layer", .lstm, false),
        ("gru_2layer_bi_packed", .gru, true), ("gru_2layer", .gru, false),
        ("rnn_tanh_2layer_bi_packed", .rnnTanh, true), ("rnn_relu_2layer", .rnnReLU, false),
    ]

    @Test("RNN, LSTM and GRU outputs and gradients match PyTorch", arguments: recurrentFixtures)
    func recurrent(name: String, cell: RecurrentCase.Cell, bidirectional: Bool) throws {
        let f = try fixture(name)
        let x = try #require(f["x"])
        let (t, b, i) = (x.shape[0], x.shape[1], x.shape[2])
        let h = try #require(f["h0"]).shape[2]
        let layer = makeLayer(
            RecurrentCase(
                cell: cell, layers: 2, bidirectional: bidirectional, lengths: nil,
                withInitialState: true), input: i, hidden: h)
        try layer.loadStateDictionary(f.stripping("param."))
        layer.zeroGradients()
        let lengths = f["lengths"].map { $0.scalars.map { Int($0) } }
        let tape = Tape()
        let xv = tape.variable(x)
        let h0 = tape.variable(try #require(f["h0"]))
        let c0 = f["c0"].map { tape.variable($0) }
        let (out, hn, cn) = apply(layer, xv, h0: h0, c0: c0, lengths: lengths, seed: 0)
        expectMatches(out.value, f["output"], "\(name) output")
        expectMatches(hn.value, f["hn"], "\(name) h_n")
        if let cn { expectMatches(cn.value, f["cn"], "\(name) c_n") }
        var loss =
            (out * tape.constant(try #require(f["r_output"]))).sum()
            + (hn * tape.constant(try #require(f["r_hn"]))).sum()
        if let cn { loss = loss + (cn * tape.constant(try #require(f["r_cn"]))).sum() }
        tape.backward(from: loss)
        expectMatches(tape.gradient(of: xv), f["grad.x"], "\(name) dx")
        expectMatches(tape.gradient(of: h0), f["grad.h0"], "\(name) dh0")
        if let c0 { expectMatches(tape.gradient(of: c0), f["grad.c0"], "\(name) dc0") }
        for (pname, p) in layer.parameters() {
            expectMatches(p.gradient, f["grad." + pname], "\(name) d\(pname)")
        }
        _ = t
        _ = b
    }

    static let crossEntropyFixtures = ["ce_mean", "ce_sum_ignore", "ce_mean_ignore_smooth"]

    @Test("fused cross-entropy matches PyTorch", arguments: crossEntropyFixtures)
    func crossEntropy(name: String) throws {
        let f = try fixture(name)
        let config = try #require(f["config"]).scalars
        let targets = try #require(f["targets"]).scalars.map { Int32($0) }
        let tape = Tape()
        let z = tape.variable(try #require(f["logits"]))
        let loss = SoftmaxCrossEntropy.loss(
            z, targets: targets, reduction: config[0] == 1 ? .mean : .sum,
            ignoreIndex: config[1] < 0 ? nil : Int32(config[1]), labelSmoothing: config[2])
        expectMatches(loss.value.reshaped([1]), f["loss"], "\(name) loss")
        tape.backward(from: loss)
        expectMatches(tape.gradient(of: z), f["grad.logits"], "\(name) dlogits")
    }

    static let optimizerFixtures = [
        "opt_sgd_momentum_nesterov_wd", "opt_sgd_momentum_dampening", "opt_adam", "opt_adamw",
        "opt_rmsprop_momentum_centered", "opt_rmsprop", "opt_adagrad",
    ]

    @Test("three steps of each optimizer match PyTorch", arguments: optimizerFixtures)
    func optimizer(name: String) throws {
        let f = try fixture(name)
        let p = Parameter(try #require(f["param.p"]))
        let q = Parameter(try #require(f["param.q"]))
        let named = [("p", p), ("q", q)]
        let optimizer: any Optimizer
        switch name {
        case "opt_sgd_momentum_nesterov_wd":
            optimizer = SGD(
                parameters: named, learningRate: 0.1, momentum: 0.9, nesterov: true,
                weightDecay: 0.01)
        case "opt_sgd_momentum_dampening":
            optimizer = SGD(parameters: named, learningRate: 0.05, momentum: 0.8, dampening: 0.1)
        case "opt_adam":
            optimizer = Adam(
                parameters: named, learningRate: 0.01, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1)
        case "opt_adamw":
            optimizer = Adam.adamW(parameters: named, learningRate: 0.01, weightDecay: 0.05)
        case "opt_rmsprop_momentum_centered":
            optimizer = RMSProp(
                parameters: named, learningRate: 0.01, alpha: 0.9, momentum: 0.5, centered: true,
                weightDecay: 0.01)
        case "opt_rmsprop": optimizer = RMSProp(parameters: named, learningRate: 0.01)
        default:
            optimizer = Adagrad(
                parameters: named, learningRate: 0.1, learningRateDecay: 0.01, weightDecay: 0.01)
        }
        for step in 0..<3 {
            p.gradient = try #require(f["grad\(step).p"])
            q.gradient = try #require(f["grad\(step).q"])
            optimizer.step()
            expectMatches(p.value, f["after\(step).p"], "\(name) step \(step) p")
            expectMatches(q.value, f["after\(step).q"], "\(name) step \(step) q")
            #expect(p.gradient.scalars.allSatisfy { $0 == 0 })
        }
    }
}
