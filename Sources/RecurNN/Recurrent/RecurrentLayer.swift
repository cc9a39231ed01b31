// The fused multi-layer, optionally bidirectional recurrent sequence layer (see CellKernel.swift
// for the dimension legend).
//
// Forward, per layer and direction:
//   1. one GEMM for the input projection of all steps: gates[T·B, G·H] = X W_ihᵀ
//      (or, for token input, a [V, G·H] table E W_ihᵀ read by row); the kernels add b_ih;
//   2. per step: one GEMM h_{t-1} W_hhᵀ into a [B, G·H] scratch (`PanelGEMM`, W_hh packed once
//      per pass), then one fused kernel pass.
//   The time loop is split across the thread pool by batch rows (no synchronization) or by
//   hidden units (a barrier per step), see `RecurrenceJob`; the two directions of a
//   bidirectional layer run concurrently.
// Backward mirrors it: per step one fused kernel pass and one GEMM for d h_{t-1}; then the weight
// gradients for all steps as one GEMM each (dW_ih += dAᵀ X, dW_hh += dA_hhᵀ H_prev) and
// dX = dA W_ih. Workspaces live in a cache that is recycled, so after the first call a
// forward/backward pair allocates nothing.
//
// Files: this one holds the layer's API (state, parameters, forward/backward entry points);
// RecurrentLayer+Forward.swift and RecurrentLayer+Backward.swift the drivers; RecurrenceJob.swift
// the thread job that runs the time loop; RecurrentWorkspace.swift the buffers and the cache;
// LSTMKernel.swift, GRUKernel.swift and RNNKernel.swift the equations (CellKernel.swift their
// protocol and step structs); RecurrentLayer+Tape.swift the autodiff wrappers.

import RecurBase
import RecurTensor

/// The recurrent state of every layer and direction: `hidden` and (LSTM) `cell`, each
/// `[L·D, B, H]`, ordered layer-major with the reverse direction after the forward one
/// (PyTorch's `h_n` layout).
public struct RecurrentState: Sendable {
    /// h, `[L·D, B, H]`.
    public var hidden: Tensor
    /// c, `[L·D, B, H]` (LSTM only).
    public var cell: Tensor?

    /// A state from h (and c for an LSTM).
    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }
}

/// A stack of recurrent layers run over whole sequences, with backpropagation through time.
///
/// Shapes: input `[T, B, I]` (time-major, like PyTorch's default `batch_first=False`), output
/// `[T, B, D·H]` (the last layer's h at every step, directions concatenated), state
/// `[L·D, B, H]`. Parameters use PyTorch's names and layouts (`weight_ih_l0` `[G·H, I]`,
/// `weight_hh_l0` `[G·H, H]`, `bias_ih_l0`, `bias_hh_l0`, `…_reverse`), so weights move between
/// Recur and `torch.nn.LSTM/GRU/RNN` unchanged.
///
/// Variable-length batches: with `lengths`, row b only runs steps `0..<lengths[b]`; its outputs
/// past the end are zero and its final state is the state at its last step (PyTorch's packed
/// sequences). Dropout (training only) applies to every layer's output except the last.
///
/// ```swift
/// var rng = Xoshiro256(seed: 1)
/// let lstm = LSTM(inputSize: 64, hiddenSize: 128, layers: 2, rng: &rng)
/// var context = ForwardContext.training(generator: rng)
/// let (output, state, cache) = lstm.forward(x, context: &context)  // x: [T, B, 64]
/// let grads = lstm.backward(cache, outputGradient: dOutput)       // accumulates weight grads
/// ```
public final class RecurrentLayer<Kernel: RecurrentCellKernel>: Module {
    /// The cell's equations.
    public let kernel: Kernel
    /// Input features per step of the first layer (I).
    public let inputSize: Int
    /// Hidden units per layer and direction (H).
    public let hiddenSize: Int
    /// Stacked layers (L).
    public let layerCount: Int
    /// Whether each layer also runs backward in time (D = 2).
    public let isBidirectional: Bool
    /// Dropout probability between layers (training only).
    public let dropout: Float
    /// Training mode: inter-layer dropout in training passes; `eval()` turns it off.
    public var isTraining = true
    /// How the time loop is split across threads (`automatic` picks per shape; the others exist
    /// for tests and tuning, and give the same numbers).
    public var recurrenceSplit = RecurrenceSplit.automatic
    /// The threads that run the time loop.
    public var threadPool = ThreadPool.shared

