import Foundation

/// Softmax along rows, in place: x (rows, cols) with row stride `stride`.
/// Only the first `cols` entries of each row take part; attention uses that to mask
/// right padding exactly (the masked keys get probability 0).
public enum SoftmaxKernel {
    public static func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil) {
        let stride = stride ?? cols
        for r in 0..<rows {
            let row = x + r * stride
            let m = Vector.max(UnsafePointer(row), count: cols)
            let shift = SIMD16<Float>(repeating: m)
            var sums = SIMD16<Float>()
            // Padding lanes are −∞: their exp is ~1e-38, nothing next to the max's 1.
            Vector.map(row, count: cols, pad: -.infinity) { v in
                let e = FastMath.exp(v - shift)
                sums += e
                return e
            }
            let total = sums.sum()
            let inv = 1 / total
            Vector.forEachChunk(count: cols) { i in
                Vector.store(Vector.load(row + i) * inv, to: row + i)
            } tail: { i in
                row[i] *= inv
            }
        }
    }

    /// Naive twin, in Double.
    public static func naiveApply(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil) {
        let stride = stride ?? cols
        for r in 0..<rows {
            let row = x + r * stride
            var m = -Double.infinity
            for i in 0..<cols { m = max(m, Double(row[i])) }
            var total = 0.0
            for i in 0..<cols { total += exp(Double(row[i]) - m) }
            for i in 0..<cols { row[i] = Float(exp(Double(row[i]) - m) / total) }
        }
    }
}
