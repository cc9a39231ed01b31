// Element-wise kernels are generic over a lane-function *type* instead of taking a closure.
//
// Measured with Swift 6.3: a closure literal handed to an `@inline(__always)` loop such as
// `VectorMath.map(x, y, count: n) { exp($0) }` is not inlined into the loop; every 16 elements
// paid a call with the SIMD16 argument split into four xmm registers, and the vectorized exp
// ran at 1.6 ns per element instead of 0.3. A generic function specialized for a concrete
// struct inlines its `callAsFunction`, so the loop compiles to straight zmm code.

/// A function applied to 16 lanes at a time.
public protocol LaneFunction {
    /// The function on 16 lanes.
    func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
}

/// A binary function applied to 16 lanes at a time, with its scalar form for loop tails.
public protocol LaneOperator {
    func callAsFunction(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float>
    func scalar(_ a: Float, _ b: Float) -> Float
}

/// The lane functions Recur's kernels use.
public enum LaneFunctions {
    /// Any closure, for cold paths (called, not inlined, per 16 lanes).
    public struct Closure: LaneFunction {
        /// The function.
        public let body: (SIMD16<Float>) -> SIMD16<Float>
        /// Creates the function with its constants.
        @inlinable public init(_ body: @escaping (SIMD16<Float>) -> SIMD16<Float>) {
            self.body = body
        }
        /// The function on 16 lanes.
        @inlinable public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float> { body(v) }
    }
    /// e^x (`VectorMath.exp`).
    public struct Exp: LaneFunction {
        /// Creates the function.
        @inlinable public init() {}
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        { VectorMath.exp(v) }
    }
    /// The natural logarithm (`VectorMath.log`).
    public struct Log: LaneFunction {
        /// Creates the function.
        @inlinable public init() {}
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        { VectorMath.log(v) }
    }
    /// tanh x (`VectorMath.tanh`).
    public struct Tanh: LaneFunction {
        /// Creates the function.
        @inlinable public init() {}
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        { VectorMath.tanh(v) }
    }
    /// The logistic function 1 / (1 + e^-x) (`VectorMath.sigmoid`).
    public struct Sigmoid: LaneFunction {
        /// Creates the function.
        @inlinable public init() {}
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        { VectorMath.sigmoid(v) }
    }
    /// max(x, 0).
    public struct ReLU: LaneFunction {
        /// Creates the function.
        @inlinable public init() {}
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        {
            var r = v
            r.replace(with: 0, where: v .< 0)
            return r
        }
    }
    /// a·x + b.
    public struct Affine: LaneFunction {
        /// The scale.
        public var a: Float
        /// The shift.
        public var b: Float
        /// Creates the function with its constants.
        @inlinable public init(scale a: Float, shift b: Float) {
            self.a = a
            self.b = b
        }
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        {
            VectorMath.madd(v, SIMD16(repeating: a), SIMD16(repeating: b))
        }
    }
    /// e^(x - shift), the softmax numerator.
    public struct ShiftedExp: LaneFunction {
        /// Subtracted before the exponential (the row maximum).
        public var shift: Float
        /// Creates the function with its constants.
        @inlinable public init(shift: Float) { self.shift = shift }
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        {
            VectorMath.exp(v - shift)
        }
    }

    /// (x - first) - second, in that order (exact for large x with a small second).
    public struct ShiftTwice: LaneFunction {
        /// Subtracted first (the row maximum).
        public var first: Float
        /// Subtracted second (the log of the sum).
        public var second: Float
        /// Creates the function with its constants.
        @inlinable public init(_ first: Float, _ second: Float) {
            self.first = first
            self.second = second
        }
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        { (v - first) - second }
    }
    /// (e^(x - shift) · inverse - smooth) · scale: the gradient of label-smoothed cross-entropy
    /// before the target's own term.
    public struct SmoothedSoftmaxGradient: LaneFunction {
        /// The row maximum.
        public var shift: Float
        /// 1 / Σ e^(x - shift).
        public var inverse: Float
        /// ε / V, the smoothing mass of every class.
        public var smooth: Float
        /// The loss scale (1 / rows).
        public var scale: Float
        /// Creates the function with its constants.
        @inlinable public init(shift: Float, inverse: Float, smooth: Float, scale: Float) {
            self.shift = shift
            self.inverse = inverse
            self.smooth = smooth
            self.scale = scale
        }
        /// The function on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(_ v: SIMD16<Float>) -> SIMD16<Float>
        {
            (VectorMath.exp(v - shift) * inverse - smooth) * scale
        }
    }

    /// a + b.
    public struct Add: LaneOperator {
        /// Creates the function.
        @inlinable public init() {}
        /// The operator on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(
            _ a: SIMD16<Float>, _ b: SIMD16<Float>
        ) -> SIMD16<Float> { a + b }
        /// The operator on one element (for loop tails).
        @inlinable @inline(__always) public func scalar(_ a: Float, _ b: Float) -> Float { a + b }
    }
    /// a - b.
    public struct Subtract: LaneOperator {
        /// Creates the function.
        @inlinable public init() {}
        /// The operator on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(
            _ a: SIMD16<Float>, _ b: SIMD16<Float>
        ) -> SIMD16<Float> { a - b }
        /// The operator on one element (for loop tails).
        @inlinable @inline(__always) public func scalar(_ a: Float, _ b: Float) -> Float { a - b }
    }
    /// a · b.
    public struct Multiply: LaneOperator {
        /// Creates the function.
        @inlinable public init() {}
        /// The operator on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(
            _ a: SIMD16<Float>, _ b: SIMD16<Float>
        ) -> SIMD16<Float> { a * b }
        /// The operator on one element (for loop tails).
        @inlinable @inline(__always) public func scalar(_ a: Float, _ b: Float) -> Float { a * b }
    }
    /// a / b.
    public struct Divide: LaneOperator {
        /// Creates the function.
        @inlinable public init() {}
        /// The operator on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(
            _ a: SIMD16<Float>, _ b: SIMD16<Float>
        ) -> SIMD16<Float> { a / b }
        /// The operator on one element (for loop tails).
        @inlinable @inline(__always) public func scalar(_ a: Float, _ b: Float) -> Float { a / b }
    }
    /// The gradient of ReLU: `a` where `b` > 0, else 0.
    public struct PassWherePositive: LaneOperator {
        /// Creates the function.
        @inlinable public init() {}
        /// The operator on 16 lanes.
        @inlinable @inline(__always) public func callAsFunction(
            _ a: SIMD16<Float>, _ b: SIMD16<Float>
        ) -> SIMD16<Float> {
            var r = a
            r.replace(with: 0, where: b .<= 0)
            return r
        }
        /// The operator on one element (for loop tails).
        @inlinable @inline(__always) public func scalar(_ a: Float, _ b: Float) -> Float {
            b > 0 ? a : 0
        }
    }
}

extension VectorMath {
    /// Applies `f` to `count` elements of `x`, writing `y` (which may be `x`).
    @inlinable @inline(__always)
    public static func map<F: LaneFunction>(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ f: F
    ) {
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: SIMD16<Float>.self)
            i += 16
        }
        if i < count {
            store(f(load(x + i, count: count - i)), y + i, count: count - i)
        }
    }
}
