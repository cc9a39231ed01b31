import RecurBase
import RecurTensor
import RecurText

#if canImport(Glibc)
    import Glibc
#endif

/// File formats for word vectors.
public enum VectorFormat: String, Sendable, CaseIterable {
    /// word2vec text: `count dim` then `word v1 … vd` per line (gensim `binary=False`).
    case text
    /// word2vec binary: `count dim\n` then `word ` and d little-endian float32 per word (gensim
    /// `binary=True`; gensim writes no newline after a vector, the C tool writes one, both load).
    case binary
    /// TensorBoard projector: `vectors.tsv` (tab-separated rows) and `metadata.tsv` (one word per
    /// line), next to each other.
    case tsv
    /// NumPy: `.npy` (float32, `[V, D]`) plus a `.vocab.txt` with one word per line.
    case npy
}

extension KeyedVectors {
    // MARK: - Writing

    /// Writes the vectors in `format`; every file is written atomically.
    ///
    /// For `tsv`, `path` is a directory (created); for `npy`, the vocabulary goes next to it as
    /// `<path>.vocab.txt`.
    /// - Returns: the files written.
    @discardableResult
    ///
    /// - Parameter replacing: false never replaces an existing file, even one that appears
    ///   while the vectors are written (`AtomicFile.write(to:replacing:producing:)`).
    public func write(to path: String, format: VectorFormat, replacing: Bool = true) throws
        -> [String]
    {
        do {
            switch format {
            case .text:
                try AtomicFile.write(to: path, replacing: replacing) {
                    sink throws(FileWriteError) in try writeText(&sink)
                }
                return [path]
            case .binary:
                try AtomicFile.write(to: path, replacing: replacing) {
                    sink throws(FileWriteError) in try writeBinary(&sink)
                }
                return [path]
            case .tsv:
                try AtomicFile.createDirectory(path)
                try AtomicFile.write(to: path + "/vectors.tsv", replacing: replacing) {
                    sink throws(FileWriteError) in
                    try writeRows(&sink, separator: 0x09, words: false)
                }
                try AtomicFile.write(
                    Array((words.joined(separator: "\n") + "\n").utf8), to: path + "/metadata.tsv",
                    replacing: replacing)
                return [path + "/vectors.tsv", path + "/metadata.tsv"]
            case .npy:
                try AtomicFile.write(npyBytes(), to: path, replacing: replacing)
                try AtomicFile.write(
                    Array((words.joined(separator: "\n") + "\n").utf8), to: path + ".vocab.txt",
                    replacing: replacing)
                return [path, path + ".vocab.txt"]
            }
        } catch {
            throw Word2VecError.invalidConfiguration(error.description)
        }
    }

    /// Streams word2vec text: `count dim`, then `word v1 … vd` per line.
    func writeText(_ sink: inout AtomicFile.Sink) throws(FileWriteError) {
        try sink.write("\(count) \(dimensions)\n".utf8)
        try writeRows(&sink, separator: 0x20, words: true)
    }

    /// Streams one line per vector: the word first when `words`, then the values, each
    /// preceded by `separator` (the first value of a word-less row by nothing).
    ///
    /// A value's shortest round-trip text is a small string, so no line allocates per element.
    func writeRows(_ sink: inout AtomicFile.Sink, separator: UInt8, words includeWords: Bool)
        throws(FileWriteError)
    {
        let d = dimensions
        var line: [UInt8] = []
        for r in 0..<count {
            line.removeAll(keepingCapacity: true)
            if includeWords { line.append(contentsOf: words[r].utf8) }
            vectors.withUnsafeBufferPointer { p in
                for c in 0..<d {
                    if includeWords || c > 0 { line.append(separator) }
                    line.append(contentsOf: p[r * d + c].description.utf8)
                }
            }
            line.append(0x0A)
            try sink.write(line)
        }
    }

    /// Streams word2vec binary: `count dim\n`, then `word ` and d little-endian float32 per word.
    func writeBinary(_ sink: inout AtomicFile.Sink) throws(FileWriteError) {
        try sink.write("\(count) \(dimensions)\n".utf8)
        let d = dimensions
        var record: [UInt8] = []
        for r in 0..<count {
            record.removeAll(keepingCapacity: true)
            record.append(contentsOf: words[r].utf8)
            record.append(0x20)
            vectors.withUnsafeBufferPointer { p in
                for c in 0..<d {
                    withUnsafeBytes(of: p[r * d + c].bitPattern.littleEndian) {
                        record.append(contentsOf: $0)
                    }
                }
            }
            try sink.write(record)
        }
    }

