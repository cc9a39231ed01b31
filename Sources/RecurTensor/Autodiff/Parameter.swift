/// A trainable tensor and the gradient accumulated for it.
///
/// Layers own their parameters; optimizers update `value` from `gradient` and then zero it.
/// Gradients accumulate (`+=`) across backward passes until `zeroGradient()`.
/// A reference type on purpose: a layer and an optimizer share one parameter.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// The accumulated gradient, same shape as `value`.
    public var gradient: Tensor

    /// Creates a parameter with a zero gradient.
    public init(_ value: Tensor) {
        self.value = value
        gradient = Tensor.zeros(value.shape)
    }

    /// The parameter's shape.
    public var shape: [Int] { value.shape }

    /// Sets the gradient to zero, in place.
    public func zeroGradient() { gradient.fill(0) }

    /// Adds `delta` (same shape) to the gradient, in place.
    public func accumulateGradient(_ delta: Tensor) {
        precondition(
            delta.shape == value.shape,
            "Parameter.accumulateGradient: gradient shape \(delta.shape) differs from parameter shape \(value.shape)"
        )
        gradient += delta
    }
}
