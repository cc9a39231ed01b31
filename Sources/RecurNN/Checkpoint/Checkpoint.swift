import FoundationEssentials
import RecurBase
import RecurTensor

#if canImport(Glibc)
    import Glibc
#endif

extension Module {
    /// Every parameter's value by name.
    public func stateDictionary(prefix: String = "") -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        visitParameters(prefix: prefix) { result[$0] = $1.value }
        return result
    }

    /// Loads parameter values by name, validating names, shapes and finiteness first (nothing
    /// is changed when any check fails).
    ///
    /// - Parameters:
    ///   - tensors: values by parameter name.
    ///   - prefix: the prefix the names carry (`stateDictionary(prefix:)`'s).
    ///   - strict: reject tensors in `tensors` (under `prefix`) that the module lacks.
    public func loadStateDictionary(
        _ tensors: [String: Tensor], prefix: String = "", strict: Bool = true
    ) throws {
        let own = parameters(prefix: prefix)
        for (name, parameter) in own {
            guard let t = tensors[name] else { throw CheckpointError.missingTensor(name: name) }
            guard t.shape == parameter.shape else {
                throw CheckpointError.shapeMismatch(
                    name: name, expected: parameter.shape, found: t.shape)
            }
            guard t.isFinite else { throw CheckpointError.notFinite(name: name) }
        }
        if strict {
            let names = Set(own.map(\.name))
            if let extra = tensors.keys.sorted().first(where: {
                $0.hasPrefix(prefix) && !names.contains($0)
            }) {
                throw CheckpointError.unexpectedTensor(name: extra)
            }
        }
        for (name, parameter) in own {
            if let t = tensors[name] { parameter.value = t }
        }
    }
}

/// What a training checkpoint records besides the tensors; `Config` is the application's model
/// and training configuration.
public struct CheckpointSidecar<Config: Codable & Sendable>: Codable, Sendable {
    /// Bumped when the layout changes incompatibly.
    public static var currentFormat: Int { 1 }

    /// The layout version (`currentFormat` when written).
    public var format: Int = Self.currentFormat
    /// What wrote the checkpoint (`"recur charlm"`).
    public var kind: String
    /// The application's configuration.
    public var config: Config
    /// Optimizer updates taken.
    public var step: Int
    /// The training random generator's state.
    public var rngState: [UInt64]
    /// The optimizer's kind and step (its tensors are in `optimizerFile`).
    public var optimizerKind: String?
    /// The optimizer's update count.
    public var optimizerStep: Int?
    /// Files of this checkpoint, relative to its directory.
    public var modelFile: String
    /// The training-state file (optimizer tensors), if the checkpoint has one.
    public var optimizerFile: String?

    /// A sidecar; the store fills in the file names when it saves.
    public init(
        kind: String, config: Config, step: Int, rngState: [UInt64], modelFile: String = "",
        optimizerFile: String? = nil
    ) {
        self.kind = kind
        self.config = config
        self.step = step
        self.rngState = rngState
        self.modelFile = modelFile
        self.optimizerFile = optimizerFile
    }
}

/// Checkpoint directories: `checkpoint.json` (the sidecar) naming `model-<step>.safetensors`
/// (PyTorch-named weights, loadable with `safetensors.torch.load_file`) and
/// `training-<step>.safetensors` (optimizer slots under `optimizer.`, other training state such as
/// carried recurrent states under names of the application's choosing).
///
/// Writes are atomic at every level: each file goes through a temporary file, fsync and rename;
/// the sidecar is written last and names the new files, and older files are removed only after
/// it. An interrupted save therefore leaves the previous checkpoint loadable.
public enum CheckpointDirectory {
    /// The sidecar's file name.
    public static let sidecarName = "checkpoint.json"

