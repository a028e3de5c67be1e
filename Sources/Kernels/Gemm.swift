import COpenBLAS

/// Row-major matrix products. Every matrix product of the runtime goes through here.
public enum Gemm {
    /// c (m, n) = alpha · a (m, k) · op(b) + beta · c, where op(b) is b (k, n), or bᵀ
    /// with b stored (n, k) when `transposeB` (the layout of a PyTorch Linear weight).
    /// Leading dimensions default to packed rows.
    @inlinable
    public static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        BLAS.prepare()
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(lda ?? (transposeA ? m : k)),
            b, Int32(ldb ?? (transposeB ? k : n)),
            beta, c, Int32(ldc ?? n))
    }

    /// The naive twin of `multiply`: the same contract, three loops, Double accumulation.
    public static func naiveMultiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0,
        lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n), ldc = ldc ?? n
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += Double(x) * Double(y)
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(sum) + old
            }
        }
    }
}

extension Gemm {
    /// Whether this OpenBLAS core has the small-matrix sgemm kernels (SMALL_MATRIX_OPT: the
    /// SkylakeX family on x86-64), which run a small product on its operands in place.
    public static let hasSmallKernels = ["SkylakeX", "Cooperlake", "SapphireRapids"].contains(BLAS.coreName)

    /// c (m, n) = a (m, k) · wᵀ + beta · c, with w stored (n, k) as a Linear's weight is.
    /// For few rows m it runs as products of 16 (or 8) output columns each, small enough for
    /// OpenBLAS's small-matrix kernels (its rule: col-major M·N ≤ 1200, M·N·K ≤ 100³, K ≥ 32),
    /// which read w in place: one product would first pack all of w, which was 30 to 40%
    /// of the time at 23 rows. Larger products run whole.
    public static func multiplyWeight(
        _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, beta: Float = 0, lda: Int? = nil, ldw: Int? = nil, ldc: Int? = nil
    ) {
        let (lda, ldw, ldc) = (lda ?? k, ldw ?? k, ldc ?? n)
        guard let block = weightBlock(m: m, n: n, k: k) else {
            return multiply(a, w, into: c, m: m, n: n, k: k, transposeB: true, beta: beta, lda: lda, ldb: ldw, ldc: ldc)
        }
        for j in stride(from: 0, to: n, by: block) {
            // The small kernels stall on weights streamed from memory (a third of their
            // time at 23 rows): reading the next block's cache lines first cuts that by half.
            let next = j + block
            if next < n { touch(w + next * ldw, rows: min(block, n - next), cols: k, ld: ldw) }
            multiply(a, w + j * ldw, into: c + j, m: m, n: min(block, n - j), k: k,
                     transposeB: true, beta: beta, lda: lda, ldb: ldw, ldc: ldc)
        }
    }

    /// The columns per product `multiplyWeight` uses, or nil for one whole product: 16 where
    /// the small kernels take them (best at 23 rows), else 8 (60 rows, k 1536: 9% faster
    /// than whole).
    public static func weightBlock(m: Int, n: Int, k: Int) -> Int? {
        guard hasSmallKernels, k >= 32 else { return nil }
        return [16, 8].first { n > $0 && $0 * m <= 1200 && $0 * m * k <= 1_000_000 }
    }
    /// Reads one float of each 64-byte line of a (rows, cols) block, so that it is in cache.
    @inline(never)
    static func touch(_ p: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) {
        var s0: Float = 0, s1: Float = 0
        for r in 0..<rows {
            let row = p + r * ld
            var i = 0
            while i + 32 <= cols {
                s0 += row[i]
                s1 += row[i + 16]
                i += 32
            }
            if i < cols { s0 += row[i] }
            s1 += row[cols - 1]
        }
        keep(s0 + s1)
    }

    /// Takes `touch`'s sum so that its reads are not optimized away; it does nothing, and
    /// (unlike the static variable it replaces) is no data race between threads.
    @inline(never) @_optimize(none)
    static func keep(_ value: Float) {}

}
