// Differentiable operations on `Variable`: each forward is followed by its backward closure.
// Backward closures accumulate into their inputs; broadcasting gradients are summed back to the
// input's shape.

extension Variable {
    // MARK: Arithmetic with broadcasting

    /// Element-wise sum with broadcasting.
    public static func + (a: Variable, b: Variable) -> Variable {
        let (sa, sb) = (a.shape, b.shape)
        return a.tape.record(a.value + b.value, inputs: [a, b]) { g in
            a.tape.accumulate(g.summed(toShape: sa), into: a)
            b.tape.accumulate(g.summed(toShape: sb), into: b)
        }
    }

    /// Element-wise difference with broadcasting.
    public static func - (a: Variable, b: Variable) -> Variable {
        let (sa, sb) = (a.shape, b.shape)
        return a.tape.record(a.value - b.value, inputs: [a, b]) { g in
            a.tape.accumulate(g.summed(toShape: sa), into: a)
            b.tape.accumulate((-g).summed(toShape: sb), into: b)
        }
    }

    /// Element-wise product with broadcasting.
    public static func * (a: Variable, b: Variable) -> Variable {
        let (x, y) = (a.value, b.value)
        return a.tape.record(x * y, inputs: [a, b]) { g in
            if a.tape.requiresGradient(a) {
                a.tape.accumulate((g * y).summed(toShape: x.shape), into: a)
            }
            if b.tape.requiresGradient(b) {
                b.tape.accumulate((g * x).summed(toShape: y.shape), into: b)
            }
        }
    }

    /// Element-wise quotient with broadcasting.
    public static func / (a: Variable, b: Variable) -> Variable {
        let (x, y) = (a.value, b.value)
        return a.tape.record(x / y, inputs: [a, b]) { g in
            if a.tape.requiresGradient(a) {
                a.tape.accumulate((g / y).summed(toShape: x.shape), into: a)
            }
            if b.tape.requiresGradient(b) {
                b.tape.accumulate((-(g * x) / (y * y)).summed(toShape: y.shape), into: b)
            }
        }
    }

    /// Adds a scalar.
    public static func + (a: Variable, s: Float) -> Variable {
        a.tape.record(a.value + s, inputs: [a]) { g in a.tape.accumulate(g, into: a) }
    }

    /// Multiplies by a scalar.
    public static func * (a: Variable, s: Float) -> Variable {
        a.tape.record(a.value * s, inputs: [a]) { g in a.tape.accumulate(g * s, into: a) }
    }

    /// Multiplies by a scalar.
    public static func * (s: Float, a: Variable) -> Variable { a * s }

    /// Subtracts a scalar.
    public static func - (a: Variable, s: Float) -> Variable { a + (-s) }

    /// Divides by a scalar.
    public static func / (a: Variable, s: Float) -> Variable { a * (1 / s) }

    /// Negation.
    public static prefix func - (a: Variable) -> Variable { a * -1 }

    // MARK: Unary functions

    /// e^x; d/dx = e^x.
    public func exp() -> Variable {
        let y = value.exp()
        return tape.record(y, inputs: [self]) { g in self.tape.accumulate(g * y, into: self) }
    }

    /// ln x; d/dx = 1/x.
    public func log() -> Variable {
        let x = value
        return tape.record(x.log(), inputs: [self]) { g in self.tape.accumulate(g / x, into: self) }
    }

    /// tanh x; d/dx = 1 - tanh² x.
    public func tanh() -> Variable {
        let y = value.tanh()
        return tape.record(y, inputs: [self]) { g in
            self.tape.accumulate(g * (1 - y * y), into: self)
        }
    }

    /// sigmoid x; d/dx = σ(1 - σ).
    public func sigmoid() -> Variable {
        let y = value.sigmoid()
        return tape.record(y, inputs: [self]) { g in
            self.tape.accumulate(g * y * (1 - y), into: self)
        }
    }

    /// max(x, 0); d/dx = 1 where x > 0.
    public func relu() -> Variable {
        let x = value
        return tape.record(x.relu(), inputs: [self]) { g in
            // g where x > 0, else 0, in one pass.
            let dx = Tensor.broadcasting(
                g, x, op: "relu backward", LaneFunctions.PassWherePositive())
            self.tape.accumulate(dx, into: self)
        }
    }

    /// x²; d/dx = 2x.
    public func squared() -> Variable {
        let x = value
        return tape.record(x.squared(), inputs: [self]) { g in
            self.tape.accumulate(g * x * 2, into: self)
        }
    }

