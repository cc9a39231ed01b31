import RecurTensor

/// A recurrent stack, whatever its cell: `LSTM`, `GRU` and `RNN` all conform, so a model can
/// hold `any RecurrentSequenceLayer` and use every call shape without knowing the cell: the
/// fused tensor calls with an explicit cache (`forward`, `backward`, `release`), the tape calls
/// on sequences and on token ids, and, as a `Layer`, the plain sequence-to-sequence call.
public protocol RecurrentSequenceLayer: Layer {
    /// PyTorch's mode name (`LSTM`, `GRU`, `RNN_TANH`, `RNN_RELU`).
    var mode: String { get }
    /// Input features per step of the first layer (I).
    var inputSize: Int { get }
    /// Hidden units per layer and direction (H).
    var hiddenSize: Int { get }
    /// Stacked layers (L).
    var layerCount: Int { get }
    /// Directions (D): 2 when bidirectional.
    var directionCount: Int { get }
    /// Whether the state includes a cell (LSTM).
    var hasCellState: Bool { get }
    /// How the time loop is split across threads (the choices give the same numbers).
    var recurrenceSplit: RecurrenceSplit { get set }
    /// The threads that run the time loop.
    var threadPool: ThreadPool { get set }

    /// The fused run over `input` `[T, B, I]`; see `RecurrentLayer.forward(_:initialState:lengths:context:)`.
    func forward(
        _ input: Tensor, initialState: RecurrentState?, lengths: [Int]?,
        context: inout ForwardContext
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache)

    /// The fused run over token ids; see `RecurrentLayer.forward(tokens:timeSteps:batch:embedding:initialState:lengths:context:)`.
    func forward(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialState: RecurrentState?, lengths: [Int]?, context: inout ForwardContext
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache)

    /// Back-propagates a fused run; see `RecurrentLayer.backward(_:outputGradient:stateGradient:needsInputGradient:)`.
    @discardableResult
    func backward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState?,
        needsInputGradient: Bool
    ) -> (input: Tensor?, initialState: RecurrentState)

    /// Returns an unused cache to the pool.
    func release(_ cache: RecurrentCache)

    /// The run over `input` `[T, B, I]` as one tape node, with its final states.
    func callAsFunction(
        _ input: Variable, initialHidden: Variable?, initialCell: Variable?, lengths: [Int]?,
        context: inout ForwardContext
    ) -> (output: Variable, hidden: Variable, cell: Variable?)

    /// The run over token ids (embedding folded into the first layer) as one tape node on the
    /// context's tape, with its final states.
    func callAsFunction(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialHidden: Variable?, initialCell: Variable?, lengths: [Int]?,
        context: inout ForwardContext
    ) -> (output: Variable, hidden: Variable, cell: Variable?)
}

extension RecurrentLayer: RecurrentSequenceLayer {
    /// PyTorch's mode name of the cell (`LSTM`, `GRU`, `RNN_TANH`, `RNN_RELU`).
    public var mode: String { kernel.mode }
    /// Whether the cell carries a cell state c besides h (LSTM).
    public var hasCellState: Bool { kernel.hasCellState }
}

extension RecurrentState {
    /// Zeros for `count` layer-directions of batch `batch`.
    public static func zeros(count: Int, batch: Int, hiddenSize: Int, cell: Bool) -> RecurrentState
    {
        RecurrentState(
            hidden: Tensor.zeros([count, batch, hiddenSize]),
            cell: cell ? Tensor.zeros([count, batch, hiddenSize]) : nil)
    }
}
