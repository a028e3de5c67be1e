/// Layer normalization over the last axis, in place: x (rows, cols).
public enum LayerNormKernel {
    public static func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
    ) {
        for r in 0..<rows {
            let row = x + r * cols
            let (mean, scale) = statistics(row, cols: cols, eps: eps)
            Vector.forEachChunk(count: cols) { i in
                let v = (Vector.load(row + i) - SIMD16(repeating: mean)) * scale
                Vector.store(v * Vector.load(gamma + i) + Vector.load(beta + i), to: row + i)
            } tail: { i in
                row[i] = (row[i] - mean) * scale * gamma[i] + beta[i]
            }
        }
    }

    /// A row's mean and 1/√(variance + eps) (biased variance, as torch), two passes in SIMD;
    /// shared by `apply` and the training forward `applySaving`.
    @inline(__always)
    static func statistics(_ row: UnsafeMutablePointer<Float>, cols: Int, eps: Float) -> (mean: Float, inverseStd: Float) {
        let invCols = 1 / Float(cols)
        let mean = Vector.sum(row, count: cols) * invCols
        // Sixteen running sums, added up once: a sum across the lanes per chunk made each
        // chunk wait on fifteen dependent adds.
        var squares = SIMD16<Float>(), rest: Float = 0
        Vector.forEachChunk(count: cols) { i in
            let d = Vector.load(row + i) - SIMD16(repeating: mean)
            squares = squares.addingProduct(d, d)
        } tail: { i in
            let d = row[i] - mean
            rest += d * d
        }
        let variance = squares.sum() + rest
        return (mean, 1 / (variance * invCols + eps).squareRoot())
    }

    /// Naive twin: two passes in Double.
    public static func naiveApply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float
    ) {
        for r in 0..<rows {
            let row = x + r * cols
            var mean = 0.0
            for i in 0..<cols { mean += Double(row[i]) }
            mean /= Double(cols)
            var variance = 0.0
            for i in 0..<cols { variance += (Double(row[i]) - mean) * (Double(row[i]) - mean) }
            variance /= Double(cols)
            let inv = 1 / (variance + Double(eps)).squareRoot()
            for i in 0..<cols {
                row[i] = Float((Double(row[i]) - mean) * inv * Double(gamma[i]) + Double(beta[i]))
            }
        }
    }
}
