import RecurNN
import RecurText

/// The network behind a character language model.
public enum CharLMCell: String, Codable, CaseIterable, Sendable {
    case lstm, gru, rnn, tcn
}

/// The architecture of a character language model (saved in every checkpoint).
public struct CharLMArchitecture: Codable, Equatable, Sendable {
    /// LSTM, GRU, vanilla RNN or TCN.
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
    /// Dropout on the top recurrent layer's output, before the decoder (recurrent cells only;
    /// nil in checkpoints written before it existed, which means 0).
    public var outputDropout: Float?
    /// Weight drop (DropConnect on the hidden-to-hidden weights W_hh, one mask per training
    /// step, as AWD-LSTM; recurrent cells only; nil in checkpoints written before it existed,
    /// which means 0).
    public var weightDrop: Float?
    /// TCN kernel size.
    public var kernelSize: Int
    /// TCN weight normalization.
    public var weightNormalization: Bool

    /// An architecture; `outputDropout` and `weightDrop` nil mean 0.
    public init(
        cell: CharLMCell, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
        dropout: Float, outputDropout: Float? = nil, weightDrop: Float? = nil, kernelSize: Int = 3,
        weightNormalization: Bool = false
    ) {
        self.cell = cell
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.dropout = dropout
        self.outputDropout = outputDropout
        self.weightDrop = weightDrop
        self.kernelSize = kernelSize
        self.weightNormalization = weightNormalization
    }

