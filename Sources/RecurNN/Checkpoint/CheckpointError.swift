/// Errors from reading, writing and matching checkpoints and weight files.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    case badHeader(path: String, reason: String)
    case unsupportedDType(name: String, dtype: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case notFinite(name: String)
    /// A checkpoint's configuration or vocabulary differs from what the caller needs.
    case mismatch(what: String, expected: String, found: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such checkpoint file"
        case .unreadable(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .truncated(let path, let expected, let actual):
            return "\(path): truncated or corrupt (needs \(expected) bytes, has \(actual))"
        case .badHeader(let path, let reason): return "\(path): not a valid safetensors file (\(reason))"
        case .unsupportedDType(let name, let dtype): return "tensor \(name): dtype \(dtype) is not supported (F32 only)"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor \(name): shape \(found) does not match the model's \(expected)"
        case .missingTensor(let name): return "tensor \(name) is missing from the checkpoint"
        case .unexpectedTensor(let name): return "tensor \(name) in the checkpoint is not part of the model"
        case .notFinite(let name): return "tensor \(name) contains NaN or infinity"
        case .mismatch(let what, let expected, let found):
            return "checkpoint \(what) does not match: expected \(expected), found \(found)"
        case .writeFailed(let path, let reason): return "\(path): cannot write checkpoint (\(reason))"
        }
    }
}
