/// A dense, row-major, contiguous array of `Float` values with any number of dimensions.
///
/// `Tensor` is a value type: copies share their storage until one of them is mutated
/// (copy-on-write). Every operation returns a new tensor with contiguous storage; there are no
/// strided views, which keeps every kernel a plain loop over memory.
///
/// Shapes are `[Int]`, outermost dimension first. A rank-0 tensor (`shape == []`) holds one
/// scalar; a dimension may be 0, in which case the tensor holds no elements.
///
/// ```swift
/// var rng = Xoshiro256(seed: 42)
/// let a = Tensor.uniform([2, 3], in: -1...1, using: &rng)
/// let b = Tensor.ones([3, 4])
/// let c = a.matmul(b)          // shape [2, 4]
/// print(c.sum(axis: 1))        // shape [2]
/// ```
public struct Tensor: Sendable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// Creates a tensor of the given shape around an existing storage (no copy).
    public init(shape: [Int], storage: TensorStorage) {
        precondition(
            Shape.count(of: shape) == storage.count,
            "Tensor: shape \(shape) needs \(Shape.count(of: shape)) elements, storage has \(storage.count)"
        )
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        Shape.validate(shape, in: "Tensor.init")
        self.init(
            shape: shape, storage: TensorStorage(count: Shape.count(of: shape), repeating: value))
    }

    /// A tensor of the given shape with uninitialized elements; the caller must write all of them.
    public init(uninitializedShape shape: [Int]) {
        Shape.validate(shape, in: "Tensor.init")
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: Shape.count(of: shape)))
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        Shape.validate(shape, in: "Tensor.init(shape:scalars:)")
        precondition(
            Shape.count(of: shape) == scalars.count,
            "Tensor.init(shape:scalars:): shape \(shape) needs \(Shape.count(of: shape)) scalars, got \(scalars.count)"
        )
        let storage = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { source in
            if let base = source.baseAddress {
                storage.base.initialize(from: base, count: scalars.count)
            }
        }
        self.init(shape: shape, storage: storage)
    }

    /// A rank-0 tensor holding one scalar.
    public init(_ scalar: Float) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Float]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-2 tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(
            rows.allSatisfy { $0.count == columns },
            "Tensor.init(rows): rows have different lengths \(rows.map(\.count))")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// Number of elements (the product of the shape; 1 for rank 0).
    @inlinable public var count: Int { storage.count }

    /// The elements in row-major order.
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The only element of a tensor with exactly one element.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return storage.base[0]
    }

    /// Reads the elements through a buffer pointer that is valid only inside `body`.
    @inlinable
    public func withUnsafeBufferPointer<R, E: Error>(
        _ body: (UnsafeBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// Writes the elements through a buffer pointer valid only inside `body`, copying the storage
    /// first if another tensor shares it.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
    }

    /// Ensures this tensor is the sole owner of its storage.
    @inlinable
    public mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// An empty rank-1 tensor (a placeholder for workspace buffers sized later).
    ///
    /// Allocates nothing: all empty tensors share one storage.
    public init() {
        self.init(shape: [0], storage: TensorStorage.empty)
    }

    /// The base address for reading, valid while this tensor's storage is alive and unchanged.
    ///
    /// For kernels that juggle many workspace buffers (the recurrent layers), where nested
    /// `withUnsafe…` closures would hide the algorithm. Prefer `withUnsafeBufferPointer`
    /// elsewhere. Package access: code outside Recur uses the `withUnsafe…` methods.
    package var unsafeBase: UnsafePointer<Float> { UnsafePointer(storage.base) }

    /// Makes the storage unique and returns its base address for writing, valid until this
    /// tensor is reassigned, resized or copied-and-mutated.
    ///
    /// See `unsafeBase`.
    package mutating func unsafeMutableBase() -> UnsafeMutablePointer<Float> {
        makeUnique()
        return storage.base
    }

    /// Resizes to a rank-2 shape without allocating a shape array when it already matches.
    public mutating func resize(_ d0: Int, _ d1: Int) {
        if shape.count == 2 && shape[0] == d0 && shape[1] == d1
            && isKnownUniquelyReferenced(&storage)
        {
            return
        }
        resize(to: [d0, d1])
    }

    /// Resizes to a rank-3 shape without allocating a shape array when it already matches.
    public mutating func resize(_ d0: Int, _ d1: Int, _ d2: Int) {
        if shape.count == 3 && shape[0] == d0 && shape[1] == d1 && shape[2] == d2
            && isKnownUniquelyReferenced(&storage)
        {
            return
        }
        resize(to: [d0, d1, d2])
    }

    /// Resizes (reusing storage when possible) and returns the base for writing.
    package mutating func resizedPointer(_ d0: Int, _ d1: Int, _ d2: Int) -> UnsafeMutablePointer<
        Float
    > {
        resize(d0, d1, d2)
        return unsafeMutableBase()
    }

    /// Resizes (reusing storage when possible) and returns the base for writing.
    package mutating func resizedPointer(_ d0: Int, _ d1: Int) -> UnsafeMutablePointer<Float> {
        resize(d0, d1)
        return unsafeMutableBase()
    }

    /// Whether two tensors share one storage (a cheap identity test, used by tests of
    /// copy-on-write and of buffer reuse).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// The element at a full multi-dimensional index, `t[at: i, j]` (slow path, for tests and
    /// printing).
    public subscript(at index: Int...) -> Float {
        get { storage.base[Shape.offset(of: index, in: shape)] }
        set {
            let offset = Shape.offset(of: index, in: shape)
            makeUnique()
            storage.base[offset] = newValue
        }
    }

    /// Reuses this tensor's storage for `shape` when it is unshared and has the same element
    /// count, and allocates otherwise.
    ///
    /// The contents are unspecified afterwards.
    ///
    /// Layers call this on their workspace tensors so that a training step allocates nothing
    /// once the shapes have been seen.
    public mutating func resize(to shape: [Int]) {
        Shape.validate(shape, in: "Tensor.resize")
        let needed = Shape.count(of: shape)
        if needed == storage.count && isKnownUniquelyReferenced(&storage) {
            if self.shape != shape { self.shape = shape }
            return
        }
        self = Tensor(uninitializedShape: shape)
    }

    /// Sets every element to `value`, in place.
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }
}

extension Tensor: Equatable {
    /// Exact equality of shapes and of every element (NaN is unequal to itself).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.storage === rhs.storage { return !lhs.scalars.contains(where: \.isNaN) }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i] != b[i] { return false }
                return true
            }
        }
    }
}

extension Tensor {
    /// Whether every element is bit-identical to `other`'s (NaNs with equal bits compare equal),
    /// used by determinism tests.
    public func isBitIdentical(to other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern { return false }
                return true
            }
        }
    }

    /// Whether every element is finite (no NaN or infinity).
    public var isFinite: Bool {
        withUnsafeBufferPointer { buffer in !buffer.contains { !$0.isFinite } }
    }
}
