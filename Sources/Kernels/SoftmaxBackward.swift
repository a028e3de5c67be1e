extension SoftmaxKernel {
    /// Softmax backward along rows: given the probabilities p and dL/dp in `grad`
    /// (rows, cols, row stride `stride`), overwrites `grad` with dL/dx = p·(g − Σ p·g).
    public static func backward(probabilities p: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>,
                                rows: Int, cols: Int, stride: Int? = nil) {
        let stride = stride ?? cols
        for r in 0..<rows {
            let pr = p + r * stride, gr = g + r * stride
            var dot: Float = 0
            Vector.forEachChunk(count: cols) { i in
                dot += (Vector.load(pr + i) * Vector.load(gr + i)).sum()
            } tail: { i in
                dot += pr[i] * gr[i]
            }
            Vector.forEachChunk(count: cols) { i in
                Vector.store(Vector.load(pr + i) * (Vector.load(gr + i) - SIMD16(repeating: dot)), to: gr + i)
            } tail: { i in
                gr[i] = pr[i] * (gr[i] - dot)
            }
        }
    }

    /// Naive twin of the forward, in Double, on arrays (rows, cols).
    public static func naiveForward(_ x: [Double], rows: Int, cols: Int) -> [Double] {
        var y = x
        for r in 0..<rows {
            let row = x[r * cols..<(r + 1) * cols]
            let m = row.max()!
            let total = row.map { exp($0 - m) }.reduce(0, +)
            for i in 0..<cols { y[r * cols + i] = exp(x[r * cols + i] - m) / total }
        }
        return y
    }

    /// Naive twin of `backward`, in Double, from the inputs x: dL/dx.
    public static func naiveBackward(_ dy: [Double], x: [Double], rows: Int, cols: Int) -> [Double] {
        let p = naiveForward(x, rows: rows, cols: cols)
        var dx = dy
        for r in 0..<rows {
            var dot = 0.0
            for i in 0..<cols { dot += p[r * cols + i] * dy[r * cols + i] }
            for i in 0..<cols { dx[r * cols + i] = p[r * cols + i] * (dy[r * cols + i] - dot) }
        }
        return dx
    }
}

import Foundation