    func npyBytes() -> [UInt8] {
        var header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (\(count), \(dimensions)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        out += [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        vectors.withUnsafeBufferPointer { p in
            for v in p {
                let bits = v.bitPattern.littleEndian
                out += [
                    UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                    UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24),
                ]
            }
        }
        return out
    }

    // MARK: - Reading

    /// The largest vector size the loaders accept (word2vec models use 50–1000).
    public static let maximumDimensions = 1 << 16

    /// Loads word2vec text or binary vectors (`nil`: detect from the content), validating the
    /// header counts, every record's length and that every value is finite.
    ///
    /// The header is checked against the file's real size before anything is allocated: every
    /// binary record takes at least `4·dimensions + 2` bytes and every text record at least
    /// `2·dimensions + 1`, so a header promising more vectors than the file can hold (or whose
    /// `count × dimensions` overflows) is an error, not an allocation.
    public static func load(path: String, binary: Bool? = nil) throws -> KeyedVectors {
        let file = try TextFile.readBytes(path)
        // A byte-order mark is skipped without copying the file.
        let bytes = file[(file.starts(with: TextFile.byteOrderMark) ? 3 : 0)...]
        guard let newline = bytes.prefix(256).firstIndex(of: 0x0A) else {
            throw Word2VecError.malformedVectors(
                path: path, line: 1, reason: "no header line `count dimensions`")
        }
        let header = String(decoding: bytes[..<newline], as: UTF8.self).split(whereSeparator: {
            $0 == " " || $0 == "\r" || $0 == "\t"
        })
        guard header.count == 2, let count = Int(header[0]), let d = Int(header[1]), count >= 0,
            d > 0
        else {
            throw Word2VecError.malformedVectors(
                path: path, line: 1, reason: "the header must be `count dimensions`")
        }
        let body = bytes[(newline + 1)...]
        guard d <= maximumDimensions else {
            throw Word2VecError.malformedVectors(
                path: path, line: 1,
                reason: "\(d) dimensions is more than the \(maximumDimensions) supported")
        }
        let (values, overflow) = count.multipliedReportingOverflow(by: d)
        let smallestRecord = binary == false ? 2 * d + 1 : min(2 * d + 1, 4 * d + 2)
        guard !overflow, count <= body.count / smallestRecord + 1, values <= body.count else {
            throw Word2VecError.malformedVectors(
                path: path, line: 1,
                reason:
                    "truncated or corrupt: the header promises \(count) vectors of \(d) dimensions, more than the file's \(file.count) bytes can hold"
            )
        }
        let isBinary = binary ?? !firstLineIsText(body, dimensions: d)
        return isBinary
            ? try loadBinary(body, count: count, dimensions: d, path: path)
            : try loadText(body, count: count, dimensions: d, path: path)
    }

    /// Whether the first record reads as `word` and d numbers (text format).
    static func firstLineIsText(_ body: ArraySlice<UInt8>, dimensions d: Int) -> Bool {
        let line = body.prefix { $0 != 0x0A }
        let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 })
        guard fields.count == d + 1 else { return body.isEmpty }
        return fields.dropFirst().allSatisfy { Float(String(decoding: $0, as: UTF8.self)) != nil }
    }

    static func loadText(_ body: ArraySlice<UInt8>, count: Int, dimensions d: Int, path: String)
        throws -> KeyedVectors
    {
        var words: [String] = []
        words.reserveCapacity(count)
        var values = [Float]()
        values.reserveCapacity(count * d)
        var lineNumber = 1
        for line in body.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty || (line.count == 1 && line.first == 0x0D) { continue }
            let fields = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 })
            guard fields.count == d + 1 else {
                throw Word2VecError.malformedVectors(
                    path: path, line: lineNumber,
                    reason: "expected a word and \(d) numbers, found \(fields.count - 1) numbers")
            }
            guard words.count < count else {
                throw Word2VecError.malformedVectors(
                    path: path, line: lineNumber, reason: "more vectors than the header's \(count)")
            }
            let word = String(decoding: fields[0], as: UTF8.self)
            for f in fields.dropFirst() {
                guard let v = Float(String(decoding: f, as: UTF8.self)), v.isFinite else {
                    throw Word2VecError.malformedVectors(
                        path: path, line: lineNumber,
                        reason:
                            "`\(String(decoding: f, as: UTF8.self))` in the vector of \(word) is not a finite number"
                    )
                }
                values.append(v)
            }
            words.append(word)
        }
        guard words.count == count else {
            throw Word2VecError.malformedVectors(
                path: path, line: lineNumber,
                reason: "the header promises \(count) vectors, the file has \(words.count)")
        }
        return KeyedVectors(words: words, vectors: Tensor(shape: [count, d], scalars: values))
    }

    static func loadBinary(_ body: ArraySlice<UInt8>, count: Int, dimensions d: Int, path: String)
        throws -> KeyedVectors
    {
        var words: [String] = []
        var values = [Float](repeating: 0, count: count * d)
        var i = body.startIndex
        for n in 0..<count {
            while i < body.endIndex && (body[i] == 0x0A || body[i] == 0x0D) { i += 1 }
            let start = i
            while i < body.endIndex && body[i] != 0x20 { i += 1 }
            guard i < body.endIndex else {
                throw Word2VecError.malformedVectors(
                    path: path, line: n + 2,
                    reason: "vector \(n + 1) of \(count) is truncated (no word)")
            }
            let word = String(decoding: body[start..<i], as: UTF8.self)
            i += 1
            guard body.endIndex - i >= d * 4 else {
                throw Word2VecError.malformedVectors(
                    path: path, line: n + 2,
                    reason: "the record of \(word) (vector \(n + 1) of \(count)) is truncated")
            }
            for c in 0..<d {
                let o = i + 4 * c
                let bits =
                    UInt32(body[o]) | UInt32(body[o + 1]) << 8 | UInt32(body[o + 2]) << 16 | UInt32(
                        body[o + 3]) << 24
                let v = Float(bitPattern: bits)
                guard v.isFinite else {
                    throw Word2VecError.malformedVectors(
                        path: path, line: n + 2,
                        reason: "the vector of \(word) contains NaN or infinity")
                }
                values[n * d + c] = v
            }
            i += d * 4
            words.append(word)
        }
        while i < body.endIndex && (body[i] == 0x0A || body[i] == 0x0D) { i += 1 }
        if i != body.endIndex {
            throw Word2VecError.malformedVectors(
                path: path, line: count + 2, reason: "data after the header's \(count) vectors")
        }
        return KeyedVectors(words: words, vectors: Tensor(shape: [count, d], scalars: values))
    }
}
