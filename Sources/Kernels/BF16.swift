import CDNNL
import Foundation

/// bfloat16 weight products, the opt-in `bf16` precision: inputs rounded to bf16 (8 bits of
/// mantissa), products accumulated in fp32 by oneDNN's matmul (avx512_core_bf16), the weight
/// rounded and packed once. (Until this engine, the products were OpenBLAS 0.3.31's
/// `cblas_sbgemm`, built from source: tools/benchmarks/gemm_engines.txt has both.)
///
///     try BF16.check()                        // or BF16.available
///     let w = try BF16Matrix(converting: weight, rows: out, cols: inFeatures)
///     BF16.multiply(x, weight: w, into: y, rows: n, beta: 1)    // y += x · wᵀ
public enum BF16 {
    /// Whether bf16 products can run here (the CPU has avx512_bf16 and oneDNN uses it).
    public static var available: Bool { cpuHasBF16 && DNNL.hasBF16 }

    /// Throws, saying what to do, when bf16 products cannot run here.
    public static func check() throws(DNNL.Failure) {
        guard available else {
            throw DNNL.Failure(description: "bf16 precision needs a CPU with avx512_bf16 (" + (cpuHasBF16
                ? "oneDNN \(DNNL.version) does not use it here" : "/proc/cpuinfo lacks it") + "); use fp32")
        }
    }

    /// y (rows, part.count) = x (rows, w.cols) · w[part]ᵀ (+ bias) + beta · y for fp32 x, in rows
    /// of `ldc` (default part.count), beta 0 or 1: x is rounded to bf16 in this thread's scratch
    /// first (rows·in work against the product's rows·in·out). `weightRows` defaults to all of w;
    /// `bias` (part.count floats) is added inside oneDNN's kernel.
    public static func multiply(_ x: UnsafePointer<Float>, weight w: BF16Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows: Int, beta: Float = 0, ldc: Int? = nil,
                                bias: UnsafePointer<Float>? = nil) {
        guard rows > 0 else { return }
        multiply(rounded: rounded(x, count: rows * w.cols), weight: w, weightRows: weightRows, into: y, rows: rows,
                 beta: beta, ldc: ldc, bias: bias)
    }

    /// As `multiply`, with x (rows, w.cols) already bf16 bit patterns (`multiplyActivated`'s
    /// output). A part into wider rows runs densely first (`PackedWeight.multiply(…ldc:…)`).
    public static func multiply(rounded x: UnsafePointer<UInt16>, weight w: BF16Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows: Int, beta: Float = 0, ldc: Int? = nil,
                                bias: UnsafePointer<Float>? = nil) {
        precondition(beta == 0 || beta == 1, "BF16.multiply: beta \(beta); only 0 or 1")
        guard rows > 0 else { return }
        let part = weightRows ?? 0..<w.rows
        w.parts.part(part, ldc: part.count).multiply(x, rows: rows, into: y, ldc: ldc ?? part.count,
                                                     accumulate: beta == 1, bias: bias)
    }

    /// y (rows, part.count) = bf16(act(x · w[part]ᵀ + bias)), bit patterns in rows of `ldc`
    /// (default part.count): a feed-forward block's first product, whose output is the second
    /// product's input as it is. The bias, the activation and the rounding run inside oneDNN's
    /// kernel (its GELU is its own erf, within a few 1e-7 of ours), so the (rows, I) activations
    /// are written once, at half the width, and never read back in fp32.
    public static func multiplyActivated(_ x: UnsafePointer<Float>, weight w: BF16Matrix, weightRows: Range<Int>? = nil,
                                         bias: UnsafePointer<Float>?, activation: Activation,
                                         into y: UnsafeMutablePointer<UInt16>, rows: Int, ldc: Int? = nil) {
        guard rows > 0 else { return }
        let part = weightRows ?? 0..<w.rows
        w.parts.part(part, ldc: part.count).multiply(rounded(x, count: rows * w.cols), rows: rows, into: y,
                                                     ldc: ldc ?? part.count, bias: bias, activation: activation)
    }

