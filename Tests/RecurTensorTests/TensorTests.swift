import RecurTensor
import RecurTestSupport
import Testing

@Suite("Tensor basics")
struct TensorTests {
    @Test("creation, shape and scalars")
    func creation() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3])
        #expect(t.rank == 2)
        #expect(t.count == 6)
        #expect(t[at: 1, 2] == 6)
        #expect(Tensor.zeros([3]).scalars == [0, 0, 0])
        #expect(Tensor.ones([2]).scalars == [1, 1])
        #expect(Tensor.full([2], 7).scalars == [7, 7])
        #expect(Tensor.arange(4).scalars == [0, 1, 2, 3])
        #expect(Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor.eye(2).scalars == [1, 0, 0, 1])
        #expect(Tensor([[1, 2], [3, 4]]).shape == [2, 2])
    }

    @Test("rank 0 holds one scalar")
    func rankZero() {
        let s = Tensor(3)
        #expect(s.shape == [])
        #expect(s.count == 1)
        #expect(s.scalar == 3)
        #expect((s + Tensor([1, 2])).scalars == [4, 5])
        #expect((s * s).scalar == 9)
        #expect(s.sum() == 3)
        #expect(s.reshaped([1, 1]).shape == [1, 1])
        #expect(s.description == "3.0")
    }

    @Test("empty dimensions")
    func emptyDimensions() {
        let e = Tensor.zeros([0, 3])
        #expect(e.count == 0)
        #expect(e.sum() == 0)
        #expect(e.sum(axis: 0).scalars == [0, 0, 0])
        #expect(e.sum(axis: 1).shape == [0])
        #expect((e + Tensor.ones([3])).shape == [0, 3])
        #expect(e.matmul(Tensor.ones([3, 2])).shape == [0, 2])
        #expect(Tensor.zeros([2, 0]).matmul(Tensor.zeros([0, 4])) == Tensor.zeros([2, 4]))
        #expect(e.softmax().shape == [0, 3])
        #expect(Tensor.concatenate([e, Tensor.ones([2, 3])]).shape == [2, 3])
        #expect(e.permuted([1, 0]).shape == [3, 0])
        #expect(e.mean().isNaN)
    }

    @Test("large ranks broadcast and permute")
    func largeRanks() {
        var rng = Xoshiro256(seed: 3)
        let a = Tensor.uniform([2, 1, 3, 1, 2, 1, 2], in: -1...1, using: &rng)
        let b = Tensor.uniform([3, 2, 2, 1], in: -1...1, using: &rng)
        let c = a + b
        #expect(c.shape == [2, 1, 3, 3, 2, 2, 2])
        // Compare one element against the definition.
        #expect(c[at: 1, 0, 2, 1, 1, 0, 1] == a[at: 1, 0, 2, 0, 1, 0, 1] + b[at: 1, 1, 0, 0])
        let p = c.permuted([6, 5, 4, 3, 2, 1, 0])
        #expect(p.shape == [2, 2, 2, 3, 3, 1, 2])
        #expect(p[at: 1, 0, 1, 1, 2, 0, 1] == c[at: 1, 0, 2, 1, 1, 0, 1])
        #expect(p.permuted([6, 5, 4, 3, 2, 1, 0]) == c)
    }

    @Test("broadcasting follows NumPy")
    func broadcasting() {
        let a = Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [4, 1], scalars: [10, 20, 30, 40])
        let c = a + b
        #expect(c.shape == [2, 4, 3])
        #expect(c[at: 1, 2, 0] == 4 + 30)
        #expect((Tensor([1, 2, 3]) * Tensor(2)).scalars == [2, 4, 6])
        #expect((Tensor([[1, 2, 3]]) - Tensor([[1], [2]])).scalars == [0, 1, 2, -1, 0, 1])
        #expect((Tensor([8, 6]) / Tensor([2, 3])).scalars == [4, 2])
        var d = Tensor.ones([2, 3])
        d += Tensor([1, 2, 3])
        #expect(d.scalars == [2, 3, 4, 2, 3, 4])
    }

    @Test("copy-on-write keeps values independent")
    func copyOnWrite() {
        var a = Tensor([1, 2, 3])
        let b = a
        #expect(a.sharesStorage(with: b))
        a[at: 0] = 9
        #expect(!a.sharesStorage(with: b))
        #expect(b.scalars == [1, 2, 3])
        #expect(a.scalars == [9, 2, 3])
        let r = a.reshaped([3, 1])
        #expect(r.sharesStorage(with: a))
    }

    @Test("reshape, transpose, slice, concatenate, stack, split")
    func shapeOps() {
        let t = Tensor.arange(6).reshaped([2, 3])
        #expect(t.reshaped([-1]).shape == [6])
        #expect(t.reshaped([3, -1]).shape == [3, 2])
        #expect(t.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(t[1].scalars == [3, 4, 5])
        #expect(t[0..<1].shape == [1, 3])
        #expect(t.gathering(rows: [1, 1, 0]).scalars == [3, 4, 5, 3, 4, 5, 0, 1, 2])
        let c = Tensor.concatenate([t, t * 2], axis: 1)
        #expect(c.shape == [2, 6])
        #expect(c[1].scalars == [3, 4, 5, 6, 8, 10])
        let s = Tensor.stack([t, t], axis: 1)
        #expect(s.shape == [2, 2, 3])
        #expect(s[at: 1, 1, 2] == 5)
        let parts = c.split(sizes: [2, 4], axis: 1)
        #expect(parts[0].scalars == [0, 1, 3, 4])
        #expect(parts[1].shape == [2, 4])
        #expect(c.split(parts: 3, axis: 1).count == 3)
        #expect(t.transposed(0, 1) == t.transposed())
    }

    @Test("reductions over axes")
    func reductions() {
        let t = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(t.sum() == 21)
        #expect(t.mean() == 3.5)
        #expect(t.sum(axis: 0).scalars == [5, 7, 9])
        #expect(t.sum(axis: 1).scalars == [9, 12])
        #expect(t.sum(axis: -1, keepingDimension: true).shape == [2, 1])
        #expect(t.mean(axis: 0).scalars == [2.5, 3.5, 4.5])
        #expect(t.max(axis: 1).scalars == [5, 6])
        #expect(t.max(axis: 0).scalars == [4, 5, 6])
        #expect(t.argmax(axis: 1) == [1, 2])
        #expect(t.argmax(axis: 0) == [1, 0, 1])
        #expect(t.argmax() == 5)
        #expect(t.max() == 6)
        #expect(Tensor([1, .nan, 3]).max().isNaN)
        #expect(Tensor([1, 1, 1]).argmax() == 0)
    }

    @Test("sum is accurate for long vectors")
    func longSum() {
        let t = Tensor.full([1_000_003], 0.1)
        #expect(abs(t.sum() - 100_000.3) < 0.05)
    }

    @Test("summed(toShape:) inverts broadcasting")
    func summedToShape() {
        let g = Tensor.ones([4, 2, 3])
        #expect(g.summed(toShape: [2, 1]).scalars == [12, 12])
        #expect(g.summed(toShape: [3]).scalars == [8, 8, 8])
        #expect(g.summed(toShape: []).scalar == 24)
    }

    @Test("description is readable")
    func description() {
        #expect(Tensor([[1, 2], [3, 4]]).description == "[[1.0, 2.0],\n [3.0, 4.0]]")
        #expect(Tensor.arange(10).description == "[0.0, 1.0, 2.0, ..., 7.0, 8.0, 9.0]")
        #expect(Tensor([Float.nan, .infinity]).description == "[nan, inf]")
    }
}

