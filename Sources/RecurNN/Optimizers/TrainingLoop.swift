import RecurBase
import RecurTensor

/// A training run whose loss or gradient stopped being a finite number.
public struct TrainingDivergence: Error, CustomStringConvertible, Sendable {
    /// The update that diverged (1-based, counted over the whole run).
    public var step: Int
    /// The step of the last checkpoint written, nil when none was.
    public var lastCheckpointStep: Int?
    /// The base learning rate of the run.
    public var learningRate: Float
    /// Where the run's checkpoints are.
    public var directory: String

    /// One line saying what went wrong and what to do.
    public var description: String {
        let kept =
            lastCheckpointStep.map { "the last good checkpoint (step \($0)) is in \(directory)" }
            ?? "no checkpoint was written yet"
        return
            "training diverged: the loss or gradient became NaN, infinite or exploded at step \(step); \(kept); try a lower --lr than \(learningRate)"
    }
}

/// The numbers of one update, for progress lines and metrics logs.
public struct TrainingUpdate: Sendable {
    /// The update just taken (1-based, counted over the whole run).
    public var step: Int
    /// The batch's mean loss.
    public var loss: Double
    /// The learning rate the update used.
    public var learningRate: Float
    /// The global L2 norm of the gradients before clipping.
    public var gradientNorm: Float
    /// Whether clipping scaled the gradients down.
    public var clipped: Bool
    /// Seconds the update took (forward, backward, clipping and the optimizer step).
    public var seconds: Double
    /// Items (symbols, pairs) per second over this run's timed updates.
    public var itemsPerSecond: Double
    /// Estimated seconds until the last step.
    public var secondsRemaining: Double
}

/// The part of every training run that does not depend on the model: one update (learning
/// rate, the caller's forward and backward, the divergence check, clipping by the global norm,
/// the optimizer step), the clock and throughput (warm-up updates excluded), the running
/// training loss, stop requests and checkpoint bookkeeping.
///
/// The char-LM and translation trainers configure it with what differs (how a batch's loss is
/// computed, when to validate, what a checkpoint holds), so divergence, clipping and timing
/// behave the same in both.
///
/// ```swift
/// let loop = TrainingLoop(
///     optimizer: adam, learningRate: 2e-3, clip: 5, totalSteps: 1000, directory: "run")
/// while loop.step < 1000, !loop.stopRequested(shouldStop) {
///     let update = try loop.update(learningRate: schedule.rate(base: 2e-3, step: loop.step)) {
///         (loss: forwardAndBackward(), items: batch * steps)
///     }
/// }
/// ```
public final class TrainingLoop {
    /// The optimizer that takes the updates (its parameters are clipped together).
    public let optimizer: any Optimizer
    /// The largest global gradient norm (0: no clipping).
    public let clip: Float
    /// The run's base learning rate (the one to lower after a divergence).
    public let baseLearningRate: Float
    /// The step the run ends at.
    public let totalSteps: Int
    /// Where the run's checkpoints go (named in divergence errors).
    public let directory: String
    /// Updates taken so far, over all resumed parts of the run.
    public private(set) var step: Int
    /// Updates whose gradients clipping scaled down, over the whole run.
    public private(set) var clippedSteps: Int
    /// The step of the last checkpoint written (nil: none yet).
    public private(set) var lastCheckpointStep: Int?
    /// Whether a stop request ended the run.
    public private(set) var interrupted = false
    /// Seconds in timed updates of this process (warm-up excluded).
    public private(set) var timedSeconds = 0.0
    /// Items in timed updates of this process.
    public private(set) var timedItems = 0
    /// Updates taken by this process.
    public private(set) var updatesThisRun = 0
    /// Seconds of the timed updates spent averaging gradients over the group (the all-reduces
    /// and the copies into and out of the fused buffer; 0 for one process).
    public private(set) var communicationSeconds = 0.0
    /// Updates at the start of this process that are not timed (caches, page faults).
    public let warmupUpdates: Int
    /// The processes that take each update together (`SingleProcess` alone).
    public let group: any ProcessGroup
    private let parameters: [(name: String, parameter: Parameter)]
    private let trained: [Parameter]  // `parameters` without their names, for the group
    private var fused: [Float] = []  // every gradient in one buffer, for one all-reduce
    private var localStopRequest = false  // this process's stop request, not yet agreed
    private var recentLosses: [Double] = []
    private let largestLoss: Double

