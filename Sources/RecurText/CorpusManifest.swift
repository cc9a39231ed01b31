import RecurBase

/// One downloadable corpus.
public struct CorpusEntry: Sendable, Equatable {
    /// The name `recur corpus fetch` takes.
    public var name: String
    /// Where the file is downloaded from.
    public var url: String
    /// Lower-case hex SHA-256, or nil when not recorded (`-` in the manifest).
    public var sha256: String?
    /// Expected size in bytes, or nil.
    public var bytes: Int?
    /// What the corpus is, for `recur corpus list`.
    public var description: String
    /// For a zip archive: the member to unpack and save instead of the archive.
    public var unzip: String?
    /// The unpacked member's SHA-256 and size, when recorded.
    public var unzippedSHA256: String?
    /// The unpacked member's expected size in bytes, or nil.
    public var unzippedBytes: Int?

    /// Whether a checksum pins the download: the archive's or the unpacked member's.
    public var isVerifiable: Bool { sha256 != nil || (unzip != nil && unzippedSHA256 != nil) }
}

/// `corpora/MANIFEST`: one corpus per line, tab-separated
/// `name  url  sha256  bytes  description  [options]` (`-` for an unknown checksum or size);
/// `#` starts a comment.
///
/// Options, one per field: `unzip=MEMBER` (save that member of the zip
/// archive instead of the archive), `unzipped-sha256=HEX`, `unzipped-bytes=N` (the member's).
public struct CorpusManifest: Sendable {
    /// The corpora in manifest order.
    public var entries: [CorpusEntry]

    /// Parses manifest text; malformed lines are an error naming the line.
    public init(text: String, path: String = "MANIFEST") throws(TextError) {
        var entries: [CorpusEntry] = []
        for (number, raw) in TextLines.split(text).enumerated() {
            let line = raw.trimmingPrefixSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(
                String.init)
            guard fields.count >= 5, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw .malformedLine(
                    path: path, line: number + 1,
                    reason: "expected name, url, sha256, bytes, description separated by tabs")
            }
            guard SafeRead.isPlainFileName(fields[0]) else {
                throw .malformedLine(
                    path: path, line: number + 1,
                    reason:
                        "the name must be letters, digits, `.`, `-` or `_` (no `/`, no leading dot)"
                )
            }
            func checksum(_ value: String) throws(TextError) -> String? {
                let sha = value == "-" ? nil : value.lowercased()
                if let sha, sha.count != 64 || !sha.allSatisfy({ $0.isHexDigit }) {
                    throw .malformedLine(
                        path: path, line: number + 1, reason: "sha256 must be 64 hex digits or -")
                }
                return sha
            }
            var entry = CorpusEntry(
                name: fields[0], url: fields[1], sha256: try checksum(fields[2]),
                bytes: Int(fields[3]), description: fields[4])
            for option in fields.dropFirst(5) where !option.isEmpty {
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                switch (parts.first, parts.count) {
                case ("unzip", 2) where SafeRead.isPlainFileName(parts[1]): entry.unzip = parts[1]
                case ("unzipped-sha256", 2): entry.unzippedSHA256 = try checksum(parts[1])
                case ("unzipped-bytes", 2) where Int(parts[1]) != nil:
                    entry.unzippedBytes = Int(parts[1])
                default:
                    throw .malformedLine(
                        path: path, line: number + 1,
                        reason:
                            "unknown option \(option) (known: unzip=MEMBER, unzipped-sha256=HEX, unzipped-bytes=N)"
                    )
                }
            }
            entries.append(entry)
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
