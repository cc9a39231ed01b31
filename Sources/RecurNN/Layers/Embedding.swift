import RecurTensor

/// A lookup table of vectors, one row per token id (PyTorch `nn.Embedding`).
///
/// Shapes: ids (any count N) → `[N, E]` (reshape as needed); `weight` `[V, E]`, initialized
/// N(0, 1) as in PyTorch. The backward pass scatter-adds rows into `weight.gradient`.
public final class Embedding: Module {
    /// `[V, E]`.
    public let weight: Parameter
    /// A row that always embeds to zeros and receives no gradient (PyTorch `padding_idx`).
    public let paddingIndex: Int?
    /// Training mode (dropout on); `eval()` turns it off.
    public var isTraining = true

    /// Rows of the table (V).
    public var vocabularySize: Int { weight.shape[0] }
    /// Values per row (E).
    public var embeddingSize: Int { weight.shape[1] }

    /// A table with PyTorch's initialization (standard normal; the `paddingIndex` row, if given, zero).
    public init(
        vocabularySize: Int, embeddingSize: Int, paddingIndex: Int? = nil, rng: inout Xoshiro256
    ) {
        precondition(vocabularySize > 0 && embeddingSize > 0, "Embedding: sizes must be positive")
        var w = Tensor.normal([vocabularySize, embeddingSize], using: &rng)
        if let paddingIndex {
            precondition(
                paddingIndex >= 0 && paddingIndex < vocabularySize,
                "Embedding: padding index out of range")
            w.withUnsafeMutableBufferPointer { p in
                for j in 0..<embeddingSize { p[paddingIndex * embeddingSize + j] = 0 }
            }
        }
        weight = Parameter(w)
        self.paddingIndex = paddingIndex
    }

    /// Visits `weight` (PyTorch's name).
    public func visitMembers(_ visit: (ModuleMember) -> Void) {
        visit(.parameter("weight", weight))
    }

    func checked(_ ids: [Int32]) {
        for id in ids {
            precondition(
                id >= 0 && Int(id) < vocabularySize,
                "Embedding: id \(id) out of range 0..<\(vocabularySize)")
        }
    }

    /// The rows for `ids`, `[N, E]`.
    public func callAsFunction(_ ids: [Int32]) -> Tensor {
        checked(ids)
        return weight.value.gathering(rows: ids.map(Int.init))
    }

    /// The rows for `ids` as a tape node `[N, E]`.
    public func callAsFunction(_ ids: [Int32], tape: Tape) -> Variable {
        checked(ids)
        let out = weight.value.gathering(rows: ids.map(Int.init))
        let w = tape.parameter(weight)
        let e = embeddingSize
        return tape.record(out, inputs: [w]) { [weight, paddingIndex] g in
            weight.gradient.withUnsafeMutableBufferPointer { d in
                g.withUnsafeBufferPointer { s in
                    guard let db = d.baseAddress, let sb = s.baseAddress else { return }
                    for (i, id) in ids.enumerated() where Int(id) != paddingIndex {
                        VectorMath.axpy(1, sb + i * e, db + Int(id) * e, count: e)
                    }
                }
            }
        }
    }
}
