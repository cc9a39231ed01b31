import Foundation
import RecurBase
import RecurNN
import RecurTensor
import RecurText
import RecurWord2Vec
import Testing

/// Inputs that once trapped, crashed or were silently misread, kept as regression tests.
@Suite("Loader regressions")
struct LoaderRegressionTests {
    func file(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "recur-regression-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test("vocabulary counts that would overflow their sum (found by recur-fuzz)")
    func vocabularyCountOverflow() {
        let path = file(Array("a 9223372036854775807\nb 9223372036854775807\n".utf8))
        #expect(throws: TextError.self) { try WordVocabulary.read(path: path, minCount: 1) }
    }

    @Test("safetensors: duplicate names, overflowing shapes, deep JSON are errors")
    func safetensorsHeaders() throws {
        func encoded(_ header: String, data: Int = 0) -> [UInt8] {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(0x20) }
            var out = withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) }
            out += h + [UInt8](repeating: 0, count: data)
            return out
        }
        let duplicate = encoded(
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            data: 4)
        #expect(throws: CheckpointError.self) { try SafeTensors.decode(duplicate, path: "dup") }
        let overflow = encoded(
            #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#)
        #expect(throws: CheckpointError.self) { try SafeTensors.decode(overflow, path: "overflow") }
        let deep = encoded(
            String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
        #expect(throws: CheckpointError.self) { try SafeTensors.decode(deep, path: "deep") }
        let valid = SafeTensors.encode(["w": Tensor.zeros([2, 3])])
        #expect(try SafeTensors.decode(valid, path: "valid").tensors["w"]?.shape == [2, 3])
    }

    @Test("JSON parser: escapes, surrogates, numbers; garbage is an error")
    func strictJSON() throws {
        let value = try JSONNode.parse(
            ArraySlice(Array(#"{"k\u00e9\ud83d\ude00":[1,-2.5e3,true,null,"\n"]}"#.utf8)))
        #expect(
            value
                == .object([
                    "ké😀": .array([.number(1), .number(-2500), .bool(true), .null, .string("\n")])
                ]))
        for bad in [
            #"{"a":1,}"#, #"{"a" 1}"#, "[1 2]", #""\ud800""#, "01x", "{} {}", #"{"a":nan}"#,
        ] {
            #expect(throws: JSONParseError.self) { try JSONNode.parse(ArraySlice(Array(bad.utf8))) }
        }
    }

    @Test("word2vec headers promising more than the file holds are refused before allocating")
    func vectorHeaders() {
        for header in [
            "288230376151711745 16", "1000000000000 16", "241 1000000000",
            "9223372036854775807 9223372036854775807",
        ] {
            let path = file(Array((header + "\n").utf8) + [UInt8](repeating: 0x41, count: 6800))
            #expect(throws: Word2VecError.self) { try KeyedVectors.load(path: path) }
        }
    }

    @Test("line readers agree on LF, CRLF, CR and a byte-order mark")
    func lineEnds() {
        #expect(TextLines.split("\u{FEFF}a\r\nb\r\n\r\nc") == ["a", "b", "", "c"])
        #expect(TextLines.split("a\nb\n") == ["a", "b"])
        #expect(TextLines.split("a\rb") == ["a", "b"])
        #expect(TextLines.normalizingLineEnds("\u{FEFF}x\r\ny\rz") == "x\ny\nz")
    }

    @Test("atomic writes replace a planted symlink, never its target; reads refuse FIFOs")
    func fileLayer() throws {
        let directory = NSTemporaryDirectory() + "recur-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true)
        let victim = file(Array("precious".utf8))
        try FileManager.default.createSymbolicLink(
            atPath: directory + "/out.txt", withDestinationPath: victim)
        try AtomicFile.write("new", to: directory + "/out.txt")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try String(contentsOfFile: directory + "/out.txt", encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.txt"])
        // No-clobber publishing: an existing file (another run's output) is never replaced.
        #expect(throws: FileWriteError.self) {
            try AtomicFile.write(Array("mine".utf8), to: directory + "/out.txt", replacing: false)
        }
        #expect(try String(contentsOfFile: directory + "/out.txt", encoding: .utf8) == "new")
        try AtomicFile.write(Array("fresh".utf8), to: directory + "/other.txt", replacing: false)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == [
                "other.txt", "out.txt",
            ])
        try FileManager.default.removeItem(atPath: directory + "/other.txt")
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)
        #expect(
            throws: FileReadError.notRegular(path: directory + "/fifo", kind: "FIFO (named pipe)")
        ) {
            try SafeRead.readAll(directory + "/fifo")
        }
        #expect(SafeRead.isPlainFileName("model-00000001.safetensors"))
        for name in ["../x", "a/b", ".hidden", "", "..", "x\u{0}y"] {
            #expect(!SafeRead.isPlainFileName(name))
        }
        #expect(
            AtomicFile.isTemporaryName("model-1.safetensors.tmp-1234")
                && AtomicFile.isTemporaryName(".a.recur-tmp.xyz"))
        #expect(
            !AtomicFile.isTemporaryName("model-1.safetensors")
                && !AtomicFile.isTemporaryName("notes.tmp-x"))
    }

    @Test("a run directory is held by one process; a fresh run refuses a non-empty one")
    func runDirectoryLock() throws {
        let directory = NSTemporaryDirectory() + "recur-run-\(UUID().uuidString)"
        let first = try RunDirectory(claiming: directory, intent: .fresh, isRunFile: { _ in true })
        #expect(throws: FileWriteError.self) {
            try RunDirectory(claiming: directory, intent: .resume, isRunFile: { _ in true })
        }
        first.release()
        FileManager.default.createFile(atPath: directory + "/checkpoint.json", contents: Data([1]))
        #expect(throws: FileWriteError.self) {
            try RunDirectory(claiming: directory, intent: .fresh, isRunFile: { _ in true })
        }
        _ = try RunDirectory(
            claiming: directory, intent: .replace, isRunFile: { $0 == "checkpoint.json" })
        #expect(!FileManager.default.fileExists(atPath: directory + "/checkpoint.json"))
        #expect(RunDirectory.unusedDirectory(base: directory) == directory)
    }
}