    /// Softmax over the last axis; the vector-Jacobian product is y ⊙ (g - Σ g ⊙ y).
    public func softmax() -> Variable {
        let y = value.softmax()
        return tape.record(y, inputs: [self]) { g in
            let dot = (g * y).sum(axis: -1, keepingDimension: true)
            self.tape.accumulate(y * (g - dot), into: self)
        }
    }

    /// log-softmax over the last axis; the vector-Jacobian product is g - softmax ⊙ Σ g.
    public func logSoftmax() -> Variable {
        let y = value.logSoftmax()
        return tape.record(y, inputs: [self]) { g in
            let total = g.sum(axis: -1, keepingDimension: true)
            self.tape.accumulate(g - y.exp() * total, into: self)
        }
    }

    // MARK: Matrix products

    /// Matrix product with the semantics of `Tensor.matmul` (batching, transposed operands).
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false)
        -> Variable
    {
        let (a, b) = (value, other.value)
        precondition(
            a.rank >= 2 && b.rank >= 2,
            "Variable.matmul: operands need rank ≥ 2, got \(a.shape) and \(b.shape)")
        let c = a.matmul(b, transposeSelf: transposeSelf, transposeOther: transposeOther)
        return tape.record(c, inputs: [self, other]) { g in
            if self.tape.requiresGradient(self) {
                // C = op(A) op(B): d op(A) = G op(B)ᵀ; dA = (d op(A))ᵀ when A was transposed.
                let d =
                    transposeSelf
                    ? b.matmul(g, transposeSelf: transposeOther, transposeOther: true)
                    : g.matmul(b, transposeSelf: false, transposeOther: !transposeOther)
                self.tape.accumulate(d.summed(toShape: a.shape), into: self)
            }
            if other.tape.requiresGradient(other) {
                let d =
                    transposeOther
                    ? g.matmul(a, transposeSelf: true, transposeOther: transposeSelf)
                    : a.matmul(g, transposeSelf: !transposeSelf, transposeOther: false)
                other.tape.accumulate(Variable.reduceBatch(d, to: b.shape), into: other)
            }
        }
    }

    /// Sums a batched matmul gradient over batch axes that the operand did not have.
    static func reduceBatch(_ d: Tensor, to shape: [Int]) -> Tensor {
        if d.shape == shape { return d }
        let matrix = Array(shape.suffix(2))
        return d.reshaped([-1] + matrix).sum(axis: 0).reshaped(shape)
    }

    // MARK: Shapes

    /// Same elements, new shape.
    public func reshaped(_ shape: [Int]) -> Variable {
        let original = self.shape
        return tape.record(value.reshaped(shape), inputs: [self]) { g in
            self.tape.accumulate(g.reshaped(original), into: self)
        }
    }

    /// Reorders axes.
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return tape.record(value.permuted(axes), inputs: [self]) { g in
            self.tape.accumulate(g.permuted(inverse), into: self)
        }
    }

    /// Matrix transpose of a rank-2 variable.
    public func transposed() -> Variable { permuted([1, 0]) }

    /// Rows `range` along the first axis.
    public subscript(_ range: Range<Int>) -> Variable {
        let shape = self.shape
        return tape.record(value[range], inputs: [self]) { g in
            var full = Tensor.zeros(shape)
            let rowSize = shape.count > 1 ? Shape.count(of: Array(shape.dropFirst())) : 1
            full.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    guard let db = d.baseAddress, let sb = s.baseAddress else { return }
                    (db + range.lowerBound * rowSize).update(from: sb, count: s.count)
                }
            }
            self.tape.accumulate(full, into: self)
        }
    }

    /// Row `index` along the first axis (rank drops by one).
    public subscript(_ index: Int) -> Variable {
        self[index..<(index + 1)].reshaped(Array(shape.dropFirst()))
    }

    /// Rows at `indices` along the first axis (an embedding lookup); the gradient scatter-adds.
    public func gathering(rows indices: [Int]) -> Variable {
        let shape = self.shape
        return tape.record(value.gathering(rows: indices), inputs: [self]) { g in
            var full = Tensor.zeros(shape)
            let rowSize = shape.count > 1 ? Shape.count(of: Array(shape.dropFirst())) : 1
            full.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    guard let db = d.baseAddress, let sb = s.baseAddress else { return }
                    for (i, row) in indices.enumerated() {
                        VectorMath.axpy(1, sb + i * rowSize, db + row * rowSize, count: rowSize)
                    }
                }
            }
            self.tape.accumulate(full, into: self)
        }
    }

    /// Joins variables along `axis`.
    public static func concatenate(_ parts: [Variable], axis: Int = 0) -> Variable {
        precondition(!parts.isEmpty, "Variable.concatenate: no variables")
        let tape = parts[0].tape
        let a = Shape.axis(axis, rank: parts[0].shape.count, in: "Variable.concatenate")
        let sizes = parts.map { $0.shape[a] }
        return tape.record(Tensor.concatenate(parts.map(\.value), axis: a), inputs: parts) { g in
            for (part, piece) in zip(parts, g.split(sizes: sizes, axis: a)) {
                tape.accumulate(piece, into: part)
            }
        }
    }

    /// Stacks equally shaped variables along a new axis.
    public static func stack(_ parts: [Variable], axis: Int = 0) -> Variable {
        precondition(!parts.isEmpty, "Variable.stack: no variables")
        var expanded = parts[0].shape
        let a = Shape.axis(axis, rank: expanded.count + 1, in: "Variable.stack")
        expanded.insert(1, at: a)
        return concatenate(parts.map { $0.reshaped(expanded) }, axis: a)
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(sizes: [Int], axis: Int = 0) -> [Variable] {
        let a = Shape.axis(axis, rank: shape.count, in: "Variable.split")
        var start = 0
        var pieces: [Variable] = []
        for size in sizes {
            pieces.append(narrow(axis: a, start: start, length: size))
            start += size
        }
        precondition(
            start == shape[a], "Variable.split: sizes \(sizes) do not add up to \(shape[a])")
        return pieces
    }

    /// The slice `start..<start+length` along `axis`.
    public func narrow(axis: Int, start: Int, length: Int) -> Variable {
        let a = Shape.axis(axis, rank: shape.count, in: "Variable.narrow")
        let n = shape[a]
        precondition(
            start >= 0 && length >= 0 && start + length <= n,
            "Variable.narrow: \(start)..<\(start + length) out of 0..<\(n)")
        let piece = value.split(sizes: [start, length, n - start - length], axis: a)[1]
        let shape = self.shape
        return tape.record(piece, inputs: [self]) { g in
            var before = shape
            before[a] = start
            var after = shape
            after[a] = n - start - length
            let full = Tensor.concatenate([Tensor.zeros(before), g, Tensor.zeros(after)], axis: a)
            self.tape.accumulate(full, into: self)
        }
    }

    // MARK: Reductions

    /// Sum of all elements (rank 0).
    public func sum() -> Variable {
        let shape = self.shape
        return tape.record(Tensor(value.sum()), inputs: [self]) { g in
            self.tape.accumulate(Tensor.full(shape, g.scalar), into: self)
        }
    }

    /// Mean of all elements (rank 0).
    public func mean() -> Variable { sum() * (1 / Float(Swift.max(value.count, 1))) }

    /// Sum over `axis`.
    public func sum(axis: Int, keepingDimension: Bool = false) -> Variable {
        let shape = self.shape
        let a = Shape.axis(axis, rank: shape.count, in: "Variable.sum(axis:)")
        return tape.record(value.sum(axis: a, keepingDimension: keepingDimension), inputs: [self]) {
            g in
            var kept = shape
            kept[a] = 1
            self.tape.accumulate(g.reshaped(kept) + Tensor.zeros(shape), into: self)
        }
    }

    /// Mean over `axis`.
    public func mean(axis: Int, keepingDimension: Bool = false) -> Variable {
        let a = Shape.axis(axis, rank: shape.count, in: "Variable.mean(axis:)")
        return sum(axis: a, keepingDimension: keepingDimension) * (1 / Float(shape[a]))
    }

    /// Maximum over `axis`; the gradient goes to the (first) maximal element.
    public func max(axis: Int, keepingDimension: Bool = false) -> Variable {
        let x = value
        let a = Shape.axis(axis, rank: x.rank, in: "Variable.max(axis:)")
        let indices = x.argmax(axis: a)
        let g0 = x.reductionGeometry(a, op: "Variable.max(axis:)")
        return tape.record(x.max(axis: a, keepingDimension: keepingDimension), inputs: [self]) {
            g in
            var full = Tensor.zeros(x.shape)
            full.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    for o in 0..<g0.outer {
                        for i in 0..<g0.inner {
                            let j = indices[o * g0.inner + i]
                            d[(o * g0.n + j) * g0.inner + i] += s[o * g0.inner + i]
                        }
                    }
                }
            }
            self.tape.accumulate(full, into: self)
        }
    }
}
