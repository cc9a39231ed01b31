import RecurTensor

/// One recurrent cell, stepped by hand (PyTorch `nn.LSTMCell`, `nn.GRUCell`, `nn.RNNCell`):
/// for decoding, sampling, or any loop that decides its next input from its last output.
///
/// It is the fused sequence layer run for one step, so it shares its kernels, its PyTorch
/// parameter names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, without a layer suffix) and
/// its results: stepping a cell T times gives the sequence layer's outputs.
///
/// ```swift
/// let cell = LSTMCell(inputSize: 16, hiddenSize: 32, rng: &rng)
/// var state = cell.zeroState(batch: 4)
/// for x in inputs { state = cell.step(x, state: state) }     // x: [B, 16]; state.hidden [B, 32]
/// ```
public final class RecurrentCell<Kernel: RecurrentCellKernel>: Module {
    /// The one-layer sequence layer that does the work.
    public let layer: RecurrentLayer<Kernel>
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// A cell with PyTorch's initialization and `nn.LSTMCell`-style names (`weight_ih`, no layer suffix).
    public init(kernel: Kernel, inputSize: Int, hiddenSize: Int, rng: inout Xoshiro256) {
        layer = RecurrentLayer(
            kernel: kernel, inputSize: inputSize, hiddenSize: hiddenSize, plainNames: true,
            rng: &rng)
    }

    /// Input features per step (I).
    public var inputSize: Int { layer.inputSize }
    /// Hidden units (H).
    public var hiddenSize: Int { layer.hiddenSize }

    /// Visits the one-step layer under no name, so the parameters are `weight_ih`, `weight_hh`, ….
    public func visitMembers(_ visit: (ModuleMember) -> Void) { visit(.child("", layer)) }

    /// The state of a batch: hidden (and, for an LSTM, cell) `[B, H]`, zero.
    public func zeroState(batch: Int) -> RecurrentState {
        RecurrentState(
            hidden: Tensor.zeros([batch, hiddenSize]),
            cell: layer.kernel.hasCellState ? Tensor.zeros([batch, hiddenSize]) : nil)
    }

    /// One step without gradients: input `[B, I]`, state `[B, H]` → the next state (its hidden
    /// part is the output).
    public func step(_ input: Tensor, state: RecurrentState) -> RecurrentState {
        precondition(
            input.rank == 2 && input.shape[1] == inputSize,
            "RecurrentCell: input must be [B, \(inputSize)], got \(input.shape)")
        let b = input.shape[0]
        precondition(
            state.hidden.shape == [b, hiddenSize],
            "RecurrentCell: state must be [\(b), \(hiddenSize)], got \(state.hidden.shape)")
        var context = ForwardContext.inference()
        let initial = RecurrentState(
            hidden: state.hidden.reshaped([1, b, hiddenSize]),
            cell: state.cell?.reshaped([1, b, hiddenSize]))
        let (_, next, cache) = layer.forward(
            input.reshaped([1, b, inputSize]), initialState: initial, lengths: nil,
            context: &context)
        layer.release(cache)
        return RecurrentState(
            hidden: next.hidden.reshaped([b, hiddenSize]),
            cell: next.cell?.reshaped([b, hiddenSize]))
    }

    /// One step on a tape: input `[B, I]`, hidden (and cell) `[B, H]` → the next hidden and cell.
    ///
    /// A single cell has no dropout, so it needs no forward context.
    public func callAsFunction(_ input: Variable, hidden: Variable, cell: Variable? = nil) -> (
        hidden: Variable, cell: Variable?
    ) {
        let b = input.shape[0]
        var context = ForwardContext(
            tape: input.tape, isTraining: false, generator: Xoshiro256(seed: 0))
        let (_, h, c) = layer(
            input.reshaped([1, b, inputSize]), initialHidden: hidden.reshaped([1, b, hiddenSize]),
            initialCell: cell?.reshaped([1, b, hiddenSize]), context: &context)
        return (h.reshaped([b, hiddenSize]), c?.reshaped([b, hiddenSize]))
    }
}

/// `nn.LSTMCell`.
public typealias LSTMCell = RecurrentCell<LSTMKernel>
/// `nn.GRUCell`.
public typealias GRUCell = RecurrentCell<GRUKernel>
/// `nn.RNNCell`.
public typealias RNNCell = RecurrentCell<RNNKernel>

extension RecurrentCell where Kernel == LSTMKernel {
    /// An LSTM cell with PyTorch's initialization.
    public convenience init(inputSize: Int, hiddenSize: Int, rng: inout Xoshiro256) {
        self.init(kernel: LSTMKernel(), inputSize: inputSize, hiddenSize: hiddenSize, rng: &rng)
    }
}

extension RecurrentCell where Kernel == GRUKernel {
    /// A GRU cell with PyTorch's initialization.
    public convenience init(inputSize: Int, hiddenSize: Int, rng: inout Xoshiro256) {
        self.init(kernel: GRUKernel(), inputSize: inputSize, hiddenSize: hiddenSize, rng: &rng)
    }
}

extension RecurrentCell where Kernel == RNNKernel {
    /// An Elman RNN cell with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, nonlinearity: RNNKernel.Nonlinearity = .tanh,
        rng: inout Xoshiro256
    ) {
        self.init(
            kernel: RNNKernel(nonlinearity: nonlinearity), inputSize: inputSize,
            hiddenSize: hiddenSize, rng: &rng)
    }
}

// MARK: - Initialization schemes

