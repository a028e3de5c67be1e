import Foundation

/// The fp32 weight products of inference on oneDNN, opt-in (`BERT_FP32_ENGINE=onednn`): its
/// f32 matmul (brgemm avx512_core) with the weight packed once, at load, into the blocked
/// layout its kernels read, where OpenBLAS 0.3.21 repacks the weight on every call and,
/// under `OPENBLAS_CORETYPE=Haswell`, runs AVX2 kernels only (tools/benchmarks/gemm_engines.txt:
/// 158 against 97 GFLOP/s at 256 rows). Measured end to end with OpenBLAS on its AVX-512
/// kernels, it gained about 6% on all-MiniLM-L6-v2 (wall 3.03 against 3.21 s) for 1.45× the peak memory (the packed copy
/// beside the mapped file), so OpenBLAS stays the default. Training always uses OpenBLAS: its
/// weights change every step.
///
///     let w = try F32Matrix(packing: weight, rows: out, cols: inFeatures)
///     F32Products.multiply(x, weight: w, into: y, rows: n, beta: 1)    // y += x · wᵀ
public enum F32Products {
    /// Whether inference packs its fp32 products for oneDNN: only when `BERT_FP32_ENGINE=onednn`.
    public static let packed: Bool = ProcessInfo.processInfo.environment["BERT_FP32_ENGINE"]?.lowercased() == "onednn"

    /// The engine fp32 inference products run on, for benchmarks to print.
    public static var engine: String { packed ? "oneDNN \(DNNL.version) f32" : "OpenBLAS sgemm" }

    /// y (rows, part.count) = x (rows, w.cols) · w[part]ᵀ + beta · y, in rows of `ldc`
    /// (default part.count), beta 0 or 1. `weightRows` defaults to all of w. A part written
    /// into wider rows (a lone batch's lane) runs densely first: oneDNN 2.6 runs its brgemm
    /// kernels only on dense output rows (`PackedWeight.multiply(…ldc:…)`).
    public static func multiply(_ x: UnsafePointer<Float>, weight w: F32Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows m: Int, beta: Float = 0, ldc: Int? = nil) {
        precondition(beta == 0 || beta == 1, "F32Products.multiply: beta \(beta); only 0 or 1")
        guard m > 0 else { return }
        let part = weightRows ?? 0..<w.rows, n = part.count
        w.parts.part(part, ldc: n).multiply(x, rows: m, into: y, ldc: ldc ?? n, accumulate: beta == 1)
    }

    /// The naive twin of `multiply`: three loops, Double accumulation.
    public static func naiveMultiply(_ x: UnsafePointer<Float>, weight w: F32Matrix, into y: UnsafeMutablePointer<Float>,
                                     rows m: Int, beta: Float = 0, ldc: Int? = nil) {
        let (n, k, ldc) = (w.rows, w.cols, ldc ?? w.rows)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(x[i * k + p]) * Double(w.source[j * k + p]) }
                y[i * ldc + j] = Float(sum) + (beta == 0 ? 0 : beta * y[i * ldc + j])
            }
        }
    }
}

/// A fp32 weight (rows, cols), row-major as PyTorch stores a Linear's, packed for oneDNN.
/// The source must outlive the matrix (a lane's part is packed from it on first use).
public final class F32Matrix: @unchecked Sendable {
    public let rows: Int, cols: Int
    public let source: UnsafePointer<Float>
    let parts: PackedParts

    /// Packs w whole (the packing a batch of several rows uses).
    public init(packing w: UnsafePointer<Float>, rows: Int, cols: Int) throws(DNNL.Failure) {
        (self.rows, self.cols, source) = (rows, cols, w)
        nonisolated(unsafe) let w = w  // read only, and it outlives the matrix
        parts = PackedParts { (range, ldc) throws(DNNL.Failure) in
            try PackedWeight(.f32, w + range.lowerBound * cols, rows: range.count, cols: cols, ldc: ldc)
        }
        try parts.prepare(0..<rows, ldc: rows)
    }

    /// Bytes of every packed part.
    public var bytes: Int { parts.bytes }
}
