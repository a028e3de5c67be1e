/// Small element-wise kernels: bias broadcasting and residual sums.
public enum Elementwise {
    /// x (rows, cols) += bias (cols), broadcast over rows.
    public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            Vector.forEachChunk(count: cols) { i in
                Vector.store(Vector.load(row + i) + Vector.load(bias + i), to: row + i)
            } tail: { i in
                row[i] += bias[i]
            }
        }
    }

    /// x (count) += y (count).
    public static func add(_ y: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        Vector.forEachChunk(count: count) { i in
            Vector.store(Vector.load(x + i) + Vector.load(y + i), to: x + i)
        } tail: { i in
            x[i] += y[i]
        }
    }

    /// Naive twin of `addBias`.
    public static func naiveAddBias(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows { for i in 0..<cols { x[r * cols + i] += bias[i] } }
    }

    /// Naive twin of `add`.
    public static func naiveAdd(_ y: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }
}
