import RecurNN
import RecurTensor
import RecurTestSupport
import Testing

extension Tag {
    @Tag static var slow: Self
}

/// Batches of the adding problem (Hochreiter & Schmidhuber 1997): two channels over T steps,
/// random values and a marker on exactly two steps (one in each half); the target is the sum of
/// the two marked values.
func addingBatch(steps: Int, batch: Int, rng: inout Xoshiro256) -> (x: Tensor, y: Tensor) {
    var x = Tensor.zeros([steps, batch, 2])
    var y = Tensor.zeros([batch, 1])
    for b in 0..<batch {
        let first = rng.nextInt(below: steps / 2)
        let second = steps / 2 + rng.nextInt(below: steps / 2)
        var sum: Float = 0
        for t in 0..<steps {
            let v = rng.nextFloat()
            x[at: t, b, 0] = v
            if t == first || t == second {
                x[at: t, b, 1] = 1
                sum += v
            }
        }
        y[at: b, 0] = sum
    }
    return (x, y)
}

@Suite("Learning", .tags(.slow))
struct LearningTests {
    @Test("an LSTM solves the adding problem with T = 50 to MSE < 0.01")
    func addingProblem() {
        var rng = Xoshiro256(seed: 42)
        let (steps, hidden) = (50, 32)
        let lstm = LSTM(inputSize: 2, hiddenSize: hidden, rng: &rng)
        let head = Linear(inputSize: hidden, outputSize: 1, rng: &rng)
        let parameters = lstm.parameters(prefix: "lstm.") + head.parameters(prefix: "head.")
        let optimizer = Adam(parameters: parameters, learningRate: 1e-2)
        let tape = Tape()
        var context = ForwardContext.training(tape: tape, generator: rng)
        var data = Xoshiro256(seed: 7)
        func predict(_ x: Tensor) -> Variable {
            let (out, _, _) = lstm(tape.constant(x), context: &context)
            return head(out[steps - 1])
        }
        var step = 0
        var validation = Float.infinity
        let (vx, vy) = addingBatch(steps: steps, batch: 1000, rng: &data)
        while step < 3000 {
            tape.reset()
            let (x, y) = addingBatch(steps: steps, batch: 64, rng: &data)
            let loss = meanSquaredError(predict(x), target: y)
            tape.backward(from: loss)
            GradientClipping.clipByNorm(parameters, maxNorm: 1)
            optimizer.step()
            step += 1
            if step % 250 == 0 {
                tape.reset()
                validation = tape.withoutRecording {
                    meanSquaredError(predict(vx), target: vy).value.scalar
                }
                if validation < 0.005 { break }
            }
        }
        #expect(
            validation < 0.01,
            "held-out MSE \(validation) after \(step) steps (predicting the mean gives ≈ 0.167)")
    }

    @Test("a GRU learns to copy a sequence")
    func copyTask() {
        // Input: 8 symbols from 1…8, a delimiter 9, then 8 blanks; target: the symbols, emitted
        // during the blanks. Loss only on those steps (ignore index elsewhere).
        let (length, alphabet, hidden, batch) = (8, 8, 128, 32)
        let steps = 2 * length + 1
        var rng = Xoshiro256(seed: 3)
        let embedding = Embedding(vocabularySize: alphabet + 2, embeddingSize: 16, rng: &rng)
        let gru = GRU(inputSize: 16, hiddenSize: hidden, rng: &rng)
        let head = Linear(inputSize: hidden, outputSize: alphabet + 1, rng: &rng)
        let parameters =
            embedding.parameters(prefix: "e.") + gru.parameters(prefix: "g.")
            + head.parameters(prefix: "h.")
        let optimizer = Adam(parameters: parameters, learningRate: 5e-3)
        var data = Xoshiro256(seed: 11)
        func makeBatch(_ n: Int) -> (tokens: [Int32], targets: [Int32]) {
            var tokens = [Int32](repeating: 0, count: steps * n)
            var targets = [Int32](repeating: -1, count: steps * n)
            for b in 0..<n {
                for t in 0..<length {
                    let s = Int32(1 + data.nextInt(below: alphabet))
                    tokens[t * n + b] = s
                    targets[(length + 1 + t) * n + b] = s
                }
                tokens[length * n + b] = Int32(alphabet + 1)
            }
            return (tokens, targets)
        }
        let tape = Tape()
        var context = ForwardContext.training(tape: tape, generator: rng)
        func logits(_ tokens: [Int32], _ n: Int) -> Variable {
            let (out, _, _) = gru(
                tokens: tokens, timeSteps: steps, batch: n, embedding: embedding,
                context: &context)
            return head(out.reshaped([steps * n, hidden]))
        }
        var accuracy = 0.0
        for step in 1...6000 {
            tape.reset()
            let (tokens, targets) = makeBatch(batch)
            let loss = SoftmaxCrossEntropy.loss(
                logits(tokens, batch), targets: targets, ignoreIndex: -1)
            tape.backward(from: loss)
            GradientClipping.clipByNorm(parameters, maxNorm: 1)
            optimizer.step()
            if step % 250 == 0 {
                tape.reset()
                let (vt, vy) = makeBatch(256)
                let predicted = tape.withoutRecording { logits(vt, 256).value.argmax(axis: 1) }
                let scored = vy.indices.filter { vy[$0] >= 0 }
                accuracy =
                    Double(scored.filter { predicted[$0] == Int(vy[$0]) }.count)
                    / Double(scored.count)
                if accuracy > 0.995 { break }
            }
        }
        #expect(accuracy > 0.99, "copy accuracy \(accuracy)")
    }

    @Test("clipping keeps a long vanilla RNN trainable while the unclipped run blows up")
    func clipping() {
        // An identity-initialized ReLU RNN (Le et al. 2015) over 100 steps: the forward pass is
        // stable at first, but the gradient for W_hh sums over all 100 steps, and one
        // unclipped SGD step pushes its spectral radius above 1, after which activations and
        // gradients grow like ρ^100. The same run with and without clipping by norm.
        func run(clip: Float?) -> (norms: [Float], losses: [Float]) {
            var rng = Xoshiro256(seed: 5)
            let rnn = RNN(inputSize: 4, hiddenSize: 16, nonlinearity: .relu, rng: &rng)
            rnn.weightHH[0][0].value = Tensor.eye(16)
            let head = Linear(inputSize: 16, outputSize: 1, rng: &rng)
            let parameters = rnn.parameters(prefix: "rnn.") + head.parameters(prefix: "head.")
            let optimizer = SGD(parameters: parameters, learningRate: 0.01)
            var data = Xoshiro256(seed: 9)
            var norms: [Float] = []
            var losses: [Float] = []
            let tape = Tape()
            var context = ForwardContext.training(tape: tape, generator: rng)
            for _ in 0..<30 {
                tape.reset()
                let x = Tensor.uniform([100, 8, 4], in: 0...0.1, using: &data)
                let y = x.sum(axis: 0).sum(axis: 1, keepingDimension: true) * 0.1
                let (out, _, _) = rnn(tape.constant(x), context: &context)
                let loss = meanSquaredError(head(out[99]), target: y)
                losses.append(loss.value.scalar)
                tape.backward(from: loss)
                let norm =
                    clip.map { GradientClipping.clipByNorm(parameters, maxNorm: $0) }
                    ?? GradientClipping.globalNorm(parameters)
                norms.append(norm)
                if let clip { #expect(GradientClipping.globalNorm(parameters) <= clip * 1.001) }
                optimizer.step()
            }
            return (norms, losses)
        }
        let unclipped = run(clip: nil)
        let clipped = run(clip: 1)
        // Unclipped: the first update is huge, after which loss and gradients explode.
        #expect(
            unclipped.norms.contains { !$0.isFinite || $0 > 1e6 },
            "unclipped norms \(unclipped.norms)")
        #expect(
            unclipped.losses.contains { !$0.isFinite || $0 > 1e6 },
            "unclipped losses \(unclipped.losses)")
        // Clipped: every loss stays finite and the last is below the first.
        #expect(
            clipped.losses.allSatisfy { $0.isFinite && $0 < 1e3 },
            "clipped losses \(clipped.losses)")
        #expect((clipped.losses.last ?? .infinity) < clipped.losses[0])
    }
}