    /// A loop starting at `step` (0, or a resumed checkpoint's step, which then counts as the
    /// last checkpoint).
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer over every trained parameter.
    ///   - learningRate: the run's base learning rate, named in divergence errors.
    ///   - clip: the largest global gradient norm (0: none).
    ///   - totalSteps: the step the run ends at.
    ///   - step: the step training resumes from (0 for a new run).
    ///   - clippedSteps: the clipped updates counted before `step` (from the checkpoint).
    ///   - warmupUpdates: updates of this process left out of the throughput.
    ///   - largestLoss: a larger loss counts as divergence, like a NaN.
    ///   - group: the processes that share each batch (their gradients are averaged, weighted by
    ///     their items, before clipping).
    ///   - directory: the run's directory.
    public init(
        optimizer: any Optimizer, learningRate: Float, clip: Float, totalSteps: Int, step: Int = 0,
        clippedSteps: Int = 0, warmupUpdates: Int = 3, largestLoss: Double = .infinity,
        group: any ProcessGroup = SingleProcess(), directory: String
    ) {
        self.group = group
        self.optimizer = optimizer
        self.parameters = optimizer.parameters
        trained = optimizer.parameters.map(\.parameter)
        self.baseLearningRate = learningRate
        self.clip = clip
        self.totalSteps = totalSteps
        self.step = step
        self.clippedSteps = clippedSteps
        self.warmupUpdates = warmupUpdates
        self.largestLoss = largestLoss
        self.directory = directory
        lastCheckpointStep = step > 0 ? step : nil
    }

    /// Whether to stop now: asks `shouldStop` (Ctrl-C, SIGTERM) and remembers a yes.
    ///
    /// In a group of several processes a request is agreed in the next update's all-reduce, so
    /// every process stops after the same step (none is left waiting in a collective).
    public func stopRequested(_ shouldStop: () -> Bool) -> Bool {
        if !localStopRequest && shouldStop() { localStopRequest = true }
        // One process agrees with itself at once.
        if group.size == 1 { interrupted = localStopRequest }
        return interrupted
    }

    /// One update: sets the learning rate, runs `compute` (the forward and backward pass of one
    /// batch, returning its mean loss and the items it covered), checks the loss and gradient,
    /// clips, and steps the optimizer.
    ///
    /// - Throws: `TrainingDivergence` when the loss or the gradient norm is not finite (or the
    ///   loss is above `largestLoss`); the optimizer has not stepped then.
    public func update(
        learningRate: Float, _ compute: () throws -> (loss: Double, items: Int)
    ) throws -> TrainingUpdate {
        try update(learningRate: learningRate) { () throws -> (Double, Int, Double) in
            let (loss, items) = try compute()
            return (loss, items, Double(items))
        }
    }

    /// One update whose loss is a mean over `weight` terms that are not `items` (a translation
    /// batch's loss is a mean over its target tokens, its throughput counted in pairs): in a
    /// group, each process's gradient counts by its weight.
    public func update(
        learningRate: Float, _ compute: () throws -> (loss: Double, items: Int, weight: Double)
    ) throws -> TrainingUpdate {
        let started = MonotonicClock.seconds()
        optimizer.learningRate = learningRate
        var (loss, items, weight) = try compute()
        var communication = 0.0
        if group.size > 1 {
            let averaging = MonotonicClock.seconds()
            let agreed = group.averageGradients(
                trained, loss: loss, items: items, weight: weight, stop: localStopRequest,
                buffer: &fused)
            (loss, items) = (agreed.loss, agreed.items)
            if agreed.stop { interrupted = true }
            communication = MonotonicClock.seconds() - averaging
        }
        let norm =
            clip > 0
            ? GradientClipping.clipByNorm(parameters, maxNorm: clip)
            : GradientClipping.globalNorm(parameters)
        guard loss.isFinite, loss <= largestLoss, norm.isFinite else {
            throw TrainingDivergence(
                step: step + 1, lastCheckpointStep: lastCheckpointStep,
                learningRate: baseLearningRate, directory: directory)
        }
        let clipped = clip > 0 && norm > clip
        if clipped { clippedSteps += 1 }
        optimizer.step()
        step += 1
        updatesThisRun += 1
        let elapsed = MonotonicClock.seconds() - started
        if updatesThisRun > warmupUpdates {
            timedSeconds += elapsed
            communicationSeconds += communication
            timedItems += items
        }
        recentLosses.append(loss)
        if recentLosses.count > 50 { recentLosses.removeFirst() }
        let speed = timedSeconds > 0 ? itemsPerSecond : Double(items) / max(elapsed, 1e-9)
        return TrainingUpdate(
            step: step, loss: loss, learningRate: learningRate, gradientNorm: norm,
            clipped: clipped, seconds: elapsed, itemsPerSecond: speed,
            secondsRemaining: Double(max(totalSteps - step, 0)) * Double(items) / max(speed, 1e-9)
        )
    }

    /// Items per second over this process's timed updates (0 before any).
    public var itemsPerSecond: Double {
        timedSeconds > 0 ? Double(timedItems) / timedSeconds : 0
    }

    /// The mean loss of the last 50 updates (NaN before any).
    public var recentLoss: Double {
        recentLosses.isEmpty ? .nan : recentLosses.reduce(0, +) / Double(recentLosses.count)
    }

    /// Records that a checkpoint of the current step was written.
    public func checkpointWritten() { lastCheckpointStep = step }
}
