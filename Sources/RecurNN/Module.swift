import RecurTensor

/// Something that owns named parameters and may contain other modules.
///
/// A module says what it holds in one place, `visitMembers`: its own parameters and its child
/// modules, each with a name. Everything else is derived from that one visitor: the dotted
/// parameter names (`"rnn.weight_ih_l0"`) that optimizers, checkpoints and summaries use,
/// the children, and `train()` / `eval()`, which reach every descendant. The recurrent layers use
/// PyTorch's names and layouts, so a checkpoint's tensors load into `torch.nn.LSTM` unchanged.
///
/// ```swift
/// final class Classifier: Module {
///     let lstm: LSTM
///     let head: Linear
///     var isTraining = true
///     func visitMembers(_ visit: (ModuleMember) -> Void) {
///         visit(.child("lstm", lstm))  // parameters "lstm.weight_ih_l0", …
///         visit(.child("head", head))  // "head.weight", "head.bias"
///     }
/// }
/// ```
public protocol Module: AnyObject {
    /// Calls `visit` once per own parameter and once per direct child module, in a fixed order.
    func visitMembers(_ visit: (ModuleMember) -> Void)
    /// Whether the module is in training mode (dropout active in training passes).
    var isTraining: Bool { get set }
}

/// One thing a module holds: a parameter or a child module, with its name.
public enum ModuleMember {
    /// A parameter named relative to its module (`"weight"`).
    case parameter(String, Parameter)
    /// A child module; its parameters are named `name.` + their own names (an empty name adds
    /// no prefix, for a wrapper that exposes its child's names as its own).
    case child(String, any Module)
}

extension Module {
    /// Calls `visit` once per parameter of this module and its descendants, in a fixed order, with
    /// its full dotted name under `prefix`.
    public func visitParameters(prefix: String, _ visit: (String, Parameter) -> Void) {
        visitMembers { member in
            switch member {
            case .parameter(let name, let parameter): visit(prefix + name, parameter)
            case .child(let name, let child):
                child.visitParameters(prefix: name.isEmpty ? prefix : prefix + name + ".", visit)
            }
        }
    }

    /// Calls `visit` once per direct child module.
    public func visitChildren(_ visit: (any Module) -> Void) {
        visitMembers { member in
            if case .child(_, let child) = member { visit(child) }
        }
    }

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
