import RealModule
import RecurBase
import RecurTensor

/// How per-example losses combine.
public enum LossReduction: String, Sendable, Codable {
    /// Average over the examples that count (targets equal to the ignore index do not).
    case mean
    /// Sum over the examples.
    case sum
}

/// Fused softmax cross-entropy over rows of logits (PyTorch `nn.CrossEntropyLoss`).
///
/// For logits `z` `[N, V]` and integer targets `y` `[N]`, with label smoothing ε:
/// ```
/// q      = (1 - ε) · onehot(y) + ε / V
/// loss_n = -Σ_v q_v · log softmax(z_n)_v
/// dz_n   = softmax(z_n) - q                         (times 1/count for .mean)
/// ```
/// Rows whose target equals `ignoreIndex` contribute neither loss nor gradient. Loss and
/// gradient come from one pass over each row (the log-sum-exp is computed once).
public enum SoftmaxCrossEntropy {
    /// The loss and, when `gradient` is non-nil, d loss / d logits written there.
    ///
    /// - Parameters:
    ///   - logits: `rows × classes`, row-major.
    ///   - rows: N.
    ///   - classes: V.
    ///   - targets: `rows` class ids.
    ///   - reduction: sum or mean over the counted rows.
    ///   - ignoreIndex: rows with this target count for nothing (padding).
    ///   - labelSmoothing: ε.
    ///   - gradient: `rows × classes` output (may alias `logits`), or nil.
    /// - Returns: the reduced loss (Float64 accumulation) and the number of rows that counted.
    public static func compute(
        logits: UnsafePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
        reduction: LossReduction = .mean, ignoreIndex: Int32? = nil, labelSmoothing: Float = 0,
        gradient: UnsafeMutablePointer<Float>?
    ) -> (loss: Double, count: Int) {
        var counted = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            precondition(
                targets[r] >= 0 && Int(targets[r]) < classes,
                "SoftmaxCrossEntropy: target \(targets[r]) out of range 0..<\(classes)")
            counted += 1
        }
        let scale: Float = reduction == .mean ? (counted > 0 ? 1 / Float(counted) : 0) : 1
        var total = sumRows(
            logits: logits, rows: 0..<rows, classes: classes, targets: targets,
            ignoreIndex: ignoreIndex,
            labelSmoothing: labelSmoothing, gradientScale: scale, gradient: gradient)
        if reduction == .mean { total = counted > 0 ? total / Double(counted) : 0 }
        return (total, counted)
    }

    /// The summed loss of `rows` (targets must be in range), writing `scale ·` d loss / d logits
    /// into `gradient` when given.
    ///
    /// The building block of `compute` and of parallel callers,
    /// which split the rows and add the partial sums in a fixed order.
    public static func sumRows(
        logits: UnsafePointer<Float>, rows: Range<Int>, classes: Int, targets: UnsafePointer<Int32>,
        ignoreIndex: Int32? = nil, labelSmoothing: Float = 0, gradientScale scale: Float,
        gradient: UnsafeMutablePointer<Float>?
    ) -> Double {
        let smooth = labelSmoothing / Float(classes)
        var total = 0.0
        for r in rows {
            let z = logits + r * classes
            let y = targets[r]
            if y == ignoreIndex {
                if let gradient { (gradient + r * classes).update(repeating: 0, count: classes) }
                continue
            }
            let m = VectorMath.maximum(z, count: classes)
            var acc = SIMD16<Float>(repeating: 0)
            var i = 0
            while i + 16 <= classes {
                acc += VectorMath.exp(
                    UnsafeRawPointer(z + i).loadUnaligned(as: SIMD16<Float>.self) - m)
                i += 16
            }
            if i < classes {
                acc += VectorMath.exp(
                    VectorMath.load(z + i, count: classes - i, fill: -.infinity) - m)
            }
            let sum = acc.sum()
            let logSum = Float(Double.log(Double(sum)))
            let logProbabilityOfTarget = (z[Int(y)] - m) - logSum
            var rowLoss = -Double(1 - labelSmoothing) * Double(logProbabilityOfTarget)
            if labelSmoothing > 0 {
                var sumLogP = 0.0
                for v in 0..<classes { sumLogP += Double((z[v] - m) - logSum) }
                rowLoss -= Double(smooth) * sumLogP
            }
            total += rowLoss
            if let gradient {
                let g = gradient + r * classes
                let inverse = 1 / sum
                VectorMath.map(
                    z, g, count: classes,
                    LaneFunctions.SmoothedSoftmaxGradient(
                        shift: m, inverse: inverse, smooth: smooth, scale: scale))
                g[Int(y)] -= (1 - labelSmoothing) * scale
            }
        }
        return total
    }

    /// The loss of `logits` `[N, V]` against `targets` as one tape node (rank 0).
    public static func loss(
        _ logits: Variable, targets: [Int32], reduction: LossReduction = .mean,
        ignoreIndex: Int32? = nil, labelSmoothing: Float = 0
    ) -> Variable {
        let z = logits.value
        precondition(
            z.rank == 2 && z.shape[0] == targets.count,
            "SoftmaxCrossEntropy: logits \(z.shape) and \(targets.count) targets")
        precondition(
            labelSmoothing >= 0 && labelSmoothing <= 1,
            "SoftmaxCrossEntropy: label smoothing must be in [0, 1]")
        let (n, v) = (z.shape[0], z.shape[1])
        var gradient = Tensor(uninitializedShape: [n, v])
        let result = z.withUnsafeBufferPointer { zs in
            gradient.withUnsafeMutableBufferPointer { gs in
                targets.withUnsafeBufferPointer { ts in
                    compute(
                        logits: zs.start, rows: n, classes: v, targets: ts.start,
                        reduction: reduction,
                        ignoreIndex: ignoreIndex, labelSmoothing: labelSmoothing,
                        gradient: gs.baseAddress)
                }
            }
        }
        return logits.tape.record(Tensor(Float(result.loss)), inputs: [logits]) { g in
            logits.tape.accumulate(gradient * g.scalar, into: logits)
        }
    }
}

/// Mean squared error, `mean((x - t)²)`, as one tape node (rank 0).
public func meanSquaredError(_ x: Variable, target: Tensor) -> Variable {
    precondition(
        x.shape == target.shape, "meanSquaredError: shapes \(x.shape) and \(target.shape) differ")
    let difference = x.value - target
    let n = Float(Swift.max(difference.count, 1))
    let loss = difference.squared().sum() / n
    return x.tape.record(Tensor(loss), inputs: [x]) { g in
        x.tape.accumulate(difference * (2 * g.scalar / n), into: x)
    }
}
