import Foundation

/// 8-bit integer weight products, the opt-in `int8` precision: weights quantized once per
/// output channel (symmetric, Int8 in -127...127), activations per row on every call
/// (asymmetric, UInt8 with a zero point), products of UInt8 × Int8 summed in Int32 by oneDNN
/// on VNNI (avx512_vnni), then dequantized into fp32:
///
///     y[i, j] += sx[i] · sw[j] · (Σ_p qx[i, p] · qw[j, p] − zx[i] · Σ_p qw[j, p])
///
///     try Int8Products.check()
///     let w = try Int8Matrix(quantizing: weight, rows: out, cols: inFeatures)
///     Int8Products.multiply(x, weight: w, into: y, rows: n)          // y += x · wᵀ, approximately
public enum Int8Products {
    /// Throws, saying what to do, when int8 products cannot run here.
    public static func check() throws(DNNL.Failure) {
        guard DNNL.hasVNNI else {
            throw DNNL.Failure(description: "int8 precision needs a CPU with VNNI (avx512_vnni; oneDNN \(DNNL.version) "
                               + "finds none here); use fp32 or bf16")
        }
    }

    /// y (rows, part.count) += x (rows, w.cols) · w[part]ᵀ in rows of `ldc` (default part.count),
    /// x quantized per row into this thread's scratch.
    public static func multiply(_ x: UnsafePointer<Float>, weight w: Int8Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows m: Int, ldc: Int? = nil) {
        guard m > 0 else { return }
        let part = weightRows ?? 0..<w.rows, k = w.cols, n = part.count
        let scratch = ThreadScratch.current
        let q = scratch.reserve(0, bytes: m * k).assumingMemoryBound(to: UInt8.self)
        let acc = scratch.reserve(1, bytes: m * n * 4).assumingMemoryBound(to: Int32.self)
        let scales = scratch.reserve(2, bytes: m * 4).assumingMemoryBound(to: Float.self)
        let zeros = scratch.reserve(3, bytes: m * 4).assumingMemoryBound(to: Int32.self)
        quantizeRows(x, rows: m, cols: k, into: q, scales: scales, zeroPoints: zeros)
        w.parts.part(part, ldc: n).multiply(q, rows: m, into: acc, accumulate: false)
        dequantize(acc, rows: m, cols: n, rowScales: scales, zeroPoints: zeros,
                   weightScales: w.scales + part.lowerBound, weightSums: w.sums + part.lowerBound, into: y, ldc: ldc ?? n)
    }

