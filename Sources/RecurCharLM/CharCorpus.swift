import RecurText

/// A text prepared for a character model: normalized, split into symbols, encoded, and split
/// into a training and a validation part (the last `validationFraction` of the text).
public struct CharCorpus: Sendable {
    /// The symbols of the whole text (training and validation), id 0 for `<unk>`.
    public let vocabulary: CharVocabulary
    /// The first `1 - validationFraction` of the text, as ids.
    public let trainIDs: [Int32]
    /// The last `validationFraction` of the text, as ids (held out).
    public let validationIDs: [Int32]
    /// Symbols that were not in a given vocabulary (mapped to `<unk>`).
    public let unknownSymbols: Int

    /// Reads and prepares `path`.
    ///
    /// - Parameters:
    ///   - path: the UTF-8 text file.
    ///   - unit: the symbols: grapheme clusters, code points or bytes.
    ///   - validationFraction: the share at the end of the text held out for validation.
    ///   - vocabulary: use this vocabulary (from a checkpoint) instead of building one.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    /// - Throws: `TextError` for missing, empty, binary or invalid files (and FIFOs or devices).
    public static func load(
        path: String, unit: TextUnit, validationFraction: Double, vocabulary: CharVocabulary? = nil,
        lossy: Bool = false
    ) throws -> CharCorpus {
        // Windows (CRLF) and old Mac (CR) line ends read as LF, so a text trains the same model
        // whichever system saved it (and "\r\n" does not become a symbol of its own).
        let text = TextLines.normalizingLineEnds(try TextFile.read(path, lossy: lossy))
        return CharCorpus(
            text: Array(text.utf8), unit: unit, validationFraction: validationFraction,
            vocabulary: vocabulary)
    }

    /// Prepares UTF-8 `text`.
    public init(
        text: [UInt8], unit: TextUnit, validationFraction: Double, vocabulary: CharVocabulary? = nil
    ) {
        let prepared = unit.prepare(text)
        let vocabulary = vocabulary ?? CharVocabulary(text: prepared, unit: unit)
        let (ids, unknown) = vocabulary.encode(prepared)
        let trainCount = Int(Double(ids.count) * (1 - validationFraction))
        self.vocabulary = vocabulary
        trainIDs = Array(ids[..<trainCount])
        validationIDs = Array(ids[trainCount...])
        unknownSymbols = unknown
    }

    /// All symbols.
    public var count: Int { trainIDs.count + validationIDs.count }
}

/// Contiguous batches for truncated BPTT (as karpathy's char-rnn): the training text is cut into
/// `batch` equal streams, and step after step each stream contributes the next window of
/// `sequence` symbols, so the recurrent state carries over from one batch to the next.
public struct ContiguousBatcher: Sendable {
    /// Streams (rows of a batch).
    public let batch: Int
    /// Symbols per window (time steps of truncated BPTT).
    public let sequence: Int
    /// Symbols per stream.
    public let columns: Int
    private let streams: [Int32]  // [batch, columns]

    /// Nil when the text is shorter than one window per stream (`batch × (sequence + 1)`).
    public init?(ids: [Int32], batch: Int, sequence: Int) {
        let columns = ids.count / batch
        guard batch > 0, sequence > 0, columns >= sequence + 1 else { return nil }
        self.batch = batch
        self.sequence = sequence
        self.columns = columns
        streams = Array(ids[..<(columns * batch)])
    }

    /// Whether a window starting at `position` still fits; if not, training wraps to position 0
    /// and resets the recurrent state (a new epoch).
    public func fits(_ position: Int) -> Bool { position + sequence + 1 <= columns }

    /// The inputs and targets of the window at `position`, time-major (`[t·B + b]`).
    public func window(at position: Int, inputs: inout [Int32], targets: inout [Int32]) {
        let (t, b) = (sequence, batch)
        if inputs.count != t * b { inputs = Array(repeating: 0, count: t * b) }
        if targets.count != t * b { targets = Array(repeating: 0, count: t * b) }
        streams.withUnsafeBufferPointer { s in
            for step in 0..<t {
                for row in 0..<b {
                    let base = row * columns + position + step
                    inputs[step * b + row] = s[base]
                    targets[step * b + row] = s[base + 1]
                }
            }
        }
    }

    /// Windows per pass over the text.
    public var windowsPerEpoch: Int { (columns - 1) / sequence }
}