@Suite("Documentation")
struct DocumentationTests {
    /// The code of `RecurNN.docc/GettingStarted.md`, kept identical to the article (print aside),
    /// so that the article cannot rot.
    @Test("the getting-started article trains")
    func gettingStarted() {
        let (steps, batch, hidden) = (12, 32, 24)
        var rng = Xoshiro256(seed: 1)
        let lstm = LSTM(inputSize: 1, hiddenSize: hidden, rng: &rng)
        let head = Linear(inputSize: hidden, outputSize: 1, rng: &rng)
        let parameters = lstm.parameters(prefix: "lstm.") + head.parameters(prefix: "head.")
        let optimizer = Adam(parameters: parameters, learningRate: 1e-2)
        let tape = Tape()
        var context = ForwardContext.training(tape: tape, generator: rng)  // dropout masks, if any
        var losses: [Float] = []
        for _ in 1...400 {
            let x = Tensor.uniform([steps, batch, 1], in: -1...1, using: &rng)  // [T, B, 1]
            let values = x.scalars
            let means = (0..<batch).map { b in
                (0..<steps).reduce(0) { $0 + values[$1 * batch + b] } / Float(steps)
            }
            tape.reset()
            let (_, last, _) = lstm(tape.constant(x), context: &context)  // last: [layers, B, H]
            let prediction = head(last.reshaped([batch, hidden]))  // [B, 1]
            let loss = meanSquaredError(
                prediction, target: Tensor(shape: [batch, 1], scalars: means))
            tape.backward(from: loss)  // gradients into every parameter
            GradientClipping.clipByNorm(parameters, maxNorm: 5)
            optimizer.step()  // updates, then zeroes the gradients
            losses.append(loss.value.scalar)
        }
        // The variance of a mean of 12 uniform(-1, 1) numbers is 1/36 ≈ 0.028.
        let first = losses.prefix(20).reduce(0, +) / 20
        let last = losses.suffix(50).reduce(0, +) / 50
        #expect(first > 0.015)
        #expect(last < 0.001, "mean squared error at the end \(last) (start \(first))")
    }
}