    /// The naive twin of `multiply`: the same quantization by the naive twins, the integer
    /// product in three loops.
    public static func naiveMultiply(_ x: UnsafePointer<Float>, weight w: Int8Matrix, into y: UnsafeMutablePointer<Float>,
                                     rows m: Int) {
        let (n, k) = (w.rows, w.cols)
        var q = [UInt8](repeating: 0, count: m * k), acc = [Int32](repeating: 0, count: m * n)
        var scales = [Float](repeating: 0, count: m), zeros = [Int32](repeating: 0, count: m)
        var qw = [Int8](repeating: 0, count: n * k), ws = [Float](repeating: 0, count: n), sums = [Int32](repeating: 0, count: n)
        quantizeWeights(w.source, rows: n, cols: k, into: &qw, scales: &ws, sums: &sums)
        naiveQuantizeRows(x, rows: m, cols: k, into: &q, scales: &scales, zeroPoints: &zeros)
        for i in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for p in 0..<k { s += Int32(q[i * k + p]) * Int32(qw[j * k + p]) }
                acc[i * n + j] = s
            }
        }
        naiveDequantize(acc, rows: m, cols: n, rowScales: scales, zeroPoints: zeros,
                        weightScales: ws, weightSums: sums, into: y, ldc: n)
    }

    // MARK: activations, per row

    /// The scale and zero point of a row whose values lie in lo...hi (lo ≤ 0 ≤ hi): 255 steps
    /// from lo to hi, and the step that 0 falls on, so that 0 is exact.
    @inline(__always)
    static func rowParameters(lo: Float, hi: Float) -> (scale: Float, inverse: Float, zero: Int32) {
        let range = hi - lo
        guard range > 0, range.isFinite else { return (1, 1, 0) }
        let scale = range / 255, inverse = 255 / range
        let zero = min(255, max(0, Int32((-lo * inverse).rounded(.toNearestOrEven))))
        return (scale, inverse, zero)
    }

    /// x (rows, cols) → q (rows, cols) UInt8 with, per row, x ≈ scale · (q − zero).
    public static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<UInt8>,
                                    scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(q)
        for r in 0..<rows {
            let row = r * cols
            var lo16 = SIMD16<Float>(repeating: 0), hi16 = lo16
            var i = 0
            while i + 16 <= cols {
                let v = src.loadUnaligned(fromByteOffset: (row + i) * 4, as: SIMD16<Float>.self)
                lo16 = Vector.minimum(lo16, v)
                hi16 = Vector.maximum(hi16, v)
                i += 16
            }
            var lo = lo16.min(), hi = hi16.max()
            while i < cols {
                lo = min(lo, x[row + i])
                hi = max(hi, x[row + i])
                i += 1
            }
            let (scale, inverse, zero) = rowParameters(lo: lo, hi: hi)
            scales[r] = scale
            zeroPoints[r] = zero
            // In floats: v · inverse rounded, plus the zero point, clamped to 0...255, all exact
            // integers; then to Int32 by the bits of 2^23 + 2^22 + t (the generic SIMD
            // Float → Int32 initializer runs element by element, 70% of an int8 pass).
            let inv16 = SIMD16<Float>(repeating: inverse), zero16 = SIMD16<Float>(repeating: Float(zero))
            let top = SIMD16<Float>(repeating: 255), bottom = SIMD16<Float>(repeating: 0)
            let magic = SIMD16<Float>(repeating: 12_582_912), magicBits = SIMD16<Int32>(repeating: 0x4B40_0000)
            i = 0
            while i + 16 <= cols {
                let v = src.loadUnaligned(fromByteOffset: (row + i) * 4, as: SIMD16<Float>.self)
                let t = Vector.minimum(top, Vector.maximum(bottom, (v * inv16).rounded(.toNearestOrEven) + zero16))
                let c = unsafeBitCast(t + magic, to: SIMD16<Int32>.self) &- magicBits
                dst.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: c), toByteOffset: row + i, as: SIMD16<UInt8>.self)
                i += 16
            }
            while i < cols {
                q[row + i] = quantize(x[row + i], inverse: inverse, zero: zero)
                i += 1
            }
        }
    }

    @inline(__always)
    static func quantize(_ v: Float, inverse: Float, zero: Int32) -> UInt8 {
        UInt8(min(255, max(0, Int32((v * inverse).rounded(.toNearestOrEven)) &+ zero)))
    }

    /// The naive twin of `quantizeRows`: one element at a time.
    public static func naiveQuantizeRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<UInt8>,
                                         scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>) {
        for r in 0..<rows {
            var lo: Float = 0, hi: Float = 0
            for i in 0..<cols { lo = min(lo, x[r * cols + i]); hi = max(hi, x[r * cols + i]) }
            let (scale, inverse, zero) = rowParameters(lo: lo, hi: hi)
            scales[r] = scale
            zeroPoints[r] = zero
            for i in 0..<cols { q[r * cols + i] = quantize(x[r * cols + i], inverse: inverse, zero: zero) }
        }
    }

    // MARK: results

    /// y[i, j] += rowScales[i] · weightScales[j] · (acc[i, j] − zeroPoints[i] · weightSums[j]),
    /// acc (rows, cols) dense, y in rows of ldc.
    public static func dequantize(_ acc: UnsafePointer<Int32>, rows: Int, cols: Int, rowScales: UnsafePointer<Float>,
                                  zeroPoints: UnsafePointer<Int32>, weightScales: UnsafePointer<Float>,
                                  weightSums: UnsafePointer<Int32>, into y: UnsafeMutablePointer<Float>, ldc: Int) {
        let a = UnsafeRawPointer(acc), ws = UnsafeRawPointer(weightScales), sums = UnsafeRawPointer(weightSums)
        for r in 0..<rows {
            let s = SIMD16<Float>(repeating: rowScales[r]), z = SIMD16<Int32>(repeating: zeroPoints[r])
            let out = UnsafeMutableRawPointer(y + r * ldc)
            var j = 0
            while j + 16 <= cols {
                let t = a.loadUnaligned(fromByteOffset: (r * cols + j) * 4, as: SIMD16<Int32>.self)
                    &- z &* sums.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Int32>.self)
                let f = s * ws.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                let old = out.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                out.storeBytes(of: old + f * SIMD16<Float>(t), toByteOffset: j * 4, as: SIMD16<Float>.self)
                j += 16
            }
            while j < cols {
                y[r * ldc + j] += rowScales[r] * weightScales[j] * Float(acc[r * cols + j] &- zeroPoints[r] &* weightSums[j])
                j += 1
            }
        }
    }

    /// The naive twin of `dequantize`.
    public static func naiveDequantize(_ acc: UnsafePointer<Int32>, rows: Int, cols: Int, rowScales: UnsafePointer<Float>,
                                       zeroPoints: UnsafePointer<Int32>, weightScales: UnsafePointer<Float>,
                                       weightSums: UnsafePointer<Int32>, into y: UnsafeMutablePointer<Float>, ldc: Int) {
        for r in 0..<rows {
            for j in 0..<cols {
                let t = Int(acc[r * cols + j]) - Int(zeroPoints[r]) * Int(weightSums[j])
                y[r * ldc + j] += rowScales[r] * weightScales[j] * Float(t)
            }
        }
    }

    // MARK: weights, per output channel

    /// w (rows, cols) → q with w[j, p] ≈ scales[j] · q[j, p], q in -127...127 (symmetric: the
    /// zero point is 0), and sums[j] = Σ_p q[j, p]. Runs once per weight, at load.
    public static func quantizeWeights(_ w: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<Int8>,
                                       scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>) {
        for j in 0..<rows {
            var amax: Float = 0
            for p in 0..<cols { amax = max(amax, abs(w[j * cols + p])) }
            let scale: Float = amax > 0 && amax.isFinite ? amax / 127 : 1
            var sum: Int32 = 0
            for p in 0..<cols {
                let v = Int8(min(127, max(-127, (w[j * cols + p] / scale).rounded(.toNearestOrEven))))
                q[j * cols + p] = v
                sum += Int32(v)
            }
            scales[j] = scale
            sums[j] = sum
        }
    }
}

