// The only file that imports CUTF8Proc: normalization, segmentation, case and categories.

import CUTF8Proc

#if canImport(Glibc)
    import Glibc
#endif

/// Unicode services from utf8proc on UTF-8 bytes.
public enum UnicodeText {
    /// The broad class of a code point, from its Unicode general category.
    public enum CharacterClass: Sendable, Equatable {
        case letter, mark, number, connector, punctuation, symbol, space, control, other
    }

    /// The NFC (canonical composition) form of UTF-8 `bytes`, which must be valid UTF-8.
    ///
    /// ASCII input is returned unchanged without calling utf8proc.
    public static func nfc(_ bytes: [UInt8]) -> [UInt8] {
        if !bytes.contains(where: { $0 >= 0x80 }) { return bytes }
        return bytes.withUnsafeBufferPointer { source -> [UInt8] in
            var destination: UnsafeMutablePointer<utf8proc_uint8_t>?
            let options = utf8proc_option_t(
                rawValue: UTF8PROC_STABLE.rawValue | UTF8PROC_COMPOSE.rawValue)
            let n = utf8proc_map(source.baseAddress, source.count, &destination, options)
            guard n >= 0, let destination else { return bytes }
            defer { free(destination) }
            return Array(UnsafeBufferPointer(start: destination, count: n))
        }
    }

    /// The NFC form of a string.
    public static func nfc(_ text: String) -> String {
        String(decoding: nfc(Array(text.utf8)), as: UTF8.self)
    }

    /// Decodes one code point at `offset`; returns it and its length in bytes (U+FFFD, 1 for an
    /// invalid byte).
    @inline(__always)
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (
        scalar: Int32, length: Int
    ) {
        let c = bytes[offset]  // also traps on an empty buffer, before baseAddress is read
        if c < 0x80 { return (Int32(c), 1) }
        guard let base = bytes.baseAddress else { return (0xFFFD, 1) }
        var scalar: utf8proc_int32_t = 0
        let n = utf8proc_iterate(base + offset, bytes.count - offset, &scalar)
        if n <= 0 { return (0xFFFD, 1) }
        return (scalar, n)
    }

    /// Calls `body` with the byte range of each extended grapheme cluster (UAX #29, as
    /// implemented by utf8proc) of valid UTF-8 `bytes`, in order.
    public static func forEachGrapheme(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        let n = bytes.count
        var start = 0
        var i = 0
        var previous: Int32 = -1
        var state: utf8proc_int32_t = 0
        while i < n {
            let c = bytes[i]
            // Fast path: ASCII other than CR followed by ASCII is always its own cluster.
            if c < 0x80 && c != 0x0D && previous >= 0 && previous < 0x80 && previous != 0x0D {
                body(start..<i)
                start = i
                previous = Int32(c)
                state = 0
                i += 1
                continue
            }
            let (scalar, length) = decode(bytes, at: i)
            if previous >= 0 && utf8proc_grapheme_break_stateful(previous, scalar, &state) {
                body(start..<i)
                start = i
            }
            previous = scalar
            i += length
        }
        if start < n { body(start..<n) }
    }

    /// Calls `body` with the byte range of each code point of valid UTF-8 `bytes`.
    public static func forEachCodePoint(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        var i = 0
        while i < bytes.count {
            let length = decode(bytes, at: i).length
            body(i..<(i + length))
            i += length
        }
    }

    /// The extended grapheme clusters of a string, segmented by utf8proc.
    public static func graphemes(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var result: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            forEachGrapheme(buffer) { range in
                result.append(String(decoding: buffer[range], as: UTF8.self))
            }
        }
        return result
    }

    /// A string with each code point's simple lower-case mapping, in NFC (the form the unicode
    /// tokenization gives a word).
    public static func lowercased(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            encode(lowercase(Int32(bitPattern: scalar.value)), into: &bytes)
        }
        return String(decoding: nfc(bytes), as: UTF8.self)
    }

    /// A string whose first code point is upper-cased (title case where the script has one:
    /// `ǆ` → `ǅ`), the rest unchanged.
    public static func capitalizingFirst(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        let upper = utf8proc_totitle(Int32(bitPattern: first.value))
        guard upper != Int32(bitPattern: first.value),
            let scalar = Unicode.Scalar(UInt32(bitPattern: upper))
        else { return text }
        var out = String(scalar)
        out.unicodeScalars.append(contentsOf: text.unicodeScalars.dropFirst())
        return out
    }

    /// The simple lower-case mapping of a code point.
    @inline(__always)
    public static func lowercase(_ scalar: Int32) -> Int32 {
        if scalar < 0x80 {
            return scalar >= 0x41 && scalar <= 0x5A ? scalar + 32 : scalar
        }
        return utf8proc_tolower(scalar)
    }

    /// The broad class of a code point.
    @inline(__always)
    public static func characterClass(_ scalar: Int32) -> CharacterClass {
        if scalar < 0x80 {
            switch UInt8(scalar) {
            case 0x30...0x39: return .number
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x5F: return .connector
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return .space
            case 0x00...0x1F, 0x7F: return .control
            case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x60, 0x7C, 0x7E: return .symbol
            default: return .punctuation
            }
        }
        switch utf8proc_category(scalar) {
        case UTF8PROC_CATEGORY_LU, UTF8PROC_CATEGORY_LL, UTF8PROC_CATEGORY_LT, UTF8PROC_CATEGORY_LM,
            UTF8PROC_CATEGORY_LO:
            return .letter
        case UTF8PROC_CATEGORY_MN, UTF8PROC_CATEGORY_MC, UTF8PROC_CATEGORY_ME: return .mark
        case UTF8PROC_CATEGORY_ND, UTF8PROC_CATEGORY_NL, UTF8PROC_CATEGORY_NO: return .number
        case UTF8PROC_CATEGORY_PC: return .connector
        case UTF8PROC_CATEGORY_PD, UTF8PROC_CATEGORY_PS, UTF8PROC_CATEGORY_PE, UTF8PROC_CATEGORY_PI,
            UTF8PROC_CATEGORY_PF, UTF8PROC_CATEGORY_PO:
            return .punctuation
        case UTF8PROC_CATEGORY_SM, UTF8PROC_CATEGORY_SC, UTF8PROC_CATEGORY_SK, UTF8PROC_CATEGORY_SO:
            return .symbol
        case UTF8PROC_CATEGORY_ZS, UTF8PROC_CATEGORY_ZL, UTF8PROC_CATEGORY_ZP: return .space
        case UTF8PROC_CATEGORY_CC: return scalar == 0x85 ? .space : .control
        default: return .other
        }
    }

    /// Appends the UTF-8 encoding of a code point.
    @inline(__always)
    public static func encode(_ scalar: Int32, into bytes: inout [UInt8]) {
        let v = UInt32(bitPattern: scalar)
        switch v {
        case 0..<0x80: bytes.append(UInt8(v))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (v >> 6)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (v >> 12)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (v >> 18)))
            bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}