    /// A one-line description, such as `LSTM 2×128, embedding 64, vocabulary 66`.
    public var summary: String {
        switch cell {
        case .tcn:
            return
                "TCN \(layers) blocks × \(hiddenSize) channels, kernel \(kernelSize), embedding \(embeddingSize), vocabulary \(vocabularySize)"
        default:
            return
                "\(cell.rawValue.uppercased()) \(layers)×\(hiddenSize), embedding \(embeddingSize), vocabulary \(vocabularySize)"
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
    /// Streams per batch (B).
    public var batchSize: Int = 64
    /// Time steps per window of truncated BPTT (T).
    public var sequenceLength: Int = 100
    /// Optimizer updates to run in total (the run stops at this step).
    public var steps: Int = 0
    /// The base learning rate (the schedule scales it).
    public var learningRate: Float = 2e-3
    /// The optimizer.
    public var optimizer: CharLMOptimizer = .adam
    /// L2 weight decay (decoupled for AdamW).
    public var weightDecay: Float = 0
    /// The learning-rate schedule over `steps`.
    public var schedule: CharLMSchedule = .constant
    /// Steps of linear warm-up from 0 to the base rate.
    public var warmupSteps: Int = 0
    /// Clip the global gradient norm to this (0: no clipping).
    public var clip: Float = 5
    /// The held-out fraction at the end of the text.
    public var validationFraction: Double = 0.1
    /// Steps between validations (0: only at the end).
    public var evaluateEvery: Int = 500
    /// Steps between checkpoints (0: only at the end).
    public var checkpointEvery: Int = 500
    /// Steps between progress reports and metrics lines.
    public var logEvery: Int = 50
    /// Seeds initialization, dropout and sampling.
    public var seed: UInt64 = 1
    /// How many model checkpoints (`model-<step>.safetensors`) the run directory keeps, newest
    /// first (nil: 1).
    ///
    /// Optional so that checkpoints written before it existed still load.
    public var keepCheckpoints: Int?
    /// Early stopping: end the run once this many validations in a row have not improved on the
    /// best (nil: never).
    ///
    /// Optional so that checkpoints written before it existed still load.
    public var patience: Int?

    /// Batch 64, sequence 100, Adam at a constant 2e-3, clipping at 5 (`recur charlm train` uses
    /// a cosine schedule).
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
    /// The best validation bits per symbol so far.
    public var bestValidationBPC: Double?
    /// The step of `bestValidationBPC`.
    public var bestStep: Int?
    /// The most recent validation bits per symbol.
    public var lastValidationBPC: Double?
    /// Training time so far (excluding evaluation), seconds.
    public var trainingSeconds: Double = 0
    /// Training symbols seen so far.
    public var trainedSymbols: Int = 0
    /// Steps whose gradients clipping scaled down.
    public var clippedSteps: Int = 0
    /// The learning-rate schedule's state (for the plateau schedule).
    public var schedule: LearningRateSchedule = LearningRateSchedule()

    /// A run that has not started.
    public init() {}
}

/// The JSON sidecar's `config` of a char-LM checkpoint.
public struct CharLMCheckpointConfig: Codable, Sendable {
    /// The model's architecture.
    public var architecture: CharLMArchitecture
    /// How text is split into symbols.
    public var unit: TextUnit
    /// The vocabulary's symbols (bytes), without the unknown symbol at id 0.
    public var symbols: [[UInt8]]
    /// The training settings.
    public var training: CharLMTrainingConfig
    /// Where training stood.
    public var progress: CharLMProgress
    /// The training text, for `inspect`.
    public var dataPath: String
    /// Symbols in the training text.
    public var dataSymbols: Int

    /// The vocabulary these symbols describe.
    public var vocabulary: CharVocabulary { CharVocabulary(symbols: symbols, unit: unit) }
}

/// Kinds written into checkpoint sidecars.
public enum CharLMCheckpoint {
    /// The `kind` of a char-LM checkpoint sidecar.
    public static let kind = "recur charlm"
}

extension CharLMCheckpointConfig {
    /// Upper bounds for sizes read from a checkpoint (far above any model this tool trains on a
    /// CPU, far below what would overflow or exhaust memory).
    static let maximumWidth = 1 << 16
    static let maximumVocabulary = 1 << 24

    /// Checks every field against its domain, and the architecture against the number of
    /// parameter values the weights file holds (`modelElements`), before anything is built.
    public func validate(path: String, modelElements: Int) throws {
        let check = CheckpointFieldCheck(path: path)
        let a = architecture
        let w = CharLMCheckpointConfig.maximumWidth
        try check.inRange(
            a.vocabularySize, 2...CharLMCheckpointConfig.maximumVocabulary,
            "architecture.vocabularySize")
        try check.require(
            a.vocabularySize == symbols.count + 1, "symbols",
            "\(symbols.count) symbols for a vocabulary of \(a.vocabularySize) (symbols + <unk>)")
        try check.require(
            symbols.allSatisfy { !$0.isEmpty && $0.count <= 64 }, "symbols",
            "a symbol is empty or longer than 64 bytes")
        try check.require(Set(symbols).count == symbols.count, "symbols", "a symbol appears twice")
        try check.inRange(a.embeddingSize, 1...w, "architecture.embeddingSize")
        try check.inRange(a.hiddenSize, 1...w, "architecture.hiddenSize")
        try check.finite(a.dropout, 0..<1, "architecture.dropout")
        if let p = a.outputDropout { try check.finite(p, 0..<1, "architecture.outputDropout") }
        if let p = a.weightDrop { try check.finite(p, 0..<1, "architecture.weightDrop") }
        let embedding = try check.product(
            [a.vocabularySize, a.embeddingSize], limit: Int.max / 4, "architecture")
        let body: Int
        if a.cell == .tcn {
            try check.inRange(a.layers, 1...24, "architecture.layers (TCN blocks)")
            try check.inRange(a.kernelSize, 1...64, "architecture.kernelSize")
            body = try check.product(
                [a.layers, a.hiddenSize, a.hiddenSize, a.kernelSize], limit: Int.max / 4,
                "architecture")
        } else {
            try check.inRange(a.layers, 1...64, "architecture.layers")
            body = try check.product(
                [a.layers, a.hiddenSize, a.hiddenSize], limit: Int.max / 4, "architecture")
        }
        try check.parameters(atLeast: embedding + body, available: modelElements)

        let t = training
        try check.inRange(t.batchSize, 1...(1 << 20), "training.batchSize")
        try check.inRange(t.sequenceLength, 1...(1 << 20), "training.sequenceLength")
        _ = try check.product(
            [t.batchSize, t.sequenceLength + 1], limit: 1 << 32,
            "training.batchSize × sequenceLength")
        try check.inRange(t.steps, 0...(1 << 48), "training.steps")
        try check.finite(
            t.learningRate, Float.leastNonzeroMagnitude...Float.greatestFiniteMagnitude,
            "training.learningRate")
        try check.finite(t.weightDecay, 0...1e6, "training.weightDecay")
        try check.inRange(t.warmupSteps, 0...(1 << 48), "training.warmupSteps")
        try check.finite(t.clip, 0...Float.greatestFiniteMagnitude, "training.clip")
        try check.finite(t.validationFraction, 0..<1, "training.validationFraction")
        try check.inRange(t.evaluateEvery, 0...(1 << 48), "training.evaluateEvery")
        try check.inRange(t.checkpointEvery, 0...(1 << 48), "training.checkpointEvery")
        try check.inRange(t.logEvery, 1...(1 << 48), "training.logEvery")
        if let keep = t.keepCheckpoints {
            try check.inRange(keep, 1...100_000, "training.keepCheckpoints")
        }
        if let patience = t.patience {
            try check.inRange(patience, 1...1_000_000, "training.patience")
        }

        let p = progress
        try check.progress(
            step: p.step, clippedSteps: p.clippedSteps, trainingSeconds: p.trainingSeconds)
        try check.inRange(p.position, 0...(1 << 48), "progress.position")
        try check.inRange(p.epochs, 0...(1 << 48), "progress.epochs")
        try check.inRange(p.trainedSymbols, 0...(1 << 60), "progress.trainedSymbols")
        if let best = p.bestStep { try check.inRange(best, 0...p.step, "progress.bestStep") }
        try check.finite(
            [
                (p.bestValidationBPC, "progress.bestValidationBPC"),
                (p.lastValidationBPC, "progress.lastValidationBPC"),
            ], 0...1e6)
        let rate = p.schedule.rate(base: t.learningRate, step: p.step)
        try check.require(
            rate.isFinite && rate >= 0, "progress.schedule", "gives the learning rate \(rate)")
        try check.inRange(dataSymbols, 0...(1 << 48), "dataSymbols")
    }
}
