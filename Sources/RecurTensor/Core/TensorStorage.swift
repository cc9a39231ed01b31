/// The heap buffer behind one or more `Tensor` values: Float32 elements, 64-byte aligned.
///
/// Tensors share a storage until one of them is mutated; `Tensor` checks
/// `isKnownUniquelyReferenced` before every write and copies first when the storage is shared
/// (copy-on-write, as in swift-collections' `Deque`).
public final class TensorStorage: @unchecked Sendable {
    // @unchecked Sendable: the buffer is written only through a `Tensor` that holds the sole
    // reference to this object (checked with `isKnownUniquelyReferenced`), so a storage that is
    // visible to several threads is never written while they read it.

    /// First element.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` uninitialized elements.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
    }

    /// Allocates `count` elements set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// The storage of every `Tensor()`: no elements, never written (it is never uniquely
    /// referenced, so a write copies first).
    public static let empty = TensorStorage(uninitializedCount: 0)

    /// A new storage holding a copy of this one's elements.
    public func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.base.initialize(from: base, count: count)
        return other
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }
}