@Suite("Random numbers")
struct RandomTests {
    @Test("same seed gives bit-identical tensors")
    func determinism() {
        var a = Xoshiro256(seed: 123)
        var b = Xoshiro256(seed: 123)
        let x = Tensor.normal([64, 33], mean: 0, standardDeviation: 2, using: &a)
        let y = Tensor.normal([64, 33], mean: 0, standardDeviation: 2, using: &b)
        #expect(x.isBitIdentical(to: y))
        #expect(
            Tensor.uniform([100], in: -1...1, using: &a).isBitIdentical(
                to: Tensor.uniform([100], in: -1...1, using: &b)))
        var c = Xoshiro256(seed: 124)
        #expect(!Tensor.normal([64, 33], using: &c).isBitIdentical(to: x))
    }

    @Test("state round-trips for checkpoints")
    func stateRoundTrip() {
        var a = Xoshiro256(seed: 5)
        _ = a.next()
        guard var b = Xoshiro256(state: a.stateWords) else {
            Issue.record("state rejected")
            return
        }
        #expect(a.next() == b.next())
        #expect(Xoshiro256(state: [0, 0, 0, 0]) == nil)
        #expect(Xoshiro256(state: [1, 2]) == nil)
    }

    @Test("uniform and normal have the right moments")
    func moments() {
        var rng = Xoshiro256(seed: 9)
        let u = Tensor.uniform([100_000], in: 2...4, using: &rng)
        #expect(abs(u.mean() - 3) < 0.01)
        #expect(u.max() < 4)
        let n = Tensor.normal([100_000], mean: 1, standardDeviation: 3, using: &rng)
        #expect(abs(n.mean() - 1) < 0.05)
        let variance = (n - n.mean()).squared().mean()
        #expect(abs(variance - 9) < 0.2)
    }

    @Test("nextInt(below:) is unbiased on a small range")
    func integers() {
        var rng = Xoshiro256(seed: 1)
        var counts = [Int](repeating: 0, count: 3)
        for _ in 0..<30_000 { counts[rng.nextInt(below: 3)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 400 })
    }
}
