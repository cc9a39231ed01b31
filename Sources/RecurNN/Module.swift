import RecurTensor

/// Something that owns named parameters and may contain other modules.
///
/// Parameter names are stable dotted paths (`"rnn.weight_ih_l0"`), used by optimizers,
/// checkpoints and model summaries. The recurrent layers use PyTorch's names and layouts, so a
/// checkpoint's tensors load into `torch.nn.LSTM` unchanged.
public protocol Module: AnyObject {
    /// Calls `visit` once per parameter, in a fixed order, with its full dotted name.
    func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void)
    /// Calls `visit` once per direct child module.
    func visitChildren(_ visit: (Module) -> Void)
    /// Whether the module is in training mode (dropout active).
    var isTraining: Bool { get set }
}

extension Module {
    /// Visits nothing: a module has no children unless it says so.
    public func visitChildren(_ visit: (Module) -> Void) {}

    /// Every parameter with its name, in visiting order.
    public func parameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        visitParameters(prefix: prefix) { result.append(($0, $1)) }
        return result
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.parameter.value.count } }

    /// Switches this module and all its descendants to training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        isTraining = training
        visitChildren { $0.train(training) }
    }

    /// Switches to evaluation mode (dropout off).
    public func eval() { train(false) }

    /// Sets every parameter's gradient to zero.
    public func zeroGradients() {
        for (_, p) in parameters() { p.zeroGradient() }
    }

    /// A table of parameter names, shapes and counts, with the total.
    public func summary(title: String? = nil) -> String {
        let rows = parameters().map { ($0.name, "\($0.parameter.shape)", $0.parameter.value.count) }
        let nameWidth = max(9, rows.map(\.0.count).max() ?? 0)
        let shapeWidth = max(5, rows.map(\.1.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String {
            s + String(repeating: " ", count: max(0, n - s.count))
        }
        var lines: [String] = []
        if let title { lines.append(title) }
        lines.append(pad("parameter", nameWidth) + "  " + pad("shape", shapeWidth) + "  count")
        for (name, shape, count) in rows {
            lines.append(pad(name, nameWidth) + "  " + pad(shape, shapeWidth) + "  \(count)")
        }
        lines.append("total: \(parameterCount) parameters")
        return lines.joined(separator: "\n")
    }
}

/// Draws from a generator only when one is given (inference passes none).
extension Optional where Wrapped == Xoshiro256 {
    /// The next uniform Float, or 0.5 without a generator.
    mutating func nextFloatOrHalf() -> Float {
        guard var g = self else { return 0.5 }
        let u = g.nextFloat()
        self = g
        return u
    }
}
