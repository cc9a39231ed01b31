import RecurBase

/// How running text becomes words.
public enum Tokenization: String, Sendable, Codable, CaseIterable {
    /// Split on whitespace only (text8-style corpora, the C tool's behaviour).
    case whitespace
    /// NFC, lower-case, and split punctuation and symbols into tokens of their own; a word is a
    /// run of letters, combining marks, digits and connector punctuation (`_`), in any script,
    /// except that each CJK ideograph is a word of its own (those scripts put no spaces
    /// between words).
    case unicode
}

/// Splits UTF-8 text into words, streaming over byte buffers.
///
/// ```swift
/// WordTokenizer(.unicode).tokens("Hello, Wörld!")   // ["hello", ",", "wörld", "!"]
/// ```
public struct WordTokenizer: Sendable {
    /// How text is split.
    public let mode: Tokenization

    /// A tokenizer that splits text as `mode` says.
    public init(_ mode: Tokenization) { self.mode = mode }

    /// Whether a byte is ASCII whitespace (the separators of whitespace mode; non-ASCII
    /// whitespace is handled in unicode mode).
    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C
    }

    /// Calls `body` with each token of `bytes` (valid UTF-8) in order.
    ///
    /// A `\n` in the text also produces a call with an empty token (sentence boundary) when
    /// `reportNewlines` is set.
    ///
    /// In whitespace mode tokens are slices of `bytes` (no copies); in unicode mode they are
    /// lower-cased into a scratch buffer valid only during the call.
    public func forEachToken(
        _ bytes: UnsafeBufferPointer<UInt8>, reportNewlines: Bool = false,
        _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        let n = bytes.count
        guard let base = bytes.baseAddress else { return }
        switch mode {
        case .whitespace:
            var i = 0
            while i < n {
                while i < n && WordTokenizer.isSpace(base[i]) {
                    if reportNewlines && base[i] == 0x0A {
                        body(UnsafeBufferPointer(start: base, count: 0))
                    }
                    i += 1
                }
                let start = i
                while i < n && !WordTokenizer.isSpace(base[i]) { i += 1 }
                if i > start { body(UnsafeBufferPointer(start: base + start, count: i - start)) }
            }
        case .unicode:
            WordTokenizer.scanUnicode(bytes, lowercase: true, reportNewlines: reportNewlines) {
                token, _ in body(token)
            }
        }
    }

    /// The unicode tokenization's scan: calls `body` with each token (lower-cased when
    /// `lowercase`) and whether white space preceded it in the text.
    static func scanUnicode(
        _ bytes: UnsafeBufferPointer<UInt8>, lowercase: Bool, reportNewlines: Bool,
        _ body: (UnsafeBufferPointer<UInt8>, _ spaceBefore: Bool) -> Void
    ) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var single: [UInt8] = []
        var spaceBefore = false
        var wordSpaceBefore = false
        func flush() {
            if !word.isEmpty {
                let normalized = UnicodeText.nfc(word)
                normalized.withUnsafeBufferPointer { body($0, wordSpaceBefore) }
                word.removeAll(keepingCapacity: true)
                spaceBefore = false
            }
        }
        var i = 0
        while i < n {
            let (scalar, length) = UnicodeText.decode(bytes, at: i)
            switch UnicodeText.characterClass(scalar) {
            case .letter where WordTokenizer.isIdeograph(scalar):
                // Chinese and Japanese write no spaces between words: each ideograph is a
                // token of its own (as BERT's basic tokenizer and sacreBLEU's zh mode do).
                flush()
                wordSpaceBefore = spaceBefore
                UnicodeText.encode(scalar, into: &word)
                flush()
            case .letter, .mark, .number, .connector:
                if word.isEmpty { wordSpaceBefore = spaceBefore }
                UnicodeText.encode(lowercase ? UnicodeText.lowercase(scalar) : scalar, into: &word)
            case .space, .control:
                flush()
                spaceBefore = true
                if reportNewlines && scalar == 0x0A {
                    body(UnsafeBufferPointer(start: base, count: 0), true)
                }
            case .punctuation, .symbol, .other:
                flush()
                single.removeAll(keepingCapacity: true)
                single.append(contentsOf: UnsafeBufferPointer(start: base + i, count: length))
                single.withUnsafeBufferPointer { body($0, spaceBefore) }
                spaceBefore = false
            }
            i += length
        }
        flush()
    }

    /// A token as written, before lower-casing, and whether white space preceded it.
    public struct WrittenToken: Sendable, Equatable {
        /// The token as the tokenizer gives it (lower-cased in unicode mode).
        public var token: String
        /// The same token with its case as written.
        public var written: String
        /// Whether white space came before the token.
        public var spaceBefore: Bool
    }

    /// The tokens of a string with their written case and spacing: what learning how a
    /// language is written (case, space around punctuation) needs.
    ///
    /// In whitespace mode `written` equals `token` and every token but the first follows a space.
    public func writtenTokens(_ text: String) -> [WrittenToken] {
        var out: [WrittenToken] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            switch mode {
            case .whitespace:
                forEachToken(buffer) {
                    let t = String(decoding: $0, as: UTF8.self)
                    out.append(WrittenToken(token: t, written: t, spaceBefore: !out.isEmpty))
                }
            case .unicode:
                WordTokenizer.scanUnicode(buffer, lowercase: false, reportNewlines: false) {
                    token, space in
                    let written = String(decoding: token, as: UTF8.self)
                    out.append(
                        WrittenToken(
                            token: UnicodeText.lowercased(written), written: written,
                            spaceBefore: space))
                }
            }
        }
        return out
    }

    /// CJK unified and compatibility ideographs, extensions A–F included (the scalars the
    /// unicode tokenization makes tokens of their own).
    @inline(__always)
    public static func isIdeograph(_ scalar: Int32) -> Bool {
        (0x4E00...0x9FFF).contains(scalar) || (0x3400...0x4DBF).contains(scalar)
            || (0x20000...0x2EBEF).contains(scalar)
            || (0xF900...0xFAFF).contains(scalar) || (0x2F800...0x2FA1F).contains(scalar)
            || (0x30000...0x3134F).contains(scalar)
    }

    /// The tokens of a string.
    public func tokens(_ text: String) -> [String] {
        var out: [String] = []
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { buffer in
            forEachToken(buffer) { out.append(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }
}

/// Reads a byte range of a file in chunks and hands out whole tokens: a chunk boundary never
/// splits a word.
///
/// Used to stream corpora that need not fit in memory, one shard per thread.
public struct TokenStream {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private let end: Int
    private var position: Int
    private var carry: [UInt8] = []
    private var chunk: [UInt8]
    /// How the bytes are split into tokens.
    public let tokenizer: WordTokenizer

    /// Opens `path` for the byte range `range`; a shard starts at the first token boundary at or
    /// after `range.lowerBound` and ends with the token that contains `range.upperBound - 1`.
    public init(path: String, range: Range<Int>, tokenizer: WordTokenizer, chunkSize: Int = 1 << 20)
        throws(TextError)
    {
        // Opened through SafeRead: a FIFO or device swapped in after the size check is refused.
        let descriptor: Int32
        do {
            descriptor = try SafeRead.open(path).descriptor
        } catch {
            throw TextError(error)
        }
        guard let f = fdopen(descriptor, "rb") else {
            Glibc.close(descriptor)
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        file = f
        self.path = path
        end = range.upperBound
        position = range.lowerBound
        self.tokenizer = tokenizer
        chunk = [UInt8](repeating: 0, count: chunkSize)
        if range.lowerBound == 0 {
            // A UTF-8 byte-order mark (Windows editors) is not part of the first word.
            var head = [UInt8](repeating: 0, count: 3)
            let n = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 3, f) }
            if n == 3 && head == TextFile.byteOrderMark && end >= 3 { position = 3 }
            fseek(f, position, SEEK_SET)
        } else {
            // Skip the partial token before the shard: back up one byte; if it is not a
            // separator we are inside a token, which belongs to the previous shard.
            fseek(f, range.lowerBound - 1, SEEK_SET)
            var c = fgetc(f)
            if c != EOF && !WordTokenizer.isSpace(UInt8(c)) {
                repeat {
                    c = fgetc(f)
                    position += 1
                } while c != EOF && !WordTokenizer.isSpace(UInt8(c))
            }
            fseek(f, position, SEEK_SET)
        }
    }

    /// Closes the file.
    public func close() { fclose(file) }

    /// Calls `body` for each token of the next chunk (and newlines as empty tokens); returns
    /// false at the end of the shard.
    ///
    /// - Throws: `TextError.binary` or `.invalidUTF8` (with the file offset) for bad bytes.
    public mutating func next(_ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(TextError)
        -> Bool
    {
        if position >= end && carry.isEmpty { return false }
        let dataStart = position - carry.count
        let want = min(chunk.count, max(0, end - position))
        var read = 0
        if want > 0 {
            read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, want, file) }
            position += read
        }
        var data = carry
        carry.removeAll(keepingCapacity: true)
        data.append(contentsOf: chunk[0..<read])
        if read == want && position < end {
            // Keep a trailing partial token for the next chunk.
            var cut = data.count
            while cut > 0 && !WordTokenizer.isSpace(data[cut - 1]) { cut -= 1 }
            carry = Array(data[cut...])
            data.removeSubrange(cut...)
        } else if position >= end, let last = data.last, !WordTokenizer.isSpace(last) {
            // Finish the token that straddles the end of the shard (the next shard skips it).
            var c = fgetc(file)
            while c != EOF && !WordTokenizer.isSpace(UInt8(c)) {
                data.append(UInt8(c))
                c = fgetc(file)
            }
        }
        if let nul = data.firstIndex(of: 0) { throw .binary(path: path, offset: dataStart + nul) }
        if let bad = UTF8Validation.firstInvalidOffset(data) {
            throw .invalidUTF8(path: path, offset: dataStart + bad, byte: data[bad])
        }
        data.withUnsafeBufferPointer { tokenizer.forEachToken($0, reportNewlines: true, body) }
        return !(read == 0 && carry.isEmpty && position >= end)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
