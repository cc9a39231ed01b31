import RecurTensor

/// One downloadable corpus.
public struct CorpusEntry: Sendable, Equatable {
    public var name: String
    public var url: String
    /// Lower-case hex SHA-256, or nil when not recorded (`-` in the manifest).
    public var sha256: String?
    /// Expected size in bytes, or nil.
    public var bytes: Int?
    public var description: String
}

/// `corpora/MANIFEST`: one corpus per line, tab-separated
/// `name  url  sha256  bytes  description` (`-` for an unknown checksum or size);
/// `#` starts a comment.
public struct CorpusManifest: Sendable {
    public var entries: [CorpusEntry]

    /// Parses manifest text; malformed lines are an error naming the line.
    public init(text: String, path: String = "MANIFEST") throws(TextError) {
        var entries: [CorpusEntry] = []
        for (number, raw) in TextLines.split(text).enumerated() {
            let line = raw.trimmingPrefixSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw .malformedLine(path: path, line: number + 1, reason: "expected name, url, sha256, bytes, description separated by tabs")
            }
            guard SafeRead.isPlainFileName(fields[0]) else {
                throw .malformedLine(path: path, line: number + 1, reason: "the name must be letters, digits, `.`, `-` or `_` (no `/`, no leading dot)")
            }
            let sha = fields[2] == "-" ? nil : fields[2].lowercased()
            if let sha, sha.count != 64 || !sha.allSatisfy({ $0.isHexDigit }) {
                throw .malformedLine(path: path, line: number + 1, reason: "sha256 must be 64 hex digits or -")
            }
            entries.append(
                CorpusEntry(
                    name: fields[0], url: fields[1], sha256: sha, bytes: Int(fields[3]),
                    description: fields[4...].joined(separator: " ")))
        }
        self.entries = entries
    }

    /// The entry named `name`.
    public func entry(_ name: String) -> CorpusEntry? { entries.first { $0.name == name } }
}

extension Substring {
    func trimmingPrefixSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\r" { s = s.dropLast() }
        return s
    }
}
