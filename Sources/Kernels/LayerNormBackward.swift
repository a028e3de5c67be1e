import Foundation

extension LayerNormKernel {
    /// Training forward: x (rows, cols) → γ·x̂ + β in place, keeping x̂ (rows, cols) and
    /// 1/σ (rows) for `backward`.
    public static func applySaving(
        _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
        normalized xhat: UnsafeMutablePointer<Float>, inverseStd rstd: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * cols, hat = xhat + r * cols
            let (mean, scale) = statistics(row, cols: cols, eps: eps)
            rstd[r] = scale
            Vector.forEachChunk(count: cols) { i in
                let v = (Vector.load(row + i) - SIMD16(repeating: mean)) * scale
                Vector.store(v, to: hat + i)
                Vector.store(v * Vector.load(gamma + i) + Vector.load(beta + i), to: row + i)
            } tail: { i in
                hat[i] = (row[i] - mean) * scale
                row[i] = hat[i] * gamma[i] + beta[i]
            }
        }
    }

    /// dy (rows, cols) → dx (rows, cols), overwritten; dγ, dβ (cols) accumulated.
    /// dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ.
    public static func backward(
        _ dy: UnsafePointer<Float>, normalized xhat: UnsafePointer<Float>, inverseStd rstd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, rows: Int, cols: Int,
        into dx: UnsafeMutablePointer<Float>,
        gammaGradient dgamma: UnsafeMutablePointer<Float>, betaGradient dbeta: UnsafeMutablePointer<Float>
    ) {
        let invCols = 1 / Float(cols)
        for r in 0..<rows {
            let g = dy + r * cols, hat = xhat + r * cols, out = dx + r * cols
            var sumG: Float = 0, sumGX: Float = 0
            Vector.forEachChunk(count: cols) { i in
                let d = Vector.load(g + i), h = Vector.load(hat + i)
                Vector.store(Vector.load(dgamma + i) + d * h, to: dgamma + i)
                Vector.store(Vector.load(dbeta + i) + d, to: dbeta + i)
                let gg = d * Vector.load(gamma + i)
                sumG += gg.sum()
                sumGX += (gg * h).sum()
            } tail: { i in
                dgamma[i] += g[i] * hat[i]
                dbeta[i] += g[i]
                let gg = g[i] * gamma[i]
                sumG += gg
                sumGX += gg * hat[i]
            }
            let meanG = sumG * invCols, meanGX = sumGX * invCols, s = rstd[r]
            Vector.forEachChunk(count: cols) { i in
                let gg = Vector.load(g + i) * Vector.load(gamma + i)
                let v = (gg - SIMD16(repeating: meanG) - Vector.load(hat + i) * meanGX) * s
                Vector.store(v, to: out + i)
            } tail: { i in
                out[i] = (g[i] * gamma[i] - meanG - hat[i] * meanGX) * s
            }
        }
    }

    /// Naive twin of the training forward, in Double, on arrays: y (rows, cols).
    public static func naiveForward(_ x: [Double], rows: Int, cols: Int, gamma: [Double], beta: [Double], eps: Double) -> [Double] {
        var y = x
        for r in 0..<rows {
            let row = Array(x[r * cols..<(r + 1) * cols])
            let mean = row.reduce(0, +) / Double(cols)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            let inv = 1 / (variance + eps).squareRoot()
            for i in 0..<cols { y[r * cols + i] = (row[i] - mean) * inv * gamma[i] + beta[i] }
        }
        return y
    }

    /// Naive twin of `backward`, in Double, from the input x: (dx, dγ, dβ).
    public static func naiveBackward(_ dy: [Double], x: [Double], rows: Int, cols: Int, gamma: [Double], eps: Double)
        -> (dx: [Double], dgamma: [Double], dbeta: [Double]) {
        var dx = [Double](repeating: 0, count: rows * cols)
        var dgamma = [Double](repeating: 0, count: cols), dbeta = dgamma
        let n = Double(cols)
        for r in 0..<rows {
            let row = Array(x[r * cols..<(r + 1) * cols])
            let mean = row.reduce(0, +) / n
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
            let inv = 1 / (variance + eps).squareRoot()
            let hat = row.map { ($0 - mean) * inv }
            let g = (0..<cols).map { dy[r * cols + $0] * gamma[$0] }
            let meanG = g.reduce(0, +) / n
            let meanGX = zip(g, hat).map(*).reduce(0, +) / n
            for i in 0..<cols {
                dgamma[i] += dy[r * cols + i] * hat[i]
                dbeta[i] += dy[r * cols + i]
                dx[r * cols + i] = inv * (g[i] - meanG - hat[i] * meanGX)
            }
        }
        return (dx, dgamma, dbeta)
    }
}
