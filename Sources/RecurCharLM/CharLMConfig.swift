import RecurNN
import RecurText

/// The network behind a character language model.
public enum CharLMCell: String, Codable, CaseIterable, Sendable {
    case lstm, gru, rnn, tcn
}

/// The architecture of a character language model (saved in every checkpoint).
public struct CharLMArchitecture: Codable, Equatable, Sendable {
    public var cell: CharLMCell
    /// V, including the unknown symbol.
    public var vocabularySize: Int
    /// E.
    public var embeddingSize: Int
    /// H for recurrent cells, channels C for the TCN.
    public var hiddenSize: Int
    /// Recurrent layers, or TCN residual blocks.
    public var layers: Int
    /// Dropout between recurrent layers, or inside TCN blocks.
    public var dropout: Float
    /// TCN kernel size.
    public var kernelSize: Int
    /// TCN weight normalization.
    public var weightNormalization: Bool

    public init(
        cell: CharLMCell, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
        dropout: Float, kernelSize: Int = 3, weightNormalization: Bool = false
    ) {
        self.cell = cell
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.dropout = dropout
        self.kernelSize = kernelSize
        self.weightNormalization = weightNormalization
    }

    /// A one-line description, e.g. `LSTM 2×128, embedding 64, vocabulary 66`.
    public var summary: String {
        switch cell {
        case .tcn:
            return "TCN \(layers) blocks × \(hiddenSize) channels, kernel \(kernelSize), embedding \(embeddingSize), vocabulary \(vocabularySize)"
        default:
            return "\(cell.rawValue.uppercased()) \(layers)×\(hiddenSize), embedding \(embeddingSize), vocabulary \(vocabularySize)"
        }
    }
}

/// Which optimizer trains the model.
public enum CharLMOptimizer: String, Codable, CaseIterable, Sendable {
    case adam, adamw, sgd, rmsprop, adagrad
}

/// The shape of the learning-rate schedule.
public enum CharLMSchedule: String, Codable, CaseIterable, Sendable {
    case constant, step, exponential, cosine, plateau
}

/// Everything that controls training (saved in checkpoints; a resumed run may change the
/// length of training, not the rest).
public struct CharLMTrainingConfig: Codable, Equatable, Sendable {
    public var batchSize: Int = 64
    public var sequenceLength: Int = 100
    /// Optimizer updates to run in total (the run stops at this step).
    public var steps: Int = 0
    public var learningRate: Float = 2e-3
    public var optimizer: CharLMOptimizer = .adam
    public var weightDecay: Float = 0
    public var schedule: CharLMSchedule = .constant
    public var warmupSteps: Int = 0
    /// Clip the global gradient norm to this (0: no clipping).
    public var clip: Float = 5
    public var validationFraction: Double = 0.1
    public var evaluateEvery: Int = 500
    public var checkpointEvery: Int = 500
    public var logEvery: Int = 50
    public var seed: UInt64 = 1

    public init() {}
}

/// Where training stands; saved in checkpoints so that a resumed run continues exactly.
public struct CharLMProgress: Codable, Equatable, Sendable {
    /// Updates taken.
    public var step: Int = 0
    /// Offset of the next window in each training stream (recurrent cells).
    public var position: Int = 0
    /// Passes over the training text.
    public var epochs: Int = 0
    public var bestValidationBPC: Double?
    public var bestStep: Int?
    public var lastValidationBPC: Double?
    /// Training time so far (excluding evaluation), seconds.
    public var trainingSeconds: Double = 0
    public var trainedSymbols: Int = 0
    public var clippedSteps: Int = 0
    public var schedule: LearningRateSchedule = LearningRateSchedule()

    public init() {}
}

/// The JSON sidecar's `config` of a char-LM checkpoint.
public struct CharLMCheckpointConfig: Codable, Sendable {
    public var architecture: CharLMArchitecture
    public var unit: TextUnit
    /// The vocabulary's symbols (bytes), without the unknown symbol at id 0.
    public var symbols: [[UInt8]]
    public var training: CharLMTrainingConfig
    public var progress: CharLMProgress
    /// The training text, for `inspect`.
    public var dataPath: String
    public var dataSymbols: Int

    /// The vocabulary these symbols describe.
    public var vocabulary: CharVocabulary { CharVocabulary(symbols: symbols, unit: unit) }
}

/// Kinds written into checkpoint sidecars.
public enum CharLMCheckpoint {
    public static let kind = "recur charlm"
}
