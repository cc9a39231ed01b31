import RecurText

/// Hyperparameters of word2vec training, with the C tool's names and defaults.
public struct Word2VecConfiguration: Sendable, Equatable, Codable {
    /// Vector size (`-size`).
    public var dimensions = 100
    /// Maximum distance between a word and its context (`-window`); each position draws its
    /// effective window uniformly from 1…window.
    public var window = 5
    /// Negative samples per positive pair (`-negative`; 0 with hierarchical softmax only).
    public var negative = 5
    /// Hierarchical softmax over a Huffman tree (`-hs 1`).
    public var hierarchicalSoftmax = false
    /// Continuous bag of words instead of skip-gram (`-cbow 1`).
    public var cbow = false
    /// Frequent-word subsampling threshold (`-sample`; 0: off).
    public var sample: Double = 1e-3
    /// Words rarer than this are dropped (`-min-count`).
    public var minCount = 5
    /// Keep only the most frequent words (0: no limit).
    public var maxVocabulary = 0
    /// Passes over the corpus (`-iter`).
    public var epochs = 5
    /// Starting learning rate (`-alpha`; the C tool uses 0.05 for CBOW), decayed linearly to
    /// 0.0001 of it.
    public var learningRate: Float = 0.025
    /// Worker threads (`-threads`).
    public var threads = 2
    /// Seeds initialization, subsampling, windows and negative samples.
    public var seed: UInt64 = 1
    /// How lines are split into words (`.whitespace` as the C tool).
    public var tokenization: Tokenization = .whitespace

    /// The defaults of `recur word2vec train` (the C tool's, with skip-gram).
    public init() {}

    /// A one-line description of a problem with the values, or nil when they are usable.
    public var problem: String? {
        if dimensions <= 0 || dimensions > 1 << 16 {
            return "--dim must be between 1 and 65536, got \(dimensions)"
        }
        if window <= 0 || window > 10_000 {
            return "--window must be between 1 and 10000, got \(window)"
        }
        if negative < 0 || negative > 10_000 {
            return "--negative must be between 0 and 10000, got \(negative)"
        }
        if negative == 0 && !hierarchicalSoftmax {
            return "--negative must be positive (or use --hs), got \(negative)"
        }
        if !(sample >= 0 && sample.isFinite) {
            return "--sample must be a non-negative number, got \(sample)"
        }
        if minCount < 1 { return "--min-count must be at least 1, got \(minCount)" }
        if maxVocabulary < 0 { return "--max-vocab must not be negative, got \(maxVocabulary)" }
        if epochs <= 0 || epochs > 1_000_000 {
            return "--epochs must be between 1 and 1000000, got \(epochs)"
        }
        if !(learningRate > 0 && learningRate <= 10) {
            return "--lr must be a positive number up to 10, got \(learningRate)"
        }
        if threads < 1 || threads > 256 {
            return "--threads must be between 1 and 256, got \(threads)"
        }
        return nil
    }
}

/// Errors from word2vec training and from vector files.
public enum Word2VecError: Error, Equatable, CustomStringConvertible {
    case emptyVocabulary(path: String, minCount: Int, distinctWords: Int)
    case emptyCorpus(path: String)
    case malformedVectors(path: String, line: Int, reason: String)
    case unknownWords([String])
    case invalidConfiguration(String)
    /// The vectors became NaN or infinite (usually a learning rate far too high).
    case diverged(learningRate: Float)

    /// One line saying what is wrong.
    public var description: String {
        switch self {
        case .emptyVocabulary(let path, let minCount, let distinct):
            return
                "\(path): no word occurs at least \(minCount) times (\(distinct) distinct words); lower --min-count"
        case .emptyCorpus(let path): return "\(path): the corpus has no words"
        case .malformedVectors(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .unknownWords(let words):
            return "not in the vocabulary: " + words.joined(separator: ", ")
        case .invalidConfiguration(let message): return message
        case .diverged(let lr):
            return
                "training diverged: the vectors became NaN or infinite (learning rate \(lr)); nothing was written; try a lower --lr"
        }
    }
}