    /// `weightIH[l][d]` is `[G·H, I_l]`; likewise `weightHH` `[G·H, H]`, `biasIH`, `biasHH` `[G·H]`.
    public let weightIH: [[Parameter]]
    /// `weight_hh_l{l}`: `[G·H, H]` per layer and direction.
    public let weightHH: [[Parameter]]
    /// `bias_ih_l{l}`: `[G·H]` per layer and direction.
    public let biasIH: [[Parameter]]
    /// `bias_hh_l{l}`: `[G·H]` per layer and direction.
    public let biasHH: [[Parameter]]
    /// Parameter names without the `_l0` suffix (single cells: `weight_ih`, as `nn.LSTMCell`).
    let plainNames: Bool

    var freeCaches: [RecurrentCache] = []

    /// D.
    public var directionCount: Int { isBidirectional ? 2 : 1 }
    /// G·H.
    var gateWidth: Int { kernel.gateCount * hiddenSize }
    /// Bias-gradient accumulators per batch row: the input side's, then the recurrent side's
    /// when the kernel keeps it apart (GRU).
    var biasAccumulatorWidth: Int { (kernel.separateRecurrentGradient ? 2 : 1) * gateWidth }

    /// Creates the layer with PyTorch's initialization: every weight and bias uniform in ±1/√H,
    /// drawn in parameter order.
    public init(
        kernel: Kernel, inputSize: Int, hiddenSize: Int, layers: Int = 1,
        bidirectional: Bool = false,
        dropout: Float = 0, plainNames: Bool = false, rng: inout Xoshiro256
    ) {
        precondition(
            inputSize > 0 && hiddenSize > 0 && layers > 0, "RecurrentLayer: sizes must be positive")
        precondition(
            dropout >= 0 && dropout < 1, "RecurrentLayer: dropout must be in [0, 1), got \(dropout)"
        )
        precondition(
            !plainNames || (layers == 1 && !bidirectional),
            "RecurrentLayer: plain names need one unidirectional layer")
        self.kernel = kernel
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        layerCount = layers
        isBidirectional = bidirectional
        self.dropout = dropout
        self.plainNames = plainNames
        let bound = 1 / Float(hiddenSize).squareRoot()
        let g = kernel.gateCount * hiddenSize
        var wih: [[Parameter]] = []
        var whh: [[Parameter]] = []
        var bih: [[Parameter]] = []
        var bhh: [[Parameter]] = []
        for l in 0..<layers {
            let input = l == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1)
            var a: [Parameter] = []
            var b: [Parameter] = []
            var c: [Parameter] = []
            var d: [Parameter] = []
            for _ in 0..<(bidirectional ? 2 : 1) {
                a.append(Parameter(Tensor.uniform([g, input], in: -bound...bound, using: &rng)))
                b.append(
                    Parameter(Tensor.uniform([g, hiddenSize], in: -bound...bound, using: &rng)))
                c.append(Parameter(Tensor.uniform([g], in: -bound...bound, using: &rng)))
                d.append(Parameter(Tensor.uniform([g], in: -bound...bound, using: &rng)))
            }
            wih.append(a)
            whh.append(b)
            bih.append(c)
            bhh.append(d)
        }
        weightIH = wih
        weightHH = whh
        biasIH = bih
        biasHH = bhh
    }

    /// PyTorch's suffix for a layer and direction: `_l0`, `_l1_reverse`, or none for cells.
    func suffix(_ l: Int, _ d: Int) -> String {
        plainNames ? "" : "_l\(l)" + (d == 1 ? "_reverse" : "")
    }

    /// Visits every parameter with its PyTorch name (`weight_ih_l0`, …, `bias_hh_l1_reverse`).
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        for l in 0..<layerCount {
            for d in 0..<directionCount {
                let s = suffix(l, d)
                visit(.parameter("weight_ih" + s, weightIH[l][d]))
                visit(.parameter("weight_hh" + s, weightHH[l][d]))
                visit(.parameter("bias_ih" + s, biasIH[l][d]))
                visit(.parameter("bias_hh" + s, biasHH[l][d]))
            }
        }
    }

    /// I_l: the input width of layer l.
    func layerInputSize(_ l: Int) -> Int { l == 0 ? inputSize : hiddenSize * directionCount }

    // MARK: - Public forward/backward

    /// Runs the layers over `input` `[T, B, I]`.
    ///
    /// - Parameters:
    ///   - input: `[T, B, I]`, time-major.
    ///   - initialState: `[L·D, B, H]` states (zeros when nil).
    ///   - lengths: per-row sequence lengths in `1…T` (all T when nil).
    ///   - context: a training pass draws the inter-layer dropout masks from its generator.
    /// - Returns: the output `[T, B, D·H]`, the final state and the cache `backward` needs.
    public func forward(
        _ input: Tensor, initialState: RecurrentState? = nil, lengths: [Int]? = nil,
        context: inout ForwardContext
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache) {
        precondition(
            input.rank == 3 && input.shape[2] == inputSize,
            "\(kernel.mode): input must be [T, B, \(inputSize)], got \(input.shape)")
        let cache = takeCache()
        cache.source = .tensor(input)
        run(
            cache, timeSteps: input.shape[0], batch: input.shape[1], initialState: initialState,
            lengths: lengths, context: &context)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Runs the layers over token ids embedded by `embedding`, without materializing the
    /// embeddings: the first layer's input projection becomes a lookup in the table
    /// `E W_ihᵀ` `[V, G·H]` (DESIGN.md, "Algebra that saves work"; the kernel adds the biases).
    ///
    /// - Parameters:
    ///   - tokens: `T·B` ids, time-major (`tokens[t·B + b]`).
    ///   - timeSteps: T.
    ///   - batch: B.
    ///   - embedding: the embedding whose table `E` the ids index.
    ///   - initialState: `[L·D, B, H]` states (zeros when nil).
    ///   - lengths: per-row sequence lengths in `1…T` (all T when nil).
    ///   - context: a training pass draws the inter-layer dropout masks from its generator.
    public func forward(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialState: RecurrentState? = nil, lengths: [Int]? = nil,
        context: inout ForwardContext
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache) {
        precondition(
            tokens.count == timeSteps * batch,
            "\(kernel.mode): \(tokens.count) tokens for T=\(timeSteps), B=\(batch)")
        precondition(
            embedding.embeddingSize == inputSize,
            "\(kernel.mode): embedding size \(embedding.embeddingSize) ≠ input size \(inputSize)")
        for id in tokens {
            precondition(
                id >= 0 && Int(id) < embedding.vocabularySize,
                "\(kernel.mode): token \(id) out of range")
        }
        let cache = takeCache()
        cache.source = .tokens(tokens, embedding)
        cache.tokens.assign(count: tokens.count) { tokens[$0] }
        run(
            cache, timeSteps: timeSteps, batch: batch, initialState: initialState, lengths: lengths,
            context: &context)
        return (cache.layerOutputs[layerCount - 1], cache.finalState, cache)
    }

    /// Inference (no dropout, whatever the mode): output and final state, no cache kept.
    public func callAsFunction(
        _ input: Tensor, initialState: RecurrentState? = nil, lengths: [Int]? = nil
    ) -> (output: Tensor, state: RecurrentState) {
        var context = ForwardContext.inference()
        let (output, state, cache) = forward(
            input, initialState: initialState, lengths: lengths, context: &context)
        release(cache)
        return (output, state)
    }

    /// Back-propagates through the run recorded in `cache`, accumulating (`+=`) the weight
    /// gradients.
    ///
    /// - Parameters:
    ///   - cache: what the forward pass recorded (released for reuse afterwards).
    ///   - outputGradient: d loss / d output `[T, B, D·H]` (nil: zero).
    ///   - stateGradient: d loss / d final state (nil: zero).
    ///   - needsInputGradient: whether to compute d loss / d input (skip it for the first layer
    ///     of a model whose input is data).
    /// - Returns: d loss / d input `[T, B, I]` (nil when not requested or for token input, whose
    ///   gradient goes into the embedding's weight) and d loss / d initial state.
    @discardableResult
    public func backward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState? = nil,
        needsInputGradient: Bool = true
    ) -> (input: Tensor?, initialState: RecurrentState) {
        precondition(cache.isLive, "\(kernel.mode).backward: cache already used or released")
        if let g = outputGradient {
            // Compared dimension by dimension: an array literal here would allocate every step.
            precondition(
                g.rank == 3 && g.shape[0] == cache.timeSteps && g.shape[1] == cache.batch
                    && g.shape[2] == hiddenSize * directionCount,
                "\(kernel.mode).backward: output gradient \(g.shape) does not match the output")
        }
        let result = runBackward(
            cache, outputGradient: outputGradient, stateGradient: stateGradient,
            needsInputGradient: needsInputGradient)
        release(cache)
        return result
    }

    /// Returns an unused cache to the pool (after inference, or to abandon a run).
    public func release(_ cache: RecurrentCache) {
        guard cache.isLive else { return }
        cache.isLive = false
        cache.source = .none
        if freeCaches.count < 4 { freeCaches.append(cache) }
    }

    func takeCache() -> RecurrentCache {
        let cache =
            freeCaches.popLast() ?? RecurrentCache(layers: layerCount, directions: directionCount)
        cache.isLive = true
        return cache
    }

}

