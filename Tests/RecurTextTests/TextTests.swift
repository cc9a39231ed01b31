import Foundation
import RecurText
import Testing

/// A temporary file holding `bytes`, removed by the caller.
func temporaryFile(_ bytes: [UInt8], name: String = #function) -> String {
    let path = NSTemporaryDirectory() + "recur-text-\(UUID().uuidString).txt"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

@Suite("Reading text files")
struct TextFileTests {
    @Test("valid UTF-8 reads back")
    func valid() throws {
        let text = "Hello, мир! 你好 👋🏽 e\u{301}"
        let path = temporaryFile(Array(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TextFile.read(path) == text)
    }

    @Test("invalid UTF-8 names the byte offset")
    func invalid() throws {
        let path = temporaryFile(Array("abc".utf8) + [0xC3, 0x28] + Array("xyz".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TextError.invalidUTF8(path: path, offset: 3, byte: 0xC3)) {
            try TextFile.read(path)
        }
        let message =
            (try? TextFile.read(path)) == nil
            ? TextError.invalidUTF8(path: path, offset: 3, byte: 0xC3).description : ""
        #expect(message.contains("byte offset 3"))
        #expect(message.contains("0xC3"))
        #expect(try TextFile.read(path, lossy: true) == "abc\u{FFFD}(xyz")
    }

    @Test("missing, directory, empty and binary files are typed errors")
    func badPaths() throws {
        #expect(throws: TextError.fileNotFound(path: "/nonexistent/x.txt")) {
            try TextFile.read("/nonexistent/x.txt")
        }
        #expect(throws: TextError.isDirectory(path: "/tmp")) { try TextFile.read("/tmp") }
        let empty = temporaryFile([])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: TextError.empty(path: empty)) { try TextFile.read(empty) }
        #expect(try TextFile.read(empty, allowEmpty: true) == "")
        let binary = temporaryFile([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00])
        defer { try? FileManager.default.removeItem(atPath: binary) }
        #expect(throws: TextError.binary(path: binary, offset: 6)) { try TextFile.read(binary) }
    }

    @Test("validator agrees with Swift's decoder on tricky sequences")
    func validator() {
        let cases: [([UInt8], Int?)] = [
            ([0x41, 0x42], nil), ([0xE2, 0x82, 0xAC], nil), ([0xF0, 0x9F, 0x98, 0x80], nil),
            ([0xC0, 0x80], 0), ([0xED, 0xA0, 0x80], 0), ([0xF4, 0x90, 0x80, 0x80], 0),
            ([0x41, 0xE2, 0x82], 1), ([0xFF], 0), ([0x41, 0x80], 1),
            (Array(repeating: 0x61, count: 20) + [0xE0, 0x80, 0x80], 20),
        ]
        for (bytes, expected) in cases {
            #expect(UTF8Validation.firstInvalidOffset(bytes) == expected, "\(bytes)")
            #expect((String(validating: bytes, as: UTF8.self) != nil) == (expected == nil))
        }
    }

    @Test("atomic writes replace the file whole")
    func atomicWrite() throws {
        let path = NSTemporaryDirectory() + "recur-atomic-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TextFile.writeAtomically(Array("one".utf8), to: path)
        try TextFile.writeAtomically(Array("two".utf8), to: path)
        #expect(try TextFile.read(path) == "two")
        #expect(throws: TextError.self) {
            try TextFile.writeAtomically([1], to: "/nonexistent-dir/file")
        }
    }
}

@Suite("Unicode")
struct UnicodeTests {
    @Test("NFC composes combining marks")
    func nfc() {
        #expect(UnicodeText.nfc("e\u{301}").unicodeScalars.count == 1)
        #expect(UnicodeText.nfc("Å").unicodeScalars.first?.value == 0xC5)  // U+212B → U+00C5
        #expect(UnicodeText.nfc("plain ascii") == "plain ascii")
        #expect(UnicodeText.nfc("한국어") == "한국어")
    }

