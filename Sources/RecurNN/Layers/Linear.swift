import RecurTensor

/// A fully connected layer, `y = x Wᵀ + b` (PyTorch `nn.Linear`).
///
/// Shapes: x `[…, in]` → y `[…, out]`; `weight` `[out, in]`, `bias` `[out]`.
/// Initialization (PyTorch default): every entry uniform in ±1/√in.
public final class Linear: Module {
    /// `[out, in]`.
    public let weight: Parameter
    /// `[out]`, or nil without bias.
    public let bias: Parameter?
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// Input features.
    public var inputSize: Int { weight.shape[1] }
    /// Output features.
    public var outputSize: Int { weight.shape[0] }

    /// Creates a layer with PyTorch's default initialization.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, rng: inout Xoshiro256) {
        precondition(
            inputSize > 0 && outputSize > 0,
            "Linear: sizes must be positive, got \(inputSize)→\(outputSize)")
        let bound = 1 / Float(inputSize).squareRoot()
        weight = Parameter(
            Tensor.uniform([outputSize, inputSize], in: -bound...bound, using: &rng))
        self.bias =
            bias ? Parameter(Tensor.uniform([outputSize], in: -bound...bound, using: &rng)) : nil
    }

    /// Visits `weight` and `bias` (PyTorch's names).
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.parameter("weight", weight))
        if let bias { visit(.parameter("bias", bias)) }
    }

    /// y = x Wᵀ + b on plain tensors (inference), x `[…, in]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inputSize, "Linear: input \(x.shape) must end in \(inputSize)")
        let rows = x.count / inputSize
        var y = x.reshaped([rows, inputSize]).matmul(weight.value, transposeOther: true)
        if let bias { y += bias.value }
        return y.reshaped(Array(x.shape.dropLast()) + [outputSize])
    }

    /// y = x Wᵀ + b as one tape node; backward: dx = dy W, dW += dyᵀ x, db += Σ dy.
    public func callAsFunction(_ x: Variable) -> Variable {
        let input = x.value
        precondition(
            input.shape.last == inputSize, "Linear: input \(input.shape) must end in \(inputSize)")
        let rows = input.count / inputSize
        let x2 = input.reshaped([rows, inputSize])
        var y = x2.matmul(weight.value, transposeOther: true)
        if let bias { y += bias.value }
        let outShape = Array(input.shape.dropLast()) + [outputSize]
        let w = x.tape.parameter(weight)
        var inputs = [x, w]
        if let bias { inputs.append(x.tape.parameter(bias)) }
        let weightValue = weight.value
        return x.tape.record(y.reshaped(outShape), inputs: inputs) { [weight, bias] g in
            let g2 = g.reshaped([rows, self.outputSize])
            if x.tape.requiresGradient(x) {
                x.tape.accumulate(g2.matmul(weightValue).reshaped(input.shape), into: x)
            }
            g2.matmul(x2, into: &weight.gradient, transposeSelf: true, accumulate: true)
            if let bias { bias.gradient += g2.sum(axis: 0) }
        }
    }
}
