/// What counts as one symbol of a character model.
public enum TextUnit: String, CaseIterable, Sendable, Codable {
    /// An extended grapheme cluster (what a reader sees as one character), after NFC.
    case grapheme
    /// A Unicode code point, after NFC.
    case codepoint
    /// A byte of the UTF-8 encoding (no normalization).
    case byte

    /// Calls `body` with the byte range of each symbol of `bytes` (valid UTF-8 unless `.byte`).
    public func forEachSymbol(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        switch self {
        case .grapheme: UnicodeText.forEachGrapheme(bytes, body)
        case .codepoint: UnicodeText.forEachCodePoint(bytes, body)
        case .byte: for i in 0..<bytes.count { body(i..<(i + 1)) }
        }
    }

    /// The text prepared for this unit: NFC for graphemes and code points, unchanged for bytes.
    public func prepare(_ bytes: [UInt8]) -> [UInt8] {
        self == .byte ? bytes : UnicodeText.nfc(bytes)
    }
}

/// The symbols of a character model: sorted by their UTF-8 bytes (so code point order), with
/// the unknown symbol `<unk>` at id 0 for anything not seen when the vocabulary was built.
///
/// ```swift
/// let vocabulary = CharVocabulary(text: Array("héllo wörld".utf8), unit: .grapheme)
/// let (ids, unknown) = vocabulary.encode(Array("hello".utf8))
/// vocabulary.decode(ids)   // "hello"
/// ```
public struct CharVocabulary: Sendable, Equatable {
    /// How the text is split into symbols.
    public let unit: TextUnit
    /// Symbol bytes by id; `symbols[0]` is the unknown symbol (empty).
    public let symbols: [[UInt8]]
    private let index: [[UInt8]: Int32]
    private let asciiIndex: [Int32]  // 128 entries, -1 where absent

    /// The id of the unknown symbol.
    public static let unknownID: Int32 = 0
    /// How the unknown symbol prints.
    public static let unknownDisplay = "<unk>"

    /// A vocabulary of the given symbols (duplicates removed, sorted by bytes).
    public init(symbols: some Sequence<[UInt8]>, unit: TextUnit) {
        let sorted = Set(symbols).filter { !$0.isEmpty }.sorted { $0.lexicographicallyPrecedes($1) }
        self.unit = unit
        self.symbols = [[]] + sorted
        var index: [[UInt8]: Int32] = [:]
        var ascii = [Int32](repeating: -1, count: 128)
        for (i, s) in sorted.enumerated() {
            index[s] = Int32(i + 1)
            if s.count == 1 && s[0] < 0x80 { ascii[Int(s[0])] = Int32(i + 1) }
        }
        self.index = index
        asciiIndex = ascii
    }

    /// The vocabulary of every symbol in `text` (already prepared for `unit`).
    public init(text: [UInt8], unit: TextUnit) {
        var seen = Set<[UInt8]>()
        var asciiSeen = [Bool](repeating: false, count: 128)
        text.withUnsafeBufferPointer { buffer in
            unit.forEachSymbol(buffer) { range in
                if range.count == 1 && buffer[range.lowerBound] < 0x80 {
                    asciiSeen[Int(buffer[range.lowerBound])] = true
                } else {
                    seen.insert(Array(buffer[range]))
                }
            }
        }
        for (byte, present) in asciiSeen.enumerated() where present { seen.insert([UInt8(byte)]) }
        self.init(symbols: seen, unit: unit)
    }

    /// Number of ids, the unknown symbol included.
    public var count: Int { symbols.count }

    /// The id of a symbol, or nil.
    public func id(of symbol: [UInt8]) -> Int32? {
        if symbol.count == 1 && symbol[0] < 0x80 {
            let id = asciiIndex[Int(symbol[0])]
            return id >= 0 ? id : nil
        }
        return index[symbol]
    }

    /// The ids of `text` (prepared for `unit`), and how many symbols were unknown.
    public func encode(_ text: [UInt8]) -> (ids: [Int32], unknown: Int) {
        var ids: [Int32] = []
        ids.reserveCapacity(text.count)
        var unknown = 0
        text.withUnsafeBufferPointer { buffer in
            unit.forEachSymbol(buffer) { range in
                var id: Int32 = -1
                if range.count == 1 && buffer[range.lowerBound] < 0x80 {
                    id = asciiIndex[Int(buffer[range.lowerBound])]
                } else if let found = index[Array(buffer[range])] {
                    id = found
                }
                if id < 0 {
                    unknown += 1
                    id = CharVocabulary.unknownID
                }
                ids.append(id)
            }
        }
        return (ids, unknown)
    }

    /// The bytes of a sequence of ids (the unknown symbol contributes nothing).
    public func bytes(of ids: some Sequence<Int32>) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where id > 0 && Int(id) < symbols.count { out += symbols[Int(id)] }
        return out
    }

    /// The text of a sequence of ids (invalid UTF-8 from byte models becomes U+FFFD).
    public func decode(_ ids: some Sequence<Int32>) -> String {
        String(decoding: bytes(of: ids), as: UTF8.self)
    }

    /// A printable form of one symbol (escapes for control characters, `<unk>` for id 0).
    public func display(_ id: Int32) -> String {
        if id == CharVocabulary.unknownID { return CharVocabulary.unknownDisplay }
        let s = String(decoding: symbols[Int(id)], as: UTF8.self)
        switch s {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        case " ": return "␣"
        default: return s
        }
    }

    /// Vocabularies are equal when their units and symbols are.
    public static func == (a: CharVocabulary, b: CharVocabulary) -> Bool {
        a.unit == b.unit && a.symbols == b.symbols
    }
}
