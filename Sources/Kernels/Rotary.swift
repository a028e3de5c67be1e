import Foundation

/// Rotary position embeddings (RoFormer's, as transformers' apply_rotary_pos_emb applies them):
/// each head's D columns of a query or key row at position t are rotated in pairs (i, i + D/2)
/// by the angle t·θ^(−2i/D):
///     x'[i]       = x[i] cos − x[i + D/2] sin
///     x'[i + D/2] = x[i + D/2] cos + x[i] sin          (x·cos + rotate_half(x)·sin)
/// The backward is the rotation by the opposite angle (its transpose).
public enum Rotary {
    /// cos and sin (T, D/2) of the angles t·θ^(−2i/D), computed in Float as transformers does
    /// (inv_freq = 1/θ^(2i/D) in float32, then t·inv_freq in float32; cos and sin of that float).
    public static func table(theta: Float, headSize D: Int, length T: Int) -> (cos: [Float], sin: [Float]) {
        let half = D / 2
        let inverse: [Float] = (0..<half).map { i in
            let exponent = Float(2 * i) / Float(D)
            return 1 / Float(Foundation.pow(Double(theta), Double(exponent)))
        }
        var c = [Float](repeating: 0, count: T * half), s = c
        for t in 0..<T {
            for i in 0..<half {
                let angle = Double(Float(t) * inverse[i])
                c[t * half + i] = Float(Foundation.cos(angle))
                s[t * half + i] = Float(Foundation.sin(angle))
            }
        }
        return (c, s)
    }

    /// x: `rows` rows (row r at position r) of stride `ld`; rotates every head whose D columns
    /// lie in `columns` (a range of whole heads), in place. cos, sin: (≥ rows, D/2) from `table`.
    /// `inverse`: by the opposite angles (the backward).
    public static func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, ld: Int, columns: Range<Int>, headSize D: Int,
                             cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, inverse: Bool = false) {
        precondition(D % 2 == 0 && columns.lowerBound % D == 0 && columns.count % D == 0)
        let half = D / 2, sign: Float = inverse ? -1 : 1
        for t in 0..<rows {
            let c = cos + t * half, s = sin + t * half
            for head in stride(from: columns.lowerBound, to: columns.upperBound, by: D) {
                let a = x + t * ld + head, b = a + half
                for i in 0..<half {
                    let (u, v, si) = (a[i], b[i], sign * s[i])
                    a[i] = u * c[i] - v * si
                    b[i] = v * c[i] + u * si
                }
            }
        }
    }

    /// Naive twin, in Double: the angle computed here, then x·cos + rotate_half(x)·sin over the
    /// full D columns of each head, as the Python reads.
    public static func naiveApply(_ x: UnsafeMutablePointer<Float>, rows: Int, ld: Int, columns: Range<Int>, headSize D: Int,
                                  theta: Float, inverse: Bool = false) {
        let half = D / 2
        for t in 0..<rows {
            for head in stride(from: columns.lowerBound, to: columns.upperBound, by: D) {
                let row = x + t * ld + head
                let values = (0..<D).map { Double(row[$0]) }
                let rotated = (0..<D).map { $0 < half ? -values[$0 + half] : values[$0 - half] }
                for j in 0..<D {
                    let i = j % half
                    let inv = Double(1 / Float(Foundation.pow(Double(theta), Double(Float(2 * i) / Float(D)))))
                    let angle = Double(Float(t) * Float(inv)) * (inverse ? -1 : 1)
                    row[j] = Float(values[j] * Foundation.cos(angle) + rotated[j] * Foundation.sin(angle))
                }
            }
        }
    }
}

/// A sliding attention window: scores whose query i and key j are more than `radius` apart get
/// −∞, so softmax gives them probability 0 (transformers' bidirectional sliding window: |i − j| ≤
/// radius attends). Its backward is softmax's: a probability of 0 passes no gradient.
public enum AttentionWindow {
    /// scores (queries.count, keys.count): the block of queries × keys (positions in the
    /// sequence) of a banded computation; rows of stride keys.count.
    public static func mask(_ scores: UnsafeMutablePointer<Float>, queries: Range<Int>, keys: Range<Int>, radius: Int) {
        let n = keys.count
        for (r, i) in queries.enumerated() {
            let row = scores + r * n
            let low = min(max(i - radius - keys.lowerBound, 0), n), high = max(min(i + radius + 1 - keys.lowerBound, n), low)
            if low > 0 { row.update(repeating: -.infinity, count: low) }
            if high < n { (row + high).update(repeating: -.infinity, count: n - high) }
        }
    }

    /// The whole (L, L) matrix.
    public static func mask(_ scores: UnsafeMutablePointer<Float>, size L: Int, radius: Int) {
        mask(scores, queries: 0..<L, keys: 0..<L, radius: radius)
    }

    /// Naive twin: every entry's distance checked.
    public static func naiveMask(_ scores: UnsafeMutablePointer<Float>, queries: Range<Int>, keys: Range<Int>, radius: Int) {
        for (r, i) in queries.enumerated() {
            for (c, j) in keys.enumerated() where abs(i - j) > radius { scores[r * keys.count + c] = -.infinity }
        }
    }
}
