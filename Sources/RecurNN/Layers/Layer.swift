import RecurTensor

/// What one forward pass needs besides its input: the tape that records it, whether it is a
/// training pass, and the generator that dropout masks come from.
///
/// Randomness is applied only in a training pass (`isTraining`) and only by modules in training
/// mode (`Module.isTraining`, set by `train()` / `eval()`), so an inference pass never drops out,
/// whatever mode the model is in. The generator is a value: after a training pass, read
/// `context.generator` back to continue the same stream (a checkpoint saves it).
///
/// ```swift
/// var context = ForwardContext.training(tape: tape, generator: rng)
/// let y = model(x, context: &context)
/// rng = context.generator
/// ```
public struct ForwardContext {
    /// The tape that records the pass (token inputs and constants are created on it).
    public let tape: Tape
    /// Whether this is a training pass (dropout on in modules that are in training mode).
    public var isTraining: Bool
    /// The source of dropout masks and any other training-time randomness.
    public var generator: Xoshiro256

    /// A context with every part given.
    public init(tape: Tape, isTraining: Bool, generator: Xoshiro256) {
        self.tape = tape
        self.isTraining = isTraining
        self.generator = generator
    }

    /// A training pass recorded on `tape`, drawing masks from `generator`.
    public static func training(tape: Tape = Tape(), generator: Xoshiro256) -> ForwardContext {
        ForwardContext(tape: tape, isTraining: true, generator: generator)
    }

    /// An inference pass: no dropout, and a tape that records nothing unless one is given.
    public static func inference(tape: Tape? = nil) -> ForwardContext {
        let t =
            tape
            ?? {
                let t = Tape()
                t.isRecording = false
                return t
            }()
        return ForwardContext(tape: t, isTraining: false, generator: Xoshiro256(seed: 0))
    }

    /// Whether `module` applies its training-time randomness in this pass: a training pass and
    /// a module in training mode.
    public func isTraining(_ module: some Module) -> Bool { isTraining && module.isTraining }
}

/// A module that maps one tape variable to another: the unit that `Sequential` composes.
///
/// Linear, normalization, dropout, activation, convolution, TCN and recurrent layers conform,
/// and so can any user-defined module, so models built from them compose freely.
public protocol Layer: Module {
    /// The layer on `x`, recorded on `x`'s tape.
    func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable
}

extension Layer {
    /// The layer on a plain tensor in an inference pass (no dropout, nothing recorded).
    public func callAsFunction(inference x: Tensor) -> Tensor {
        var context = ForwardContext.inference()
        return self(context.tape.constant(x), context: &context).value
    }
}

/// Layers applied one after another (PyTorch `nn.Sequential`).
///
/// Parameters are named by position: `0.weight`, `1.weight` and so on.
///
/// ```swift
/// let mlp = Sequential(
///     Linear(inputSize: 16, outputSize: 32, rng: &rng), Activation(.relu),
///     Dropout(probability: 0.1), Linear(inputSize: 32, outputSize: 4, rng: &rng))
/// let y = mlp(x, context: &context)
/// ```
public final class Sequential: Layer {
    /// The layers, in order.
    public let layers: [any Layer]
    /// Training mode; `train()` / `eval()` set it here and in every layer.
    public var isTraining = true

    /// The layers in the order they apply.
    public init(_ layers: [any Layer]) { self.layers = layers }

    /// The layers in the order they apply.
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    /// Visits the layers as children `0`, `1` and so on.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        for (i, layer) in layers.enumerated() { visit(.child("\(i)", layer)) }
    }

    /// Each layer on the previous one's output.
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        var y = x
        for layer in layers { y = layer(y, context: &context) }
        return y
    }
}

/// An elementwise nonlinearity as a layer (no parameters).
public final class Activation: Layer {
    /// The functions on offer.
    public enum Function: String, Sendable, CaseIterable {
        /// max(0, x).
        case relu
        /// tanh x.
        case tanh
        /// 1 / (1 + e^-x).
        case sigmoid
    }

    /// Which function.
    public let function: Function
    /// Training mode (no effect: the layer is deterministic).
    public var isTraining = true

    /// The layer for `function`.
    public init(_ function: Function) { self.function = function }

    /// Visits nothing: no parameters.
    public func visitMembers(_ visit: (ModuleMember) -> Void) {}

    /// The function applied to every element.
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable {
        switch function {
        case .relu: x.relu()
        case .tanh: x.tanh()
        case .sigmoid: x.sigmoid()
        }
    }
}

extension Linear: Layer {
    /// y = x Wᵀ + b (the context is not needed).
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable { self(x) }
}

extension LayerNorm: Layer {
    /// The normalization (the context is not needed).
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable { self(x) }
}

extension CausalConv1d: Layer {
    /// The convolution on `[B, T, C_in]` (the context is not needed).
    public func callAsFunction(_ x: Variable, context: inout ForwardContext) -> Variable { self(x) }
}
