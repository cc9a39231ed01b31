import RecurTensor

/// What the applications need from a recurrent stack, whatever its cell: `LSTM`, `GRU` and
/// `RNN` all conform, so a model can hold `any RecurrentSequenceLayer`.
public protocol RecurrentSequenceLayer: Module {
    /// PyTorch's mode name (`LSTM`, `GRU`, `RNN_TANH`, `RNN_RELU`).
    var mode: String { get }
    var inputSize: Int { get }
    var hiddenSize: Int { get }
    var layerCount: Int { get }
    var directionCount: Int { get }
    /// Whether the state includes a cell (LSTM).
    var hasCellState: Bool { get }

    func forward(
        _ input: Tensor, initialState: RecurrentState?, lengths: [Int]?, rng: inout Xoshiro256
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache)

    func forward(
        tokens: [Int32], timeSteps: Int, batch: Int, embedding: Embedding,
        initialState: RecurrentState?,
        lengths: [Int]?, rng: inout Xoshiro256
    ) -> (output: Tensor, state: RecurrentState, cache: RecurrentCache)

    @discardableResult
    func backward(
        _ cache: RecurrentCache, outputGradient: Tensor?, stateGradient: RecurrentState?,
        needsInputGradient: Bool
    ) -> (input: Tensor?, initialState: RecurrentState)

    func release(_ cache: RecurrentCache)
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
