import ArgumentParser
import Foundation
import RecurBase
import RecurTensor
import RecurText
import ZIPFoundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct CorpusFetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch", abstract: "Download a corpus and verify its size and SHA-256.",
        discussion: """
            The file is written atomically to --to/NAME-<file name>; nothing is left behind when \
            verification fails. A zip archive whose manifest line names a member (unzip=MEMBER) is \
            unpacked: the member is verified and saved as --to/MEMBER, ready to train on.
            """)

    @Argument(help: "Corpus name (see `recur corpus list`).") var name: String
    @Option(help: "Directory to save into.") var to: String = "corpora/downloads"
    @Flag(
        help:
            "Accept a corpus whose checksum the manifest does not record (prints the computed one)."
    )
    var allowUnverified = false
    @OptionGroup var manifest: ManifestOption

    func run() throws {
        let m = try manifest.load()
        guard let entry = m.entry(name) else {
            throw CLIError(
                "no corpus named \(name) in \(manifest.manifest); known: \(m.entries.map(\.name).joined(separator: ", "))"
            )
        }
        guard entry.isVerifiable || allowUnverified else {
            throw CLIError(
                "\(name): the manifest records no SHA-256, so the download cannot be verified; pass --allow-unverified to fetch it anyway"
            )
        }
        guard let url = URL(string: entry.url), let scheme = url.scheme,
            ["http", "https", "file"].contains(scheme)
        else {
            throw CLIError("\(name): unsupported URL \(entry.url)")
        }
        if scheme != "file" && Console().isTerminal {
            Output.error("fetching \(name) from \(entry.url)\n")
        }
        let data: Data
        if scheme == "file" {
            // Through the safe reader: a FIFO or device named by a manifest is refused, not read.
            do {
                data = Data(try SafeRead.readAll(url.path))
            } catch {
                throw CLIError("\(name): \(error.description)")
            }
        } else {
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw CLIError(
                    "\(name): cannot download \(entry.url) from \(url.host ?? "its host"): \(Self.reason(error)); check the network, or download the file by hand and verify it with sha256sum"
                )
            }
        }
        if let bytes = entry.bytes, data.count != bytes {
            throw CLIError(
                "\(name): expected \(bytes) bytes, got \(data.count); the download is incomplete or changed"
            )
        }
        let digest = SHA256.hex(data)
        if let expected = entry.sha256, digest != expected {
            throw CLIError(
                "\(name): SHA-256 mismatch (expected \(expected), got \(digest)); not saved")
        }
        if let member = entry.unzip {
            try unpack(member, of: data, entry: entry, archiveDigest: digest)
            return
        }
        // The saved name comes from the manifest and the URL, so it is made a plain file name:
        // `../../x` or a percent-encoded `..%2F..%2Fx` can never write outside --to.
        let file = to + "/" + SafeRead.plainFileName(name + "-" + url.lastPathComponent)
        do {
            try AtomicFile.createDirectory(to)
            try AtomicFile.write(Array(data), to: file)
        } catch {
            throw CLIError(error.description)
        }
        Output.line(file)
        Output.error(
            "saved \(data.count) bytes to \(file); SHA-256 \(digest)\(entry.sha256 == nil ? " (unverified: add it to the manifest to pin it)" : " verified")\n"
        )
    }

    /// Unpacks `member` of the zip archive `data` into --to/member, verifying its size and
    /// SHA-256 as it streams (a mismatch leaves nothing behind).
    func unpack(_ member: String, of data: Data, entry: CorpusEntry, archiveDigest: String) throws {
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw CLIError("\(name): the download is not a readable zip archive (\(error))")
        }
        guard let item = archive[member] else {
            throw CLIError(
                "\(name): the archive has no member \(member) (it holds: \(archive.map(\.path).prefix(10).joined(separator: ", ")))"
            )
        }
        let file = to + "/" + SafeRead.plainFileName(member)
        var hash = SHA256()
        var count = 0
        var failure: String?
        do {
            try AtomicFile.createDirectory(to)
            try AtomicFile.write(to: file) { (sink: inout AtomicFile.Sink) throws(FileWriteError) in
                do {
                    _ = try archive.extract(item, skipCRC32: false) { chunk in
                        hash.update(chunk)
                        count += chunk.count
                        try sink.write(chunk)
                    }
                } catch let error as FileWriteError {
                    throw error
                } catch {
                    failure = "cannot unpack \(member) (\(error))"
                    throw FileWriteError(path: file, reason: "unpacking failed")
                }
                let digest = hash.finalizeHex()
                if let bytes = entry.unzippedBytes, count != bytes {
                    failure =
                        "\(member) has \(count) bytes, expected \(bytes); the archive is not the recorded one"
                } else if let expected = entry.unzippedSHA256, digest != expected {
                    failure =
                        "SHA-256 mismatch for \(member) (expected \(expected), got \(digest)); not saved"
                } else {
                    Output.error(
                        "unpacked \(count) bytes; SHA-256 \(digest)\(entry.unzippedSHA256 == nil ? (entry.sha256 == nil ? " (unverified)" : " (the archive's \(archiveDigest) verified)") : " verified")\n"
                    )
                }
                if failure != nil {
                    throw FileWriteError(path: file, reason: "verification failed")
                }
            }
        } catch {
            throw CLIError("\(name): \(failure ?? error.description)")
        }
        Output.line(file)
    }

    /// The most specific description in an error's chain of underlying errors ("Could not
    /// resolve host: …", not "The operation could not be completed").
    static func reason(_ error: any Error) -> String {
        var current = error as NSError
        var best = current.userInfo[NSLocalizedDescriptionKey] as? String
        while let underlying = current.userInfo[NSUnderlyingErrorKey] as? any Error {
            current = underlying as NSError
            if let description = current.userInfo[NSLocalizedDescriptionKey] as? String {
                best = description
            }
        }
        return best ?? "\(current.domain) error \(current.code)"
    }
}
