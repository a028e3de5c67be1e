import Kernels
import Testing

/// DeBERTa's gather and scatter against their naive twins, and the scatter as the gather's
/// adjoint (⟨gather(a), s⟩ = ⟨a, scatter(s)⟩), on an index with clamped ends and one of
/// the batch's shorter sequences (L < T).
struct RelativeGatherTests {
    @Test func gatherAndScatterMatchTheirTwins() {
        var rng = SplitMix(seed: 5)
        let (T, L, R) = (9, 7, 6)
        // index(d) for d = i − j in −(T−1)...(T−1): a clamped, bucketed distance in 0..<R.
        let index = (0..<(2 * T - 1)).map { k in Int32(min(max((k - (T - 1)) / 2 + R / 2, 0), R - 1)) }
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in rng.nextFloat() * 2 - 1 } }
        let c2p = random(L * R), p2c = random(L * R), base = random(L * L)
        for (useC2P, useP2C) in [(true, true), (true, false), (false, true)] {
            var fast = base, naive = base
            c2p.withUnsafeBufferPointer { c in
                p2c.withUnsafeBufferPointer { p in
                    RelativeGather.add(c2p: useC2P ? c.baseAddress : nil, p2c: useP2C ? p.baseAddress : nil, index: index,
                                       length: T, size: L, rows: R, into: &fast)
                    RelativeGather.naiveAdd(c2p: useC2P ? c.baseAddress : nil, p2c: useP2C ? p.baseAddress : nil, index: index,
                                            length: T, size: L, rows: R, into: &naive)
                }
            }
            #expect(zip(fast, naive).allSatisfy { abs($0 - $1) <= 1e-6 })
            #expect(fast != base)
        }
        let dScores = random(L * L)
        var (fastC, fastP) = ([Float](repeating: 0, count: L * R), [Float](repeating: 0, count: L * R))
        var (naiveC, naiveP) = (fastC, fastP)
        RelativeGather.scatter(dScores, index: index, length: T, size: L, rows: R, c2p: &fastC, p2c: &fastP)
        RelativeGather.naiveScatter(dScores, index: index, length: T, size: L, rows: R, c2p: &naiveC, p2c: &naiveP)
        #expect(zip(fastC + fastP, naiveC + naiveP).allSatisfy { abs($0 - $1) <= 1e-6 })
        // Adjoint: Σ dScores · gather(c2p, p2c) = Σ c2p · dC2P + Σ p2c · dP2C.
        var gathered = [Float](repeating: 0, count: L * L)
        RelativeGather.naiveAdd(c2p: c2p, p2c: p2c, index: index, length: T, size: L, rows: R, into: &gathered)
        let left = zip(dScores, gathered).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(c2p, naiveC).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            + zip(p2c, naiveP).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-4)
    }
}
