import Foundation
import Kernels
import Testing

/// ModernBERT's kernels: the rotary rotation against its naive twin (the angle computed per
/// element, x·cos + rotate_half(x)·sin), its inverse as the rotation's adjoint; the sliding
/// window against its naive twin; the gated activation (GeGLU) and its backward against their
/// naive Double twins and central finite differences. Sizes are awkward so tails run.
struct ModernBertKernelsTests {
    var rng = SplitMix(seed: 17)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * scale } }

    @Test mutating func rotaryMatchesNaiveTwinAndInverseIsAdjoint() {
        let (T, D, heads) = (37, 10, 3)
        let ld = D * heads + 4  // a row stride wider than the heads
        for theta: Float in [10_000, 160_000, 500] {
            let (cos, sin) = Rotary.table(theta: theta, headSize: D, length: T)
            let x = random(T * ld)
            for columns in [0..<D * heads, D..<2 * D] {
                var fast = x, naive = x
                Rotary.apply(&fast, rows: T, ld: ld, columns: columns, headSize: D, cos: cos, sin: sin)
                Rotary.naiveApply(&naive, rows: T, ld: ld, columns: columns, headSize: D, theta: theta)
                #expect(zip(fast, naive).allSatisfy { abs($0 - $1) <= 2e-6 }, "θ \(theta) \(columns)")
                #expect(fast != x)
                // columns outside the range are untouched
                for t in 0..<T { for c in 0..<ld where !columns.contains(c) { #expect(fast[t * ld + c] == x[t * ld + c]) } }
                // ⟨R x, y⟩ = ⟨x, Rᵀ y⟩, and Rᵀ R x = x
                let y = random(T * ld)
                var back = y
                Rotary.apply(&back, rows: T, ld: ld, columns: columns, headSize: D, cos: cos, sin: sin, inverse: true)
                let left = zip(fast, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let right = zip(x, back).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                #expect(abs(left - right) < 1e-4)
                var round = fast
                Rotary.apply(&round, rows: T, ld: ld, columns: columns, headSize: D, cos: cos, sin: sin, inverse: true)
                #expect(zip(round, x).allSatisfy { abs($0 - $1) <= 1e-5 })
            }
        }
        // position 0 is the identity
        let (cos, sin) = Rotary.table(theta: 10_000, headSize: D, length: 1)
        #expect(cos.allSatisfy { $0 == 1 } && sin.allSatisfy { $0 == 0 })
    }

    @Test mutating func windowMatchesNaiveTwin() {
        // whole matrices, and the blocks of a banded computation (keys around the query rows)
        let cases: [(Range<Int>, Range<Int>, Int)] = [(0..<23, 0..<23, 4), (0..<9, 0..<9, 0), (0..<5, 0..<5, 4), (0..<5, 0..<5, 7),
                                                      (0..<1, 0..<1, 0), (16..<32, 12..<36, 4), (0..<16, 0..<20, 4), (32..<40, 28..<40, 4)]
        for (queries, keys, radius) in cases {
            let scores = random(queries.count * keys.count)
            var fast = scores, naive = scores
            AttentionWindow.mask(&fast, queries: queries, keys: keys, radius: radius)
            AttentionWindow.naiveMask(&naive, queries: queries, keys: keys, radius: radius)
            #expect(fast == naive, "\(queries) × \(keys) radius \(radius)")
            for (r, i) in queries.enumerated() where keys.contains(i) {
                #expect(fast[r * keys.count + i - keys.lowerBound] == scores[r * keys.count + i - keys.lowerBound], "the diagonal stays")
            }
        }
    }

    @Test(arguments: [Activation.gelu, .geluTanh])
    mutating func gatedMatchesNaiveTwinAndFiniteDifferences(activation: Activation) {
        let (rows, I) = (5, 21)
        let x = random(rows * 2 * I, scale: 3), dy = random(rows * I)
        var y = [Float](repeating: 0, count: rows * I)
        activation.gated(x, rows: rows, width: I, into: &y)
        let naive = activation.naiveGated(x.map(Double.init), rows: rows, width: I)
        #expect(zip(y, naive).allSatisfy { abs(Double($0) - $1) <= 1e-5 })
        // a column range writes those columns only
        var part = [Float](repeating: 7, count: rows * I)
        activation.gated(x, rows: rows, width: I, columns: 4..<13, into: &part)
        for r in 0..<rows { for c in 0..<I { #expect(part[r * I + c] == ((4..<13).contains(c) ? y[r * I + c] : 7)) } }
        var dx = [Float](repeating: 0, count: rows * 2 * I)
        activation.gatedBackward(x, dy: dy, rows: rows, width: I, into: &dx)
        let naiveDx = activation.naiveGatedBackward(x.map(Double.init), dy: dy.map(Double.init), rows: rows, width: I)
        let x64 = x.map(Double.init), dy64 = dy.map(Double.init), h = 1e-6
        let fd = (0..<x64.count).map { i -> Double in
            var plus = x64, minus = x64
            plus[i] += h
            minus[i] -= h
            let f = { (v: [Double]) in zip(activation.naiveGated(v, rows: rows, width: I), dy64).map(*).reduce(0, +) }
            return (f(plus) - f(minus)) / (2 * h)
        }
        let scale = fd.map(abs).max()!
        #expect(zip(naiveDx, fd).map { abs($0 - $1) }.max()! / scale < 1e-6)
        #expect(zip(dx.map(Double.init), fd).map { abs($0 - $1) }.max()! / scale < 1e-5)
    }
}