    /// Saves the model tensors, the training state (optimizer slots, carried states; nil for a
    /// model-only checkpoint) and the sidecar into `directory` (created if needed).
    ///
    /// - Parameters:
    ///   - directory: the checkpoint directory.
    ///   - model: the model's tensors by parameter name.
    ///   - training: the training state's tensors (nil: a model-only checkpoint).
    ///   - sidecar: what `checkpoint.json` records besides the tensors.
    ///   - metadata: string metadata for the model file's safetensors header.
    ///   - keepModels: how many `model-<step>.safetensors` files to keep, newest first
    ///     (char-rnn keeps every checkpoint so any can be sampled); only the newest training
    ///     state is kept.
    public static func save<Config>(
        directory: String, model: [String: Tensor], training: [String: Tensor]?,
        sidecar: CheckpointSidecar<Config>, metadata: [String: String] = [:], keepModels: Int = 1
    ) throws {
        do {
            try AtomicFile.createDirectory(directory)
        } catch {
            throw CheckpointError.writeFailed(path: directory, reason: error.reason)
        }
        var sidecar = sidecar
        let stamp = format6(sidecar.step)
        sidecar.modelFile = "model-\(stamp).safetensors"
        try SafeTensors.write(
            model, metadata: metadata.merging(["format": "pt"]) { a, _ in a },
            to: directory + "/" + sidecar.modelFile)
        if let training {
            let name = "training-\(stamp).safetensors"
            sidecar.optimizerFile = name
            try SafeTensors.write(training, to: directory + "/" + name)
        } else {
            sidecar.optimizerFile = nil
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(sidecar)
        do {
            try AtomicFile.write(Array(json), to: directory + "/" + sidecarName)
        } catch {
            throw CheckpointError.writeFailed(
                path: directory + "/" + sidecarName, reason: error.reason)
        }
        removeStaleFiles(
            directory, keeping: [sidecar.modelFile, sidecar.optimizerFile].compactMap { $0 },
            keepModels: keepModels)
    }

    /// Saves model tensors and, when given, an optimizer's state (the common case).
    public static func save<Config>(
        directory: String, tensors: [String: Tensor], optimizer: OptimizerState?,
        sidecar: CheckpointSidecar<Config>, metadata: [String: String] = [:]
    ) throws {
        var sidecar = sidecar
        sidecar.optimizerKind = optimizer?.kind
        sidecar.optimizerStep = optimizer?.step
        try save(
            directory: directory, model: tensors, training: optimizer.map { $0.packed() },
            sidecar: sidecar,
            metadata: metadata)
    }

    /// `checkpoint.json` files larger than this are refused (a vocabulary of a million words
    /// takes about 20 MB).
    public static let maximumSidecarBytes = 1 << 28

    /// Reads only the sidecar (for `inspect`, or to build the model before loading tensors).
    public static func readSidecar<Config>(_ type: Config.Type, directory: String) throws
        -> CheckpointSidecar<Config>
    {
        let path = directory + "/" + sidecarName
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw CheckpointError.fileNotFound(path: directory)
        }
        let bytes: [UInt8]
        do {
            bytes = try SafeRead.readAll(path, followLinks: false, limit: maximumSidecarBytes)
        } catch {
            throw CheckpointError(error)
        }
        let sidecar: CheckpointSidecar<Config>
        do {
            sidecar = try JSONDecoder().decode(CheckpointSidecar<Config>.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw sidecarError(error, path: path)
        } catch {
            throw CheckpointError.unreadable(
                path: path, reason: "not valid JSON: corrupt or from another tool")
        }
        guard sidecar.format == CheckpointSidecar<Config>.currentFormat else {
            throw CheckpointError.mismatch(
                what: "format", expected: "\(CheckpointSidecar<Config>.currentFormat)",
                found: "\(sidecar.format)")
        }
        // The files it names must be plain names inside this directory.
        for name in [sidecar.modelFile] + (sidecar.optimizerFile.map { [$0] } ?? [])
        where !SafeRead.isPlainFileName(name) {
            throw CheckpointError.invalidField(
                path: path, field: "modelFile/optimizerFile",
                reason: "must name a file inside the checkpoint directory")
        }
        // Step counters are bounded far below Int.max, so that counting on cannot overflow.
        let steps = 0...(1 << 48)
        guard steps.contains(sidecar.step), sidecar.optimizerStep.map(steps.contains) ?? true else {
            throw CheckpointError.invalidField(
                path: path, field: "step/optimizerStep", reason: "must be between 0 and 2^48")
        }
        return sidecar
    }

    /// Reads the sidecar, the model tensors and the training state (optimizer state and any
    /// other training tensors).
    ///
    /// - Parameters:
    ///   - type: the application's configuration type (the sidecar's `config`).
    ///   - directory: the checkpoint directory.
    ///   - modelFile: load this model file of the directory (an older checkpoint kept with
    ///     `keepModels`) instead of the newest; the training state is then not loaded.
    public static func load<Config>(
        _ type: Config.Type, directory: String, modelFile: String? = nil
    ) throws -> (
        sidecar: CheckpointSidecar<Config>, tensors: [String: Tensor], optimizer: OptimizerState?,
        training: [String: Tensor]
    ) {
        var sidecar = try readSidecar(type, directory: directory)
        if let modelFile {
            guard SafeRead.isPlainFileName(modelFile) else {
                throw CheckpointError.unreadable(
                    path: modelFile, reason: "not a file name inside the checkpoint directory")
            }
            sidecar.modelFile = modelFile
            sidecar.optimizerFile = nil
            sidecar.optimizerKind = nil
        }
        let tensors = try SafeTensors.read(directory + "/" + sidecar.modelFile, followLinks: false)
            .tensors
        var optimizer: OptimizerState?
        var training: [String: Tensor] = [:]
        if let file = sidecar.optimizerFile {
            training = try SafeTensors.read(directory + "/" + file, followLinks: false).tensors
            if let kind = sidecar.optimizerKind {
                optimizer = OptimizerState(
                    unpacking: training, kind: kind, step: sidecar.optimizerStep ?? 0)
            }
        }
        return (sidecar, tensors, optimizer, training)
    }

    static func format6(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 8 ? s : String(repeating: "0", count: 8 - s.count) + s
    }

    /// The step in a `model-<step>.safetensors` / `training-<step>.safetensors` name.
    static func step(ofFile name: String) -> Int? {
        guard name.hasSuffix(".safetensors"), let dash = name.firstIndex(of: "-") else {
            return nil
        }
        return Int(name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -12)])
    }

    /// Deletes `model-*`/`training-*` files other than `keeping` and the newest `keepModels`
    /// model files (best effort).
    static func removeStaleFiles(_ directory: String, keeping: [String], keepModels: Int = 1) {
        let files = AtomicFile.entries(of: directory).filter {
            ($0.hasPrefix("model-") || $0.hasPrefix("training-")) && step(ofFile: $0) != nil
        }
        let newestModels = files.filter { $0.hasPrefix("model-") }.sorted {
            (step(ofFile: $0) ?? 0) > (step(ofFile: $1) ?? 0)
        }.prefix(max(keepModels, 1))
        for name in files where !keeping.contains(name) && !newestModels.contains(name) {
            unlink(directory + "/" + name)
        }
    }
}

/// A sidecar that does not decode: the field it stopped at when there is one (a hand-edited
/// value of the wrong type or a missing key), else the file as a whole.
func sidecarError(_ error: DecodingError, path: String) -> CheckpointError {
    let (codingPath, reason): ([any CodingKey], String)
    switch error {
    case .typeMismatch(let type, let context):
        (codingPath, reason) = (context.codingPath, "expected \(type)")
    case .valueNotFound(let type, let context):
        (codingPath, reason) = (context.codingPath, "missing \(type)")
    case .keyNotFound(let key, let context):
        (codingPath, reason) = (context.codingPath + [key], "missing")
    case .dataCorrupted(let context):
        (codingPath, reason) = (context.codingPath, "not a valid value")
    @unknown default: (codingPath, reason) = ([], "unreadable")
    }
    // The application's fields are reported as the validators name them (without `config.`).
    let names = codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
    let field = (names.first == "config" ? names.dropFirst() : names[...]).joined(separator: ".")
    guard !field.isEmpty else {
        return .unreadable(path: path, reason: "not valid JSON: corrupt or from another tool")
    }
    return .invalidField(path: path, field: field, reason: reason)
}