/// How `RecurrentLayer.initialize` sets the weights.
public enum RecurrentInitialization: String, Sendable, CaseIterable {
    /// PyTorch's default: every weight and bias uniform in ±1/√H (what the initializers do).
    case pytorch
    /// Input weights Xavier/Glorot uniform (±√(6 / (fan_in + fan_out)) per gate block), recurrent
    /// weights orthogonal per gate block (Saxe et al. 2014), biases zero: Keras's default.
    case xavierOrthogonal
}

extension RecurrentLayer {
    /// Re-initializes every weight with `scheme`; with `forgetBias` (LSTM only), the forget
    /// gate's bias starts there (Jozefowicz et al., 2015, recommend 1) and the other biases at 0.
    public func initialize(
        _ scheme: RecurrentInitialization, forgetBias: Float? = nil, rng: inout Xoshiro256
    ) {
        let h = hiddenSize
        let gates = kernel.gateCount
        for l in 0..<layerCount {
            for d in 0..<directionCount {
                switch scheme {
                case .pytorch:
                    let bound = 1 / Float(h).squareRoot()
                    for p in [weightIH[l][d], weightHH[l][d], biasIH[l][d], biasHH[l][d]] {
                        p.value = Tensor.uniform(p.value.shape, in: -bound...bound, using: &rng)
                    }
                case .xavierOrthogonal:
                    let input = layerInputSize(l)
                    let bound = (6 / Float(input + h)).squareRoot()
                    weightIH[l][d].value = Tensor.uniform(
                        [gates * h, input], in: -bound...bound, using: &rng)
                    weightHH[l][d].value = Tensor.concatenate(
                        (0..<gates).map { _ in Tensor.orthogonal(h, using: &rng) }, axis: 0)
                    biasIH[l][d].value = Tensor.zeros([gates * h])
                    biasHH[l][d].value = Tensor.zeros([gates * h])
                }
                if let forgetBias {
                    precondition(kernel.hasCellState, "initialize: forgetBias is for LSTMs")
                    // PyTorch's gate order i|f|g|o: the forget gate is block 1. The sum of the
                    // two biases is what the gate sees.
                    var bih = Tensor.zeros([gates * h])
                    bih.withUnsafeMutableBufferPointer {
                        for j in h..<(2 * h) { $0[j] = forgetBias }
                    }
                    biasIH[l][d].value = bih
                    biasHH[l][d].value = Tensor.zeros([gates * h])
                }
            }
        }
    }
}

extension Tensor {
    /// A random `n × n` orthogonal matrix: Q of the QR decomposition of a standard normal
    /// matrix (modified Gram–Schmidt in Double), uniformly (Haar) distributed, as
    /// `torch.nn.init.orthogonal_`.
    public static func orthogonal(_ n: Int, using rng: inout Xoshiro256) -> Tensor {
        let g = Tensor.normal([n, n], using: &rng)
        // Columns of A = gᵀ are orthonormalized one by one.
        var q = [Double](repeating: 0, count: n * n)  // q[j * n + i]: column j
        let a = g.scalars
        for j in 0..<n {
            var v = (0..<n).map { Double(a[$0 * n + j]) }
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<n { dot += q[k * n + i] * v[i] }
                for i in 0..<n { v[i] -= dot * q[k * n + i] }
            }
            // Gram–Schmidt gives R a positive diagonal (the norms), the sign convention that
            // makes Q Haar-distributed.
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<n { q[j * n + i] = v[i] / norm }
        }
        var result = Tensor(uninitializedShape: [n, n])
        result.withUnsafeMutableBufferPointer { r in
            for i in 0..<n { for j in 0..<n { r[i * n + j] = Float(q[j * n + i]) } }
        }
        return result
    }
}

// MARK: - Truncated BPTT

/// Truncated backpropagation through time over a long stream cut into windows: the state at the
/// end of one window starts the next, but the graph is cut there (the state enters the next
/// window's tape as a constant), so each backward pass spans one window.
///
/// ```swift
/// var tbptt = TruncatedBPTT()
/// for window in windows {                       // each [T, B, I]
///     tape.reset()
///     let out = tbptt(lstm, tape.constant(window), context: &context)
///     tape.backward(from: loss(out)); optimizer.step()
/// }
/// ```
public struct TruncatedBPTT: Sendable {
    /// The carried state (`[L·D, B, H]`), nil before the first window or after `reset()`.
    public var state: RecurrentState?

    /// Starts from `state` (nil: zeros).
    public init(state: RecurrentState? = nil) { self.state = state }

    /// Forgets the carried state (the next window starts from zeros), as at a document end.
    public mutating func reset() { state = nil }

    /// Runs `layer` over one window from the carried state and keeps the final state (detached)
    /// for the next window.
    ///
    /// Returns the window's output `[T, B, D·H]`.
    public mutating func callAsFunction(
        _ layer: any RecurrentSequenceLayer, _ input: Variable, lengths: [Int]? = nil,
        context: inout ForwardContext
    ) -> Variable {
        let tape = input.tape
        if let carried = state, carried.hidden.shape[1] != input.shape[1] {
            preconditionFailure(
                "TruncatedBPTT: the batch changed from \(carried.hidden.shape[1]) to \(input.shape[1]); reset() first"
            )
        }
        let (output, hidden, cell) = layer(
            input, initialHidden: state.map { tape.constant($0.hidden) },
            initialCell: state?.cell.map { tape.constant($0) },
            lengths: lengths, context: &context)
        state = RecurrentState(hidden: hidden.value, cell: cell?.value)
        return output
    }
}
