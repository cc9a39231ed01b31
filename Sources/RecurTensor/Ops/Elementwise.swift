// Element-wise arithmetic with NumPy broadcasting, and unary functions.
//
// Binary operators broadcast trailing dimensions (shapes [4, 1, 3] and [5, 3] give [4, 5, 3]).
// The loops coalesce contiguous dimensions so that the inner loop is as long as possible and
// runs on SIMD16 lanes; its operands have stride 1 or 0 (broadcast).

extension Tensor {
    // MARK: Unary functions

    /// Applies a 16-lane closure to every element (for cold paths: a closure is not inlined into
    /// the loop; hot kernels pass a `LaneFunction` type to `map(_:)` instead).
    public func map(_ f: (SIMD16<Float>) -> SIMD16<Float>) -> Tensor {
        withoutActuallyEscaping(f) { map(LaneFunctions.Closure($0)) }
    }

    /// Applies a lane function to every element (specialized and inlined, unlike a closure).
    @inlinable
    public func map<F: LaneFunction>(_ f: F) -> Tensor {
        var result = Tensor(uninitializedShape: shape)
        withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { y in
                guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
                Tensor.forEachChunk(count: x.count) { range in
                    VectorMath.map(
                        xb + range.lowerBound, yb + range.lowerBound, count: range.count, f)
                }
            }
        }
        return result
    }

    /// Element-wise work of at least this many elements is split across the thread pool
    /// (below it, waking the workers costs more than it saves).
    @usableFromInline static let parallelElementThreshold = 1 << 15

    /// Runs `body` over `0..<count` in chunks whose bounds are multiples of `granularity`, on
    /// the thread pool when `count` is large.
    ///
    /// Element-wise results do not depend on the split.
    @inlinable
    public static func forEachChunk(count: Int, granularity: Int = 16, _ body: (Range<Int>) -> Void)
    {
        if count < parallelElementThreshold {
            body(0..<count)
        } else {
            ThreadPool.shared.parallelRanges(count: count, granularity: granularity, body)
        }
    }

    /// e^x element-wise (vectorized, ≤ 2 ulp).
    public func exp() -> Tensor { map(LaneFunctions.Exp()) }
    /// ln x element-wise (vectorized, ≤ 2 ulp).
    public func log() -> Tensor { map(LaneFunctions.Log()) }
    /// tanh x element-wise (vectorized, ≤ 2 ulp).
    public func tanh() -> Tensor { map(LaneFunctions.Tanh()) }
    /// 1 / (1 + e^-x) element-wise.
    public func sigmoid() -> Tensor { map(LaneFunctions.Sigmoid()) }
    /// max(x, 0) element-wise.
    public func relu() -> Tensor { map(LaneFunctions.ReLU()) }
    /// √x element-wise.
    public func squareRoot() -> Tensor { map { $0.squareRoot() } }
    /// x² element-wise.
    public func squared() -> Tensor { map { $0 * $0 } }
    /// |x| element-wise.
    public func magnitude() -> Tensor {
        map { v in
            var r = v
            r.replace(with: -v, where: v .< 0)
            return r
        }
    }

    /// Each element clamped to `range`.
    public func clamped(to range: ClosedRange<Float>) -> Tensor {
        let low = range.lowerBound
        let high = range.upperBound
        return map { v in
            var r = v
            r.replace(with: low, where: v .< low)
            r.replace(with: high, where: v .> high)
            return r
        }
    }

    /// -x element-wise.
    public static prefix func - (x: Tensor) -> Tensor { x.map { -$0 } }

    // MARK: Binary operators with broadcasting

    /// Element-wise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(a, b, op: "+", LaneFunctions.Add())
    }
    /// Element-wise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(a, b, op: "-", LaneFunctions.Subtract())
    }
    /// Element-wise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(a, b, op: "*", LaneFunctions.Multiply())
    }
    /// Element-wise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        broadcasting(a, b, op: "/", LaneFunctions.Divide())
    }

    /// Adds a scalar to every element.
    public static func + (a: Tensor, s: Float) -> Tensor {
        a.map(LaneFunctions.Affine(scale: 1, shift: s))
    }
    /// Subtracts a scalar from every element.
    public static func - (a: Tensor, s: Float) -> Tensor {
        a.map(LaneFunctions.Affine(scale: 1, shift: -s))
    }
    /// Multiplies every element by a scalar.
    public static func * (a: Tensor, s: Float) -> Tensor {
        a.map(LaneFunctions.Affine(scale: s, shift: 0))
    }
    /// Divides every element by a scalar.
    public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }
    /// Adds a scalar to every element.
    public static func + (s: Float, a: Tensor) -> Tensor {
        a.map(LaneFunctions.Affine(scale: 1, shift: s))
    }
    /// Subtracts every element from a scalar.
    public static func - (s: Float, a: Tensor) -> Tensor { a.map { s - $0 } }
    /// Multiplies every element by a scalar.
    public static func * (s: Float, a: Tensor) -> Tensor {
        a.map(LaneFunctions.Affine(scale: s, shift: 0))
    }
    /// Divides a scalar by every element.
    public static func / (s: Float, a: Tensor) -> Tensor { a.map { s / $0 } }

    /// In-place sum; `b` must broadcast to `a`'s shape.
    public static func += (a: inout Tensor, b: Tensor) {
        if a.shape == b.shape {
            a.withUnsafeMutableBufferPointer { y in
                b.withUnsafeBufferPointer { x in
                    guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
                    VectorMath.axpy(1, xb, yb, count: x.count)
                }
            }
        } else {
            let sum = a + b
            precondition(
                sum.shape == a.shape, "+=: shape \(b.shape) does not broadcast to \(a.shape)")
            a = sum
        }
    }
    /// In-place difference; `b` must broadcast to `a`'s shape.
    public static func -= (a: inout Tensor, b: Tensor) { a += -b }
    /// In-place product; `b` must broadcast to `a`'s shape.
    public static func *= (a: inout Tensor, b: Tensor) {
        let product = a * b
        precondition(
            product.shape == a.shape, "*=: shape \(b.shape) does not broadcast to \(a.shape)")
        a = product
    }
    /// In-place scaling.
    public static func *= (a: inout Tensor, s: Float) {
        a.withUnsafeMutableBufferPointer { y in
            guard let yb = y.baseAddress else { return }
            VectorMath.map(yb, yb, count: y.count, LaneFunctions.Affine(scale: s, shift: 0))
        }
    }

    /// z = f(x, y) for `count` elements of contiguous operands.
    @inlinable @inline(__always)
    static func zipLanes<O: LaneOperator>(
        _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>,
        count: Int, _ f: O
    ) {
        var i = 0
        while i + 16 <= count {
            let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(z + i).storeBytes(of: f(u, v), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            z[i] = f.scalar(x[i], y[i])
            i += 1
        }
    }

    /// z = f(x, s) (or f(s, x) with `scalarFirst`) for `count` contiguous elements of x.
    @inlinable @inline(__always)
    static func scalarLanes<O: LaneOperator>(
        _ x: UnsafePointer<Float>, _ s: Float, _ z: UnsafeMutablePointer<Float>, count: Int,
        scalarFirst: Bool, _ f: O
    ) {
        let sv = SIMD16<Float>(repeating: s)
        var i = 0
        while i + 16 <= count {
            let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(z + i).storeBytes(
                of: scalarFirst ? f(sv, u) : f(u, sv), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            z[i] = scalarFirst ? f.scalar(s, x[i]) : f.scalar(x[i], s)
            i += 1
        }
    }

    /// Shared driver of the broadcasting binary operators.
    @inlinable
    public static func broadcasting<O: LaneOperator>(_ a: Tensor, _ b: Tensor, op: String, _ f: O)
        -> Tensor
    {
        if a.shape == b.shape {
            var result = Tensor(uninitializedShape: a.shape)
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    result.withUnsafeMutableBufferPointer { z in
                        guard let xb = x.baseAddress, let yb = y.baseAddress, let zb = z.baseAddress
                        else { return }
                        forEachChunk(count: x.count) { range in
                            let o = range.lowerBound
                            zipLanes(xb + o, yb + o, zb + o, count: range.count, f)
                        }
                    }
                }
            }
            return result
        }
        let shape = Shape.broadcast(a.shape, b.shape, in: "Tensor \(op)")
        var result = Tensor(uninitializedShape: shape)
        if result.count == 0 { return result }
        let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                result.withUnsafeMutableBufferPointer { z in
                    guard let xb = x.baseAddress, let yb = y.baseAddress, let zb = z.baseAddress
                    else { return }
                    plan.forEachRow { outOffset, aOffset, bOffset in
                        let n = plan.inner
                        let xr = xb + aOffset
                        let yr = yb + bOffset
                        let zr = zb + outOffset
                        switch (plan.innerStrideA, plan.innerStrideB) {
                        case (1, 1):
                            zipLanes(xr, yr, zr, count: n, f)
                        case (1, _):
                            scalarLanes(xr, yr[0], zr, count: n, scalarFirst: false, f)
                        case (_, 1):
                            scalarLanes(yr, xr[0], zr, count: n, scalarFirst: true, f)
                        default:
                            let v = f.scalar(xr[0], yr[0])
                            for i in 0..<n { zr[i] = v }
                        }
                    }
                }
            }
        }
        return result
    }
}