    @Test(
        "grapheme clusters match Swift's Characters",
        arguments: [
            "Latin: naïve café", "Кириллица: съешь же ещё", "中文字符和标点。", "e\u{301}\u{302}x",
            "👋🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇩🇪", "line\r\nbreaks\n\r", "देवनागरी", "ok",
        ])
    func graphemes(text: String) {
        let ours = UnicodeText.graphemes(text)
        let swift = text.map(String.init)
        #expect(ours == swift)
    }

    @Test("character classes")
    func classes() {
        #expect(UnicodeText.characterClass(Int32(("é" as Unicode.Scalar).value)) == .letter)
        #expect(UnicodeText.characterClass(0x301) == .mark)
        #expect(UnicodeText.characterClass(Int32(("。" as Unicode.Scalar).value)) == .punctuation)
        #expect(UnicodeText.characterClass(Int32(("٣" as Unicode.Scalar).value)) == .number)
        #expect(UnicodeText.characterClass(0x3000) == .space)
        #expect(
            UnicodeText.lowercase(Int32(("Ж" as Unicode.Scalar).value))
                == Int32(("ж" as Unicode.Scalar).value))
    }
}

@Suite("Character vocabulary")
struct CharVocabularyTests {
    static let samples = [
        "The quick brown fox.", "Съешь же ещё этих мягких французских булок",
        "我能吞下玻璃而不伤身体。", "e\u{301}le\u{300}ve naïve", "🙂🙃 👍🏾 🏳️‍🌈 ok",
    ]

    @Test("encode and decode round-trip for every unit", arguments: samples)
    func roundTrip(text: String) {
        for unit in TextUnit.allCases {
            let prepared = unit.prepare(Array(text.utf8))
            let vocabulary = CharVocabulary(text: prepared, unit: unit)
            let (ids, unknown) = vocabulary.encode(prepared)
            #expect(unknown == 0)
            #expect(vocabulary.bytes(of: ids) == prepared)
            #expect(vocabulary.decode(ids) == String(decoding: prepared, as: UTF8.self))
        }
    }

    @Test("symbols are sorted, stable and unique; id 0 is unknown")
    func sorted() {
        let v = CharVocabulary(text: Array("cabbage🙂a".utf8), unit: .grapheme)
        #expect(v.count == 1 + 6)  // <unk> a b c e g 🙂
        #expect(v.display(0) == "<unk>")
        #expect(v.symbols[1] == Array("a".utf8))
        #expect(v.symbols.last == Array("🙂".utf8))
        #expect(v == CharVocabulary(text: Array("🙂egabcab".utf8), unit: .grapheme))
        let (ids, unknown) = v.encode(Array("cab!x".utf8))
        #expect(unknown == 2)
        #expect(ids[3] == 0 && ids[4] == 0)
    }

    @Test("graphemes keep combining sequences and emoji whole")
    func graphemeUnits() {
        let text = UnicodeText.nfc(Array("a\u{301}\u{302}👨‍👩‍👧".utf8))
        let g = CharVocabulary(text: text, unit: .grapheme)
        #expect(g.encode(text).ids.count == 2)
        let c = CharVocabulary(text: text, unit: .codepoint)
        #expect(c.encode(text).ids.count == 2 + 5)
        let b = CharVocabulary(text: text, unit: .byte)
        #expect(b.encode(text).ids.count == text.count)
    }
}

@Suite("SHA-256 and the corpus manifest")
struct SHA256Tests {
    @Test("NIST test vectors")
    func vectors() {
        #expect(
            SHA256.hex(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex([UInt8]())
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var streaming = SHA256()
        for _ in 0..<1000 { streaming.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        #expect(
            streaming.finalizeHex()
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("manifest parsing and errors")
    func manifest() throws {
        let m = try CorpusManifest(text: "# c\nname\thttps://x/y.txt\t-\t12\tsome text\n\n")
        #expect(m.entries.count == 1)
        #expect(m.entry("name")?.bytes == 12)
        #expect(m.entry("name")?.sha256 == nil)
        #expect(throws: TextError.self) { try CorpusManifest(text: "broken line without tabs\n") }
        #expect(throws: TextError.self) { try CorpusManifest(text: "n\tu\tnothex\t1\td\n") }
    }
}
