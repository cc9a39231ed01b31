import RealModule

/// A learning-rate schedule: the rate for each update, from the base rate and the update index.
///
/// Closed-form schedules are pure functions of the step; `reduceOnPlateau` also reads validation
/// losses through `observe(validationLoss:)`, and its state is part of checkpoints.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
    /// The shape of the schedule.
    public enum Kind: Sendable, Codable, Equatable {
        /// The base rate throughout.
        case constant
        /// Multiply by `gamma` every `stepSize` updates (PyTorch `StepLR`).
        case step(stepSize: Int, gamma: Float)
        /// Multiply by `gamma` every update (PyTorch `ExponentialLR`).
        case exponential(gamma: Float)
        /// Cosine from the base rate to `minimum` over `period` updates (PyTorch
        /// `CosineAnnealingLR`, one half period).
        case cosine(period: Int, minimum: Float)
        /// Multiply by `factor` after `patience` evaluations without improvement (PyTorch
        /// `ReduceLROnPlateau`, mode min, relative threshold).
        case reduceOnPlateau(factor: Float, patience: Int, threshold: Float, minimum: Float)
    }

    /// The schedule's shape.
    public var kind: Kind
    /// Updates over which the rate rises linearly from base/warmup to the base rate (0: none).
    public var warmupSteps: Int
    /// Plateau state: best loss seen, evaluations since it improved, current multiplier.
    public private(set) var bestLoss: Double?
    /// Plateau schedule: evaluations since the loss last improved.
    public private(set) var badEvaluations = 0
    /// Plateau schedule: the multiplier of the base rate now.
    public private(set) var plateauScale: Float = 1

    /// A schedule of `kind`, after `warmupSteps` of linear warm-up.
    public init(_ kind: Kind = .constant, warmupSteps: Int = 0) {
        self.kind = kind
        self.warmupSteps = warmupSteps
    }

    /// The learning rate for update number `step` (0-based).
    public func rate(base: Float, step: Int) -> Float {
        var rate: Float
        switch kind {
        case .constant: rate = base
        case .step(let size, let gamma):
            rate = base * Float.pow(gamma, Float(step / Swift.max(size, 1)))
        case .exponential(let gamma): rate = base * Float.pow(gamma, Float(step))
        case .cosine(let period, let minimum):
            let t = Float(Swift.min(step, period)) / Float(Swift.max(period, 1))
            rate = minimum + (base - minimum) * (1 + Float.cos(Float.pi * t)) / 2
        case .reduceOnPlateau(_, _, _, let minimum): rate = Swift.max(base * plateauScale, minimum)
        }
        if warmupSteps > 0 && step < warmupSteps {
            rate *= Float(step + 1) / Float(warmupSteps)
        }
        return rate
    }

    /// Records a validation loss; returns true when a plateau just reduced the rate.
    @discardableResult
    public mutating func observe(validationLoss loss: Double) -> Bool {
        guard case .reduceOnPlateau(let factor, let patience, let threshold, _) = kind else {
            return false
        }
        if loss < (bestLoss ?? .infinity) * (1 - Double(threshold)) {
            bestLoss = loss
            badEvaluations = 0
            return false
        }
        badEvaluations += 1
        if badEvaluations > patience {
            plateauScale *= factor
            badEvaluations = 0
            return true
        }
        return false
    }
}
