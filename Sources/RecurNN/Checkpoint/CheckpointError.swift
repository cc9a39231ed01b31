import RecurBase
import RecurTensor

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
    /// A `checkpoint.json` field outside its domain (hand-edited, corrupt or hostile).
    case invalidField(path: String, field: String, reason: String)

    /// One line naming the file and what is wrong with it.
    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such checkpoint file"
        case .unreadable(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .truncated(let path, let expected, let actual):
            return "\(path): truncated or corrupt (needs \(expected) bytes, has \(actual))"
        case .badHeader(let path, let reason):
            return "\(path): not a valid safetensors file (\(reason))"
        case .unsupportedDType(let name, let dtype):
            return "tensor \(name): dtype \(dtype) is not supported (F32 only)"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor \(name): shape \(found) does not match the model's \(expected)"
        case .missingTensor(let name): return "tensor \(name) is missing from the checkpoint"
        case .unexpectedTensor(let name):
            return "tensor \(name) in the checkpoint is not part of the model"
        case .notFinite(let name): return "tensor \(name) contains NaN or infinity"
        case .mismatch(let what, let expected, let found):
            return "checkpoint \(what) does not match: expected \(expected), found \(found)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write checkpoint (\(reason))"
        case .invalidField(let path, let field, let reason):
            return "\(path): invalid \(field): \(reason)"
        }
    }
}

/// Checks of `checkpoint.json` fields against their domains, each failure one
/// `CheckpointError.invalidField` naming the file and the field.
///
/// Applications validate every field they read with these before building anything from them.
public struct CheckpointFieldCheck {
    /// The sidecar's path (for messages).
    public let path: String

    /// Checks whose errors name the sidecar at `path`.
    public init(path: String) { self.path = path }

    /// Fails unless `condition` holds.
    public func require(_ condition: Bool, _ field: String, _ reason: @autoclosure () -> String)
        throws
    {
        if !condition {
            throw CheckpointError.invalidField(path: path, field: field, reason: reason())
        }
    }

    /// Fails unless `value` is in `range`.
    public func inRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ field: String) throws
    {
        try require(
            range.contains(value), field,
            "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
    }

    /// Fails unless `value` is finite and in `range`.
    public func finite<T: BinaryFloatingPoint>(_ value: T, _ range: ClosedRange<T>, _ field: String)
        throws
    {
        try require(
            value.isFinite && range.contains(value), field,
            "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
    }

    /// Fails unless `value` is finite and in `lower..<upper`.
    public func finite<T: BinaryFloatingPoint>(_ value: T, _ range: Range<T>, _ field: String)
        throws
    {
        try require(
            value.isFinite && range.contains(value), field,
            "\(value) is outside [\(range.lowerBound), \(range.upperBound))")
    }

    /// The counters every trainer's progress has: updates taken (≤ 2^48, so counting on cannot
    /// overflow), clipped updates (at most all of them) and training time.
    public func progress(step: Int, clippedSteps: Int, trainingSeconds: Double) throws {
        try inRange(step, 0...(1 << 48), "progress.step")
        try inRange(clippedSteps, 0...step, "progress.clippedSteps")
        try finite(trainingSeconds, 0...1e12, "progress.trainingSeconds")
    }

    /// Fails unless each present value is finite and in `range`.
    public func finite(_ values: [(value: Double?, field: String)], _ range: ClosedRange<Double>)
        throws
    {
        for (value, field) in values {
            if let value { try finite(value, range, field) }
        }
    }

    /// The product of `factors`, failing when it overflows or exceeds `limit`.
    public func product(_ factors: [Int], limit: Int, _ field: String) throws -> Int {
        var result = 1
        for f in factors {
            let (p, overflow) = result.multipliedReportingOverflow(by: Swift.max(f, 0))
            try require(!overflow && p <= limit, field, "too large")
            result = p
        }
        return result
    }

    /// Fails unless the file holds at least `needed` parameter values: an architecture asking
    /// for more than its weights file contains is corrupt, and building it would allocate
    /// memory the file cannot justify.
    public func parameters(atLeast needed: Int, available: Int) throws {
        try require(
            needed <= available, "architecture",
            "it needs at least \(needed) parameter values but the weights file holds \(available)")
    }
}

extension Dictionary where Key == String, Value == Tensor {
    /// The number of values in all tensors.
    public var totalElements: Int { values.reduce(0) { $0 + $1.count } }
}

extension CheckpointError {
    /// The checkpoint reader's form of a file-layer error (the one place they are mapped).
    public init(_ error: FileReadError) {
        if case .notFound(let path) = error {
            self = .fileNotFound(path: path)
        } else {
            self = .unreadable(path: error.path, reason: error.reason)
        }
    }
}