/// Iteration plan for a broadcast binary operation: dimensions coalesced, the last one the
/// inner loop.
@usableFromInline
struct BroadcastPlan {
    @usableFromInline var outer: [Int] = []
    @usableFromInline var stridesA: [Int] = []
    @usableFromInline var stridesB: [Int] = []
    @usableFromInline var inner = 1
    @usableFromInline var innerStrideA = 0
    @usableFromInline var innerStrideB = 0

    @usableFromInline
    init(shape: [Int], a: [Int], b: [Int]) {
        let sa = Shape.broadcastStrides(a, to: shape)
        let sb = Shape.broadcastStrides(b, to: shape)
        // Coalesce: dimension i merges into i+1 when both operands read them as one run.
        var dims: [Int] = []
        var da: [Int] = []
        var db: [Int] = []
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = dims.last, let lastA = da.last, let lastB = db.last,
                lastA == sa[i] * shape[i], lastB == sb[i] * shape[i]
            {
                dims[dims.count - 1] = last * shape[i]
                da[da.count - 1] = sa[i]
                db[db.count - 1] = sb[i]
            } else {
                dims.append(shape[i])
                da.append(sa[i])
                db.append(sb[i])
            }
        }
        if dims.isEmpty {
            dims = [1]
            da = [0]
            db = [0]
        }
        inner = dims.removeLast()
        innerStrideA = da.removeLast()
        innerStrideB = db.removeLast()
        outer = dims
        stridesA = da
        stridesB = db
    }

    /// Calls `body(outputOffset, aOffset, bOffset)` for each inner row, in row-major order.
    @inlinable
    func forEachRow(_ body: (Int, Int, Int) -> Void) {
        let rows = Shape.count(of: outer)
        var index = [Int](repeating: 0, count: outer.count)
        var offsetA = 0
        var offsetB = 0
        for row in 0..<rows {
            body(row * inner, offsetA, offsetB)
            var axis = outer.count - 1
            while axis >= 0 {
                index[axis] += 1
                offsetA += stridesA[axis]
                offsetB += stridesB[axis]
                if index[axis] < outer[axis] { break }
                offsetA -= stridesA[axis] * outer[axis]
                offsetB -= stridesB[axis] * outer[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
