// Vectorized transcendental functions on `SIMD16<Float>` and loops that apply them to buffers.
//
// Recur's hot loops (LSTM/GRU gates, softmax, sigmoid tables) call these instead of libm's
// `expf`/`tanhf`, which evaluate one element at a time. The approximations follow Cephes
// (S. L. Moshier): range reduction to a small interval, then a minimax polynomial.
//
// Accuracy, measured by `VectorMathTests` against Double-precision references on a dense sweep:
//   exp      |x| ≤ 88          ≤ 2 ulp
//   log      x in [1e-30, 1e30] ≤ 2 ulp
//   tanh     all x             ≤ 2 ulp (relative), exact ±1 saturation for |x| ≥ 9.1
//   sigmoid  x ≥ -80            ≤ 2.5 ulp (the error of e^-|x| carries over, and may double
//                              when the quotient falls one binade below it)
// exp flushes to 0 below -87.34 and returns +inf above 88.72, as `expf` does.
// Code generation: the manifest builds for the host CPU (AVX-512 or AVX2), where one SIMD16
// operation is one or two instructions. Avoid `pointwiseMin`/`pointwiseMax` here: their NaN
// semantics make LLVM scalarize them on some targets; `replace(with:where:)` lowers to blends.

/// Vectorized elementary functions on 16 lanes of `Float`, and buffer loops over them.
public enum VectorMath {
    /// a · b + c on 16 lanes: one fused multiply-add when the build targets a CPU with FMA
    /// (`RECUR_FMA`, set by the manifest), else a multiply and an add.
    @_transparent
    public static func madd(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<
        Float
    > {
        #if RECUR_FMA
            return c.addingProduct(a, b)
        #else
            return a * b + c
        #endif
    }

    /// The reduction at the heart of `exp`: for x already clamped to [-87.34, 88.72], e^x =
    /// p · 2^n with p in [√½, √2] (a degree-6 polynomial in r = x - n ln 2) and n the lanes of
    /// `n`.
    @_transparent
    public static func expReduced(_ xc: SIMD16<Float>) -> (p: SIMD16<Float>, n: SIMD16<Int32>) {
        // n = round(x / ln 2) with the 1.5·2^23 shifter: the low mantissa bits of t hold n.
        let shifter = SIMD16<Float>(repeating: 12_582_912.0)
        let t = madd(xc, SIMD16(repeating: 1.442_695_04), shifter)
        let n = t - shifter
        // r = x - n ln2 in two parts (Cody–Waite), exact for |n| ≤ 128.
        var r = madd(n, SIMD16(repeating: -0.693_359_375), xc)
        r = madd(n, SIMD16(repeating: 2.121_944_4e-4), r)
        var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
        p = madd(p, r, SIMD16(repeating: 1.398_199_950_7e-3))
        p = madd(p, r, SIMD16(repeating: 8.333_451_907_3e-3))
        p = madd(p, r, SIMD16(repeating: 4.166_579_589_4e-2))
        p = madd(p, r, SIMD16(repeating: 1.666_666_545_9e-1))
        p = madd(p, r, SIMD16(repeating: 5.000_000_120_1e-1))
        p = madd(p, r * r, r) + 1
        return (p, unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000)
    }

    /// e^x on 16 lanes.
    @_transparent
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        var xc = x
        xc.replace(with: -87.336_54, where: x .< -87.336_54)
        xc.replace(with: 88.722_83, where: x .> 88.722_83)
        let (p, n) = expReduced(xc)
        // 2^n: n + 127 into the exponent field, in two halves so that n = 128 (x at the upper
        // clamp) still gives a finite product.
        let half = n &>> 1
        let scaleA = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let scaleB = unsafeBitCast((n &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
        var result = p * scaleA * scaleB
        result.replace(with: 0, where: x .< -87.336_54)
        result.replace(with: .infinity, where: x .> 88.722_83)
        return result
    }

    /// e^x on 16 lanes for x ≤ 0 (or NaN): `exp` without the overflow side, for sigmoid and
    /// tanh, whose exponentials never exceed 1.
    ///
    /// Same polynomial and accuracy as `exp`; 2^n (n ≥ -126) is one exponent-field write instead of
    /// two, and there are no overflow checks.
    @_transparent
    public static func expNonPositive(_ x: SIMD16<Float>) -> SIMD16<Float> {
        var xc = x
        xc.replace(with: -87.336_54, where: x .< -87.336_54)
        let (p, n) = expReduced(xc)
        var result = p * unsafeBitCast((n &+ 127) &<< 23, to: SIMD16<Float>.self)
        result.replace(with: 0, where: x .< -87.336_54)
        return result
    }

    /// Natural logarithm on 16 lanes (NaN for negative input, -inf for 0).
    @_transparent
    public static func log(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // Subnormals: scale into the normal range first.
        let tiny = x .< Float.leastNormalMagnitude
        var xs = x
        xs.replace(with: x * 0x1p23, where: tiny)
        let bits = unsafeBitCast(xs, to: SIMD16<Int32>.self)
        var e = SIMD16<Float>((bits &>> 23) &- 127)
        e.replace(with: e - 23, where: tiny)
        // Mantissa in [0.5, 1).
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: SIMD16<Float>.self)
        e = e + 1
        // Move m into [sqrt(1/2), sqrt(2)).
        let small = m .< 0.707_106_781_186_547_524
        e.replace(with: e - 1, where: small)
        m.replace(with: m + m, where: small)
        let f = m - 1
        let z = f * f
        var p = SIMD16<Float>(repeating: 7.037_683_629_2e-2)
        p = madd(p, f, SIMD16(repeating: -1.151_461_031_0e-1))
        p = madd(p, f, SIMD16(repeating: 1.167_699_874_0e-1))
        p = madd(p, f, SIMD16(repeating: -1.242_014_084_6e-1))
        p = madd(p, f, SIMD16(repeating: 1.424_932_278_7e-1))
        p = madd(p, f, SIMD16(repeating: -1.666_805_766_5e-1))
        p = madd(p, f, SIMD16(repeating: 2.000_071_476_5e-1))
        p = madd(p, f, SIMD16(repeating: -2.499_999_399_3e-1))
        p = madd(p, f, SIMD16(repeating: 3.333_333_117_4e-1))
        var y = p * f * z
        y = madd(e, SIMD16(repeating: -2.121_944_40e-4), y)
        y = madd(z, SIMD16(repeating: -0.5), y)
        var result = madd(e, SIMD16(repeating: 0.693_359_375), f + y)
        result.replace(with: -.infinity, where: x .== 0)
        result.replace(with: .nan, where: x .< 0)
        result.replace(with: .infinity, where: x .== .infinity)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// |x| with the sign bit of `sign` (two bit operations).
    @_transparent
    public static func copySign(_ magnitude: SIMD16<Float>, _ sign: SIMD16<Float>) -> SIMD16<Float>
    {
        let m = unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF
        let s = unsafeBitCast(sign, to: SIMD16<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(m | s, to: SIMD16<Float>.self)
    }

    /// Hyperbolic tangent on 16 lanes.
    @_transparent
    public static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let a = copySign(x, SIMD16(repeating: 0))
        // Small |x|: odd polynomial (Cephes tanhf).
        let z = x * x
        var p = SIMD16<Float>(repeating: -5.704_988_727_45e-3)
        p = madd(p, z, SIMD16(repeating: 2.063_908_879_54e-2))
        p = madd(p, z, SIMD16(repeating: -5.373_971_555_31e-2))
        p = madd(p, z, SIMD16(repeating: 1.333_144_220_36e-1))
        p = madd(p, z, SIMD16(repeating: -3.333_328_194_22e-1))
        let polynomial = madd(p * z, x, x)
        // Large |x|: (1 - e) / (1 + e) with e = e^{-2|x|} ≤ 0.29 (no cancellation), sign restored.
        let e = expNonPositive(-(a + a))
        var result = copySign((1 - e) / (1 + e), x)
        result.replace(with: polynomial, where: a .< 0.625)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// Logistic sigmoid 1 / (1 + e^-x) on 16 lanes.
    @_transparent
    public static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // e = exp(-|x|) ≤ 1, so 1 + e never loses e's leading bits; for x < 0 the result is
        // e / (1 + e), one rounding instead of 1 / (1 + huge).
        let e = expNonPositive(copySign(x, SIMD16(repeating: -1)))
        var numerator = SIMD16<Float>(repeating: 1)
        numerator.replace(with: e, where: x .< 0)
        return numerator / (1 + e)
    }

    /// Loads up to 16 floats; lanes past `count` are `fill`.
    @_transparent
    public static func load(_ p: UnsafePointer<Float>, count: Int, fill: Float = 0) -> SIMD16<Float>
    {
        if count >= 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>(repeating: fill)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// Stores the first `count` (at most 16) lanes of `v`.
    @_transparent
    public static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= 16 {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
            return
        }
        for i in 0..<count { p[i] = v[i] }
    }

    /// y = e^x for `count` elements.
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
    {
        map(x, y, count: count, LaneFunctions.Exp())
    }

    /// y = ln x for `count` elements.
    public static func log(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
    {
        map(x, y, count: count, LaneFunctions.Log())
    }

    /// y = tanh x for `count` elements.
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
    {
        map(x, y, count: count, LaneFunctions.Tanh())
    }

    /// y = sigmoid x for `count` elements.
    public static func sigmoid(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        map(x, y, count: count, LaneFunctions.Sigmoid())
    }

    /// y = max(x, 0) for `count` elements.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)
    {
        map(x, y, count: count, LaneFunctions.ReLU())
    }

    /// The largest of `count` elements (-inf when empty; NaN if any element is NaN).
    public static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var best = SIMD16<Float>(repeating: -.infinity)
        var sawNaN = false
        var i = 0
        while i + 16 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            sawNaN = sawNaN || any(v .!= v)
            best.replace(with: v, where: v .> best)
            i += 16
        }
        var result = best.max()
        while i < count {
            if x[i].isNaN { sawNaN = true }
            if x[i] > result { result = x[i] }
            i += 1
        }
        return sawNaN ? .nan : result
    }

    /// The sum of `count` elements, accumulated in 16 lanes.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        var result = acc.sum()
        while i < count {
            result += x[i]
            i += 1
        }
        return result
    }

    /// The dot product of two vectors of `count` elements, accumulated in 16 lanes.
    @inlinable
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int)
        -> Float
    {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            acc += a * b
            i += 16
        }
        var result = acc.sum()
        while i < count {
            result += x[i] * y[i]
            i += 1
        }
        return result
    }

    /// y = alpha · x for `count` elements (`x` and `y` may be the same).
    @inlinable
    public static func scale(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: alpha * a, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] = alpha * x[i]
            i += 1
        }
    }

    /// y += alpha · x for `count` elements.
    @inlinable
    public static func axpy(
        _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            let a = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: b + alpha * a, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }
}