/// A weight matrix (rows, cols) quantized per output channel (row) and packed for oneDNN, by
/// the row ranges products use, from an fp32 source that must outlive it (a Linear's weight
/// does). Each row's quantization depends on that row alone, so every part agrees.
public final class Int8Matrix: @unchecked Sendable {
    public let rows: Int, cols: Int
    public let source: UnsafePointer<Float>
    public let scales: UnsafeMutablePointer<Float>  // (rows)
    public let sums: UnsafeMutablePointer<Int32>    // (rows): Σ of each row's quantized values
    let parts: PackedParts

    /// Quantizes w and packs it whole (the packing a batch of several rows uses).
    public init(quantizing w: UnsafePointer<Float>, rows: Int, cols: Int) throws(DNNL.Failure) {
        (self.rows, self.cols, source) = (rows, cols, w)
        (scales, sums) = (.allocate(capacity: rows), .allocate(capacity: rows))
        nonisolated(unsafe) let w = w  // read only, and it outlives the matrix
        parts = PackedParts { (range, ldc) throws(DNNL.Failure) in
            let n = range.count
            let values = UnsafeMutablePointer<Int8>.allocate(capacity: n * cols)
            let s = UnsafeMutablePointer<Float>.allocate(capacity: n), sum = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            defer { values.deallocate(); s.deallocate(); sum.deallocate() }
            Int8Products.quantizeWeights(w + range.lowerBound * cols, rows: n, cols: cols, into: values, scales: s, sums: sum)
            return try PackedWeight(.u8s8, values, rows: n, cols: cols, ldc: ldc)
        }
        let values = UnsafeMutablePointer<Int8>.allocate(capacity: rows * cols)
        defer { values.deallocate() }
        Int8Products.quantizeWeights(w, rows: rows, cols: cols, into: values, scales: scales, sums: sums)
        try parts.prepare(0..<rows, ldc: rows)
    }

    /// Bytes held: the scales and sums, and every packed part.
    public var bytes: Int { rows * 8 + parts.bytes }

    deinit {
        scales.deallocate()
        sums.deallocate()
    }
}