    /// x rounded to bf16 in this thread's scratch.
    private static func rounded(_ x: UnsafePointer<Float>, count: Int) -> UnsafePointer<UInt16> {
        let a = ThreadScratch.current.reserve(0, bytes: count * 2).assumingMemoryBound(to: UInt16.self)
        convert(x, into: a, count: count)
        return UnsafePointer(a)
    }

    /// The naive twin of `multiply` and `multiplyActivated` (whose output is this one's, rounded
    /// by `naiveConvert`): x rounded by `naiveConvert`, three loops, Double accumulation of the
    /// bf16 values, then the bias and the old y in Double, then the activation's naive twin.
    public static func naiveMultiply(_ x: UnsafePointer<Float>, weight w: BF16Matrix, into y: UnsafeMutablePointer<Float>,
                                     rows m: Int, beta: Float = 0, ldc: Int? = nil, bias: UnsafePointer<Float>? = nil,
                                     activation: Activation? = nil) {
        let (n, k, ldc) = (w.rows, w.cols, ldc ?? w.rows)
        var a = [UInt16](repeating: 0, count: m * k), b = [UInt16](repeating: 0, count: n * k)
        naiveConvert(x, into: &a, count: m * k)
        naiveConvert(w.source, into: &b, count: n * k)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(float(a[i * k + p])) * Double(float(b[j * k + p])) }
                sum += (bias.map { Double($0[j]) } ?? 0) + (beta == 0 ? 0 : Double(beta * y[i * ldc + j]))
                var value = Float(sum)
                activation?.naiveApply(&value, count: 1)
                y[i * ldc + j] = value
            }
        }
    }

    /// c (m, n) = alpha · op(a) · op(b) + beta · c for fp32 operands, as `Gemm.multiply` (op(a)
    /// is a (m, k), or aᵀ with a stored (k, m) when `transposeA`; likewise b), but a and b are
    /// rounded to bf16 in this thread's scratch first and the product runs on oneDNN's bf16
    /// gemm with fp32 accumulation: the weight products of fine-tuning in bf16, where both
    /// operands change every step (so nothing is packed once).
    public static func gemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {  // an empty sum, c = beta · c: nothing to round
            return Gemm.multiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                 alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
        }
        let scratch = ThreadScratch.current
        // The stored matrix: `rows` rows of `length` values, `ld` apart; rounded into dense rows.
        func rounded(_ x: UnsafePointer<Float>, slot: Int, rows: Int, length: Int, ld: Int) -> UnsafePointer<UInt16> {
            let y = scratch.reserve(slot, bytes: rows * length * 2).assumingMemoryBound(to: UInt16.self)
            if ld == length {
                convert(x, into: y, count: rows * length)
            } else {
                for r in 0..<rows { convert(x + r * ld, into: y + r * length, count: length) }
            }
            return UnsafePointer(y)
        }
        let (aRows, aLength) = transposeA ? (k, m) : (m, k), (bRows, bLength) = transposeB ? (n, k) : (k, n)
        let a16 = rounded(a, slot: 1, rows: aRows, length: aLength, ld: lda ?? aLength)
        let b16 = rounded(b, slot: 2, rows: bRows, length: bLength, ld: ldb ?? bLength)
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { error in
            error[0] = 0
            if cdnnl_gemm_bf16(transposeA ? 1 : 0, transposeB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha,
                               a16, Int64(aLength), b16, Int64(bLength), beta, c, Int64(ldc ?? n),
                               error.baseAddress, error.count) != 0 {
                fatalError(DNNL.message(Array(error)))  // out of memory in the middle of a step
            }
        }
    }

    /// The naive twin of `gemm`: both operands rounded by `naiveConvert`, then
    /// `Gemm.naiveMultiply`'s loops on the rounded values (Double accumulation).
    public static func naiveGemm(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
    ) {
        let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n)
        guard m > 0, n > 0, k > 0 else {  // nothing to round
            return Gemm.naiveMultiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                      alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
        }
        func roundTrip(_ x: UnsafePointer<Float>, count: Int) -> [Float] {
            var bits = [UInt16](repeating: 0, count: count)
            naiveConvert(x, into: &bits, count: count)
            return bits.map(float)
        }
        let a32 = roundTrip(a, count: ((transposeA ? k : m) - 1) * lda + (transposeA ? m : k))
        let b32 = roundTrip(b, count: ((transposeB ? n : k) - 1) * ldb + (transposeB ? k : n))
        Gemm.naiveMultiply(a32, b32, into: c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                           alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
    }

    /// fp32 → bf16, rounding to nearest, ties to even; NaN stays a (quiet) NaN.
    public static func convert(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt16>, count: Int) {
        var i = 0
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(y)
        while i + 16 <= count {
            let u = src.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<UInt32>.self)
            let rounded = (u &+ 0x7fff &+ ((u &>> 16) & 1)) &>> 16
            let quietNaN = (u &>> 16) | 0x40
            // All ones where |x| is NaN (above the infinity's bits), by arithmetic: a SIMD
            // comparison compiles to a scalar loop over the lanes here (13% of a bf16 pass).
            let nan = SIMD16<UInt32>.zero &- ((SIMD16<UInt32>(repeating: 0x7f80_0000) &- (u & 0x7fff_ffff)) &>> 31)
            let r = (rounded & ~nan) | (quietNaN & nan)
            // The low halves of the lanes (x86 is little-endian): one vpermw, where the generic
            // SIMD16<UInt16>(truncatingIfNeeded:) is a call.
            dst.storeBytes(of: unsafeBitCast(r, to: SIMD32<UInt16>.self).evenHalf, toByteOffset: i * 2,
                           as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            let u = x[i].bitPattern
            y[i] = (u & 0x7fff_ffff) > 0x7f80_0000 ? UInt16(u >> 16) | 0x40 : UInt16((u &+ 0x7fff &+ ((u >> 16) & 1)) >> 16)
            i += 1
        }
    }

    /// The naive twin of `convert`: of the two bf16 values around x (x truncated, and the next
    /// one away from zero), the nearer, or on a tie the one with an even last bit.
    public static func naiveConvert(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<UInt16>, count: Int) {
        // As IEEE rounds: the exponent unbounded, then overflow to infinity (value ±2¹²⁸ here).
        func value(_ b: UInt16) -> Double {
            b & 0x7fff == 0x7f80 ? (b & 0x8000 == 0 ? 0x1p128 : -0x1p128) : Double(float(b))
        }
        for i in 0..<count {
            let v = x[i], low = UInt16(v.bitPattern >> 16), high = low &+ 1
            if v.isNaN { y[i] = low | 0x40; continue }
            if v.isInfinite { y[i] = low; continue }
            let dLow = abs(Double(v) - value(low)), dHigh = abs(value(high) - Double(v))
            y[i] = dLow < dHigh || (dLow == dHigh && low & 1 == 0) ? low : high
        }
    }

    /// The value of a bf16 bit pattern.
    @inline(__always) public static func float(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    public static var cpuHasBF16Flag: Bool { cpuHasBF16 }

    static let cpuHasBF16: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512_bf16") }
    }()
}

/// A weight matrix (rows, cols) rounded to bf16 and packed for oneDNN, by the row ranges
/// products use, from an fp32 source that must outlive it (a Linear's weight does).
public final class BF16Matrix: @unchecked Sendable {
    public let rows: Int, cols: Int
    public let source: UnsafePointer<Float>
    let parts: PackedParts

    /// Rounds x and packs it whole (the packing a batch of several rows uses).
    public init(converting x: UnsafePointer<Float>, rows: Int, cols: Int) throws(DNNL.Failure) {
        (self.rows, self.cols, source) = (rows, cols, x)
        nonisolated(unsafe) let x = x  // read only, and it outlives the matrix
        parts = PackedParts { (range, ldc) throws(DNNL.Failure) in
            let count = range.count * cols
            let rounded = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
            defer { rounded.deallocate() }
            BF16.convert(x + range.lowerBound * cols, into: rounded, count: count)
            return try PackedWeight(.bf16, rounded, rows: range.count, cols: cols, ldc: ldc)
        }
        try parts.prepare(0..<rows, ldc: rows)
    }

    /// Bytes of every packed part.
    public var bytes: Int { parts.bytes }
}