// MARK: - The three layer types

/// Multi-layer LSTM over sequences (PyTorch `nn.LSTM`); see `RecurrentLayer` and `LSTMKernel`.
public typealias LSTM = RecurrentLayer<LSTMKernel>
/// Multi-layer GRU over sequences (PyTorch `nn.GRU`); see `RecurrentLayer` and `GRUKernel`.
public typealias GRU = RecurrentLayer<GRUKernel>
/// Multi-layer Elman RNN over sequences (PyTorch `nn.RNN`); see `RecurrentLayer` and `RNNKernel`.
public typealias RNN = RecurrentLayer<RNNKernel>

extension RecurrentLayer where Kernel == LSTMKernel {
    /// An LSTM stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
        dropout: Float = 0,
        rng: inout Xoshiro256
    ) {
        self.init(
            kernel: LSTMKernel(), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
            bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}

extension RecurrentLayer where Kernel == GRUKernel {
    /// A GRU stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
        dropout: Float = 0,
        rng: inout Xoshiro256
    ) {
        self.init(
            kernel: GRUKernel(), inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
            bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}

extension RecurrentLayer where Kernel == RNNKernel {
    /// An Elman RNN stack with PyTorch's initialization.
    public convenience init(
        inputSize: Int, hiddenSize: Int, layers: Int = 1,
        nonlinearity: RNNKernel.Nonlinearity = .tanh,
        bidirectional: Bool = false, dropout: Float = 0, rng: inout Xoshiro256
    ) {
        self.init(
            kernel: RNNKernel(nonlinearity: nonlinearity), inputSize: inputSize,
            hiddenSize: hiddenSize,
            layers: layers, bidirectional: bidirectional, dropout: dropout, rng: &rng)
    }
}
