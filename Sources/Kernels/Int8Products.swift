import Foundation

/// 8-bit integer weight products, the opt-in `int8` precision: weights quantized once per
/// output channel (symmetric, Int8 in -127...127), activations per row on every call
/// (asymmetric, UInt8 with a zero point), products of UInt8 × Int8 summed in Int32 by oneDNN
/// on VNNI (avx512_vnni), then dequantized into fp32:
///
///     y[i, j] += sx[i] · sw[j] · (Σ_p qx[i, p] · qw[j, p] − zx[i] · Σ_p qw[j, p])
///
/// A few input elements are kept apart from the integer product and added in fp32 afterwards
/// (LLM.int8's decomposition, made row-local so that a row's result never depends on the rows
/// batched with it):
/// - one input channel in `inputChannelsPerApartColumn` of each weight, those of largest |w|
///   (chosen at load), which would otherwise set whole output channels' steps;
/// - in each row, the elements above `apartThreshold` in magnitude (at most `apartPerRow`; a
///   row with more keeps none apart), which would otherwise set the row's step.
/// Both count as 0 in the integer product, and each row adds x[i, p] · w[j, p] for its apart
/// elements in ascending p.
///
///     try Int8Products.check()
///     let w = try Int8Matrix(quantizing: weight, rows: out, cols: inFeatures)
///     Int8Products.multiply(x, weight: w, into: y, rows: n)          // y += x · wᵀ, approximately
public enum Int8Products {
    /// |x| above this goes apart (fp32). Chosen in a PyTorch simulation of this scheme on the
    /// golden sentences of all-MiniLM-L6-v2 and all-mpnet-base-v2 (README, int8).
    public static let apartThreshold: Float = 4
    /// Input channels of each weight kept apart (fp32), those of largest max |w[·, p]|: one
    /// per this many (2 of 384, 16 of 3,072). Each is an fp32 add per output, against k byte
    /// products that VNNI does 64 at a time, so their cost is a share of k and they scale with it
    /// (measured on MiniLM: README, int8).
    public static let inputChannelsPerApartColumn = 192
    /// At most this many elements of a row go apart by the threshold.
    public static let apartPerRow = 64

    /// Throws, saying what to do, when int8 products cannot run here.
    public static func check() throws(DNNL.Failure) {
        guard DNNL.hasVNNI else {
            throw DNNL.Failure(description: "int8 precision needs a CPU with VNNI (avx512_vnni; oneDNN \(DNNL.version) "
                               + "finds none here); use fp32 or bf16")
        }
    }

    /// y (rows, part.count) += x (rows, w.cols) · w[part]ᵀ in rows of `ldc` (default part.count),
    /// x quantized per row into this thread's scratch, in blocks of `blockRows` rows (oneDNN's
    /// largest piece) so that the apart elements are read while the block is still in cache.
    ///
    /// With `bias` (part.count), y = y + bias + x · w[part]ᵀ; with `accumulate` false, y's old
    /// values are not read: y = bias + x · w[part]ᵀ (or the product alone). Either way in one
    /// pass over y, which also adds the apart elements.
    public static func multiply(_ x: UnsafePointer<Float>, weight w: Int8Matrix, weightRows: Range<Int>? = nil,
                                into y: UnsafeMutablePointer<Float>, rows m: Int, ldc: Int? = nil,
                                bias: UnsafePointer<Float>? = nil, accumulate: Bool = true) {
        guard m > 0 else { return }
        let part = weightRows ?? 0..<w.rows, k = w.cols, n = part.count, ld = ldc ?? n
        let b = min(m, blockRows)
        let scratch = ThreadScratch.current
        let q = scratch.reserve(0, bytes: b * k).assumingMemoryBound(to: UInt8.self)
        let acc = scratch.reserve(1, bytes: b * n * 4).assumingMemoryBound(to: Int32.self)
        let scales = scratch.reserve(2, bytes: b * 4).assumingMemoryBound(to: Float.self)
        let zeros = scratch.reserve(3, bytes: b * 4).assumingMemoryBound(to: Int32.self)
        let apart = scratch.reserve(4, bytes: b * apartPerRow * 4).assumingMemoryBound(to: Int32.self)
        let counts = scratch.reserve(5, bytes: b * 4).assumingMemoryBound(to: Int32.self)
        let packed = w.parts.part(part, ldc: n)
        for first in stride(from: 0, to: m, by: b) {
            let rows = min(b, m - first), xb = x + first * k, yb = y + first * ld
            quantizeRows(xb, rows: rows, cols: k, into: q, scales: scales, zeroPoints: zeros,
                         apartColumns: w.apartMask, apart: apart, apartCounts: counts)
            packed.multiply(q, rows: rows, into: acc, accumulate: false)
            finish(acc, xb, rows: rows, weight: w, weightRows: part, rowScales: scales, zeroPoints: zeros,
                   apart: apart, apartCounts: counts, into: yb, ldc: ld, bias: bias, accumulate: accumulate, scratch: scratch)
        }
    }

    /// Rows per block of `multiply`.
    static let blockRows = 256

    /// The naive twin of `multiply`: the same quantization by the naive twins, the integer
    /// product in three loops, the apart elements from the fp32 source.
    public static func naiveMultiply(_ x: UnsafePointer<Float>, weight w: Int8Matrix, into y: UnsafeMutablePointer<Float>,
                                     rows m: Int, ldc: Int? = nil, bias: UnsafePointer<Float>? = nil, accumulate: Bool = true) {
        let (n, k) = (w.rows, w.cols), ld = ldc ?? n
        for i in 0..<m {
            for j in 0..<n {
                let old = accumulate ? y[i * ld + j] : 0
                y[i * ld + j] = bias.map { old + $0[j] } ?? old
            }
        }
        var q = [UInt8](repeating: 0, count: m * k), acc = [Int32](repeating: 0, count: m * n)
        var scales = [Float](repeating: 0, count: m), zeros = [Int32](repeating: 0, count: m)
        var apart = [Int32](repeating: 0, count: m * apartPerRow), counts = [Int32](repeating: 0, count: m)
        var qw = [Int8](repeating: 0, count: n * k), ws = [Float](repeating: 0, count: n), sums = [Int32](repeating: 0, count: n)
        quantizeWeights(w.source, rows: n, cols: k, into: &qw, scales: &ws, sums: &sums, apartColumns: w.apartMask)
        naiveQuantizeRows(x, rows: m, cols: k, into: &q, scales: &scales, zeroPoints: &zeros,
                          apartColumns: w.apartMask, apart: &apart, apartCounts: &counts)
        for i in 0..<m {
            for j in 0..<n {
                var s: Int32 = 0
                for p in 0..<k { s += Int32(q[i * k + p]) * Int32(qw[j * k + p]) }
                acc[i * n + j] = s
            }
        }
        naiveDequantize(acc, rows: m, cols: n, rowScales: scales, zeroPoints: zeros,
                        weightScales: ws, weightSums: sums, into: y, ldc: ld)
        for i in 0..<m {
            let own = Set(apart[i * apartPerRow..<i * apartPerRow + Int(counts[i])].map(Int.init))
            for p in 0..<k where w.apartMask[p] != 0 || own.contains(p) {
                for j in 0..<n { y[i * ld + j] += x[i * k + p] * w.source[j * k + p] }
            }
        }
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

    /// x (rows, cols) → q (rows, cols) UInt8 with, per row, x ≈ scale · (q − zero), the apart
    /// elements counting as 0: those in columns where `apartColumns` (cols) is nonzero, and
    /// the row's own, |x| > `threshold`, listed in ascending column in `apart` (rows,
    /// `apartPerRow`) with their number in `apartCounts` (rows). A row with more than
    /// `apartPerRow` of its own lists none and keeps them in its range.
    public static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<UInt8>,
                                    scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>,
                                    apartColumns: UnsafePointer<Int32>, threshold: Float = apartThreshold,
                                    apart: UnsafeMutablePointer<Int32>, apartCounts: UnsafeMutablePointer<Int32>) {
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(q), fixed = UnsafeRawPointer(apartColumns)
        let none = SIMD16<Int32>(repeating: 0), whole = cols / 16 * 16
        // The weight's apart columns, listed, and which chunks of 16 hold one (few: most chunks
        // take the loop that does not read the mask). Once per call, not per row.
        let scratch = ThreadScratch.current
        let fixedList = scratch.reserve(10, bytes: max(1, cols) * 4).assumingMemoryBound(to: Int32.self)
        let mixed = scratch.reserve(11, bytes: max(1, cols / 16)).assumingMemoryBound(to: Bool.self)
        mixed.update(repeating: false, count: cols / 16)
        var fixedCount = 0
        for p in 0..<cols where apartColumns[p] != 0 {
            fixedList[fixedCount] = Int32(p)
            fixedCount += 1
            if p < whole { mixed[p / 16] = true }
        }
        for r in 0..<rows {
            let row = r * cols
            // The range of what stays, and whether the row has elements of its own to set apart.
            var limit = threshold
            var t16 = SIMD16<Float>(repeating: limit)
            var lo16 = SIMD16<Float>(repeating: 0), hi16 = lo16, own16 = none
            var i = 0
            while i < whole {
                let v = src.loadUnaligned(fromByteOffset: (row + i) * 4, as: SIMD16<Float>.self)
                var big = beyond(v, t16), out = big
                if mixed[i / 16] {
                    let f = fixed.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Int32>.self) .!= none
                    out = f .| big
                    big = big .& .!f
                }
                let kept = v.replacing(with: 0, where: out)
                lo16 = Vector.minimum(lo16, kept)
                hi16 = Vector.maximum(hi16, kept)
                own16 = own16.replacing(with: 1, where: big)
                i += 16
            }
            var lo = Vector.least(lo16), hi = Vector.greatest(hi16), own = Vector.anyNonzero(own16)
            while i < cols {
                let v = x[row + i], big = beyond(v, limit)
                if apartColumns[i] == 0 {
                    if big { own = true } else { lo = min(lo, v); hi = max(hi, v) }
                }
                i += 1
            }
            var count = 0
            if own {
                // List them chunk by chunk, ascending; too many, and the row keeps them all.
                i = 0
                while i < cols && count <= apartPerRow {
                    if i + 16 <= whole {
                        let v = src.loadUnaligned(fromByteOffset: (row + i) * 4, as: SIMD16<Float>.self)
                        let f = fixed.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Int32>.self) .!= none
                        if !Vector.anyNonzero(none.replacing(with: 1, where: beyond(v, t16) .& .!f)) { i += 16; continue }
                    }
                    for p in i..<min(i + 16, cols) where apartColumns[p] == 0 && beyond(x[row + p], limit) {
                        if count < apartPerRow { apart[r * apartPerRow + count] = Int32(p) }
                        count += 1
                    }
                    i += 16
                }
                if count > apartPerRow {
                    count = 0
                    limit = .infinity
                    t16 = SIMD16<Float>(repeating: limit)
                    (lo, hi) = (0, 0)
                    for p in 0..<cols where apartColumns[p] == 0 { lo = min(lo, x[row + p]); hi = max(hi, x[row + p]) }
                }
            }
            apartCounts[r] = Int32(count)
            let (scale, inverse, zero) = rowParameters(lo: lo, hi: hi)
            scales[r] = scale
            zeroPoints[r] = zero
            // Every element as if it stayed, then the apart ones set to the zero point (the
            // quantized 0). In floats near 2^23 + 2^22, where the step is 1: one fused
            // multiply-add rounds v · inverse + zero to the nearest integer (ties to even), the
            // clamp to 0...255 is exact, and the bits less those of 2^23 + 2^22 are the integer
            // (the generic SIMD Float → Int32 initializer runs element by element).
            let inv16 = SIMD16<Float>(repeating: inverse), bias16 = SIMD16<Float>(repeating: Float(zero) + magic)
            let top = SIMD16<Float>(repeating: magic + 255), bottom = SIMD16<Float>(repeating: magic)
            let magicBits = SIMD16<Int32>(repeating: Int32(bitPattern: magic.bitPattern))
            i = 0
            while i < whole {
                let v = src.loadUnaligned(fromByteOffset: (row + i) * 4, as: SIMD16<Float>.self)
                let t = Vector.minimum(top, Vector.maximum(bottom, bias16.addingProduct(v, inv16)))
                let c = unsafeBitCast(t, to: SIMD16<Int32>.self) &- magicBits
                dst.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: c), toByteOffset: row + i, as: SIMD16<UInt8>.self)
                i += 16
            }
            while i < cols {
                q[row + i] = quantize(x[row + i], inverse: inverse, zero: zero)
                i += 1
            }
            let z = UInt8(zero)
            for e in 0..<fixedCount { q[row + Int(fixedList[e])] = z }
            for e in 0..<count { q[row + Int(apart[r * apartPerRow + e])] = z }
        }
    }

    /// 2^23 + 2^22: the floats within 2^22 of it are the integers.
    static let magic: Float = 12_582_912

    /// v quantized as `quantizeRows` does, one element.
    @inline(__always)
    static func quantize(_ v: Float, inverse: Float, zero: Int32) -> UInt8 {
        let t = min(magic + 255, max(magic, (Float(zero) + magic).addingProduct(v, inverse)))
        return UInt8(Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: magic.bitPattern))
    }

    /// The naive twin of `quantize`: v · inverse + zero rounded to the nearest integer (ties to
    /// even), clamped to 0...255; exact in Double (a product of two floats fits its 53 bits).
    static func naiveQuantize(_ v: Float, inverse: Float, zero: Int32) -> UInt8 {
        let t = (Double(v) * Double(inverse) + Double(zero)).rounded(.toNearestOrEven)
        return UInt8(Swift.min(255, Swift.max(0, t)))
    }

    /// v, or 0 when it goes apart.
    @inline(__always)
    static func kept(_ v: Float, column p: Int, apartColumns: UnsafePointer<Int32>, limit: Float) -> Float {
        apartColumns[p] != 0 || beyond(v, limit) ? 0 : v
    }

    /// |v| > limit, NaN never (it stays in the integer row, as before there were apart elements).
    @inline(__always)
    static func beyond(_ v: Float, _ limit: Float) -> Bool { v > limit || v < -limit }

    @inline(__always)
    static func beyond(_ v: SIMD16<Float>, _ limit: SIMD16<Float>) -> SIMDMask<SIMD16<Int32>> { (v .> limit) .| (v .< -limit) }

    /// The naive twin of `quantizeRows`: one element at a time.
    public static func naiveQuantizeRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<UInt8>,
                                         scales: UnsafeMutablePointer<Float>, zeroPoints: UnsafeMutablePointer<Int32>,
                                         apartColumns: UnsafePointer<Int32>, threshold: Float = apartThreshold,
                                         apart: UnsafeMutablePointer<Int32>, apartCounts: UnsafeMutablePointer<Int32>) {
        for r in 0..<rows {
            let own = (0..<cols).filter { apartColumns[$0] == 0 && beyond(x[r * cols + $0], threshold) }
            let limit = own.count <= apartPerRow ? threshold : .infinity
            apartCounts[r] = Int32(own.count <= apartPerRow ? own.count : 0)
            for (c, p) in own.enumerated() where own.count <= apartPerRow { apart[r * apartPerRow + c] = Int32(p) }
            var lo: Float = 0, hi: Float = 0
            for i in 0..<cols {
                let v = kept(x[r * cols + i], column: i, apartColumns: apartColumns, limit: limit)
                lo = min(lo, v)
                hi = max(hi, v)
            }
            let (scale, inverse, zero) = rowParameters(lo: lo, hi: hi)
            scales[r] = scale
            zeroPoints[r] = zero
            for i in 0..<cols {
                q[r * cols + i] = naiveQuantize(kept(x[r * cols + i], column: i, apartColumns: apartColumns, limit: limit),
                                                inverse: inverse, zero: zero)
            }
        }
    }

    // MARK: results

    /// y[i, j] += rowScales[i] · weightScales[j] · (acc[i, j] − zeroPoints[i] · weightSums[j]),
    /// acc (rows, cols) dense, y in rows of ldc.
    public static func dequantize(_ acc: UnsafePointer<Int32>, rows: Int, cols: Int, rowScales: UnsafePointer<Float>,
                                  zeroPoints: UnsafePointer<Int32>, weightScales: UnsafePointer<Float>,
                                  weightSums: UnsafePointer<Int32>, into y: UnsafeMutablePointer<Float>, ldc: Int) {
        let none = UnsafePointer<Float>(bitPattern: 64)!, noColumns = UnsafePointer<UnsafePointer<Float>>(bitPattern: 64)!
        for r in 0..<rows {
            finishRow(acc + r * cols, scale: rowScales[r], zero: zeroPoints[r], weightScales: weightScales,
                      weightSums: weightSums, none, noColumns, count: 0, into: y + r * ldc, length: cols,
                      bias: nil, accumulate: true)
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

    /// y (rows, part.count; rows of ldc) = base + dequantized acc, then + x[i, p] · w[j, p] for
    /// each apart element of row i in ascending p (the weight's apart columns, kept at load,
    /// merged with the row's own, whose weight columns the weight keeps after first use,
    /// `Int8Matrix.keptColumn`), one pass over y; base is y (`accumulate`), plus `bias`.
    /// The same sums in the same order as `dequantize`, then one pass per apart element.
    static func finish(_ acc: UnsafePointer<Int32>, _ x: UnsafePointer<Float>, rows m: Int, weight w: Int8Matrix,
                       weightRows part: Range<Int>, rowScales: UnsafePointer<Float>, zeroPoints: UnsafePointer<Int32>,
                       apart: UnsafePointer<Int32>, apartCounts: UnsafePointer<Int32>,
                       into y: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, accumulate: Bool,
                       scratch: ThreadScratch) {
        let k = w.cols, n = part.count, fixed = w.apartList
        // Where each column some row sets apart lies: kept by the weight after its first use,
        // or, once the weight keeps its most, gathered here for this call.
        var place = UnsafeMutablePointer<UnsafePointer<Float>?>(bitPattern: 64)!
        if (0..<m).contains(where: { apartCounts[$0] > 0 }) {
            place = scratch.reserve(6, bytes: k * 8).assumingMemoryBound(to: UnsafePointer<Float>?.self)
            place.update(repeating: nil, count: k)
            let pending = UnsafePointer<Float>(bitPattern: 1)!
            var uncached = 0
            for i in 0..<m {
                for c in 0..<Int(apartCounts[i]) where place[Int(apart[i * apartPerRow + c])] == nil {
                    let p = Int(apart[i * apartPerRow + c])
                    place[p] = w.keptColumn(p).map { $0 + part.lowerBound } ?? pending
                    if place[p] == pending { uncached += 1 }
                }
            }
            if uncached > 0 {
                let gathered = scratch.reserve(7, bytes: uncached * n * 4).assumingMemoryBound(to: Float.self)
                var next = gathered
                for p in 0..<k where place[p] == pending {
                    Int8Matrix.gather(column: p, of: w.source, cols: k, rows: part, into: next)
                    place[p] = UnsafePointer(next)
                    next += n
                }
            }
        }
        // Each row's apart elements, merged in ascending column: the value and its weight column.
        let values = scratch.reserve(8, bytes: (fixed.count + apartPerRow) * 4).assumingMemoryBound(to: Float.self)
        let columns = scratch.reserve(9, bytes: (fixed.count + apartPerRow) * 8)
            .assumingMemoryBound(to: UnsafePointer<Float>.self)
        let weightScales = w.scales + part.lowerBound, weightSums = w.sums + part.lowerBound
        for i in 0..<m {
            let own = apart + i * apartPerRow, count = Int(apartCounts[i])
            var (a, b, e) = (0, 0, 0)  // next of the weight's columns, next of the row's, entries
            while a < fixed.count || b < count {
                let p: Int
                if b == count || (a < fixed.count && fixed[a] < Int(own[b])) {
                    p = fixed[a]
                    columns[e] = UnsafePointer(w.apartWeights + a * w.rows + part.lowerBound)
                    a += 1
                } else {
                    p = Int(own[b])
                    columns[e] = place[p]!
                    b += 1
                }
                values[e] = x[i * k + p]
                e += 1
            }
            finishRow(acc + i * n, scale: rowScales[i], zero: zeroPoints[i], weightScales: weightScales,
                      weightSums: weightSums, values, columns, count: e, into: y + i * ldc, length: n,
                      bias: bias, accumulate: accumulate)
        }
    }

    /// One row of `finish`: y[j] = base[j] + scale · weightScales[j] · (acc[j] − zero ·
    /// weightSums[j]), then + values[0] · columns[0][j], + values[1] · columns[1][j], … in that
    /// order; base[j] = (y[j] if accumulate, else 0) + bias[j] (when there is one).
    @inline(__always)
    static func finishRow(_ acc: UnsafePointer<Int32>, scale: Float, zero: Int32, weightScales: UnsafePointer<Float>,
                          weightSums: UnsafePointer<Int32>, _ values: UnsafePointer<Float>,
                          _ columns: UnsafePointer<UnsafePointer<Float>>, count: Int,
                          into y: UnsafeMutablePointer<Float>, length: Int, bias: UnsafePointer<Float>?, accumulate: Bool) {
        let s = SIMD16<Float>(repeating: scale), z = SIMD16<Int32>(repeating: zero)
        let a = UnsafeRawPointer(acc), ws = UnsafeRawPointer(weightScales), sums = UnsafeRawPointer(weightSums)
        let out = UnsafeMutableRawPointer(y)
        // base + dequantized, 16 outputs from j on.
        @inline(__always) func start(_ j: Int) -> SIMD16<Float> {
            var base = accumulate ? out.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) : SIMD16<Float>()
            if let bias { base = accumulate ? base + Vector.load(bias + j) : Vector.load(bias + j) }
            let t = a.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Int32>.self)
                &- z &* sums.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Int32>.self)
            let f = s * ws.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            return base + f * Vector.float(t)
        }
        var j = 0
        // Four chunks at a time: each is a chain of dependent adds, so one alone would wait on
        // every add's latency.
        while j + 64 <= length {
            var (a0, a1, a2, a3) = (start(j), start(j + 16), start(j + 32), start(j + 48))
            for e in 0..<count {
                let v = SIMD16<Float>(repeating: values[e]), c = UnsafeRawPointer(columns[e] + j)
                a0 = a0 + v * c.loadUnaligned(fromByteOffset: 0, as: SIMD16<Float>.self)
                a1 = a1 + v * c.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                a2 = a2 + v * c.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
                a3 = a3 + v * c.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
            }
            out.storeBytes(of: a0, toByteOffset: j * 4, as: SIMD16<Float>.self)
            out.storeBytes(of: a1, toByteOffset: j * 4 + 64, as: SIMD16<Float>.self)
            out.storeBytes(of: a2, toByteOffset: j * 4 + 128, as: SIMD16<Float>.self)
            out.storeBytes(of: a3, toByteOffset: j * 4 + 192, as: SIMD16<Float>.self)
            j += 64
        }
        while j + 16 <= length {
            var sum = start(j)
            for e in 0..<count {
                sum = sum + SIMD16<Float>(repeating: values[e])
                    * UnsafeRawPointer(columns[e]).loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            }
            out.storeBytes(of: sum, toByteOffset: j * 4, as: SIMD16<Float>.self)
            j += 16
        }
        while j < length {
            var base = accumulate ? y[j] : 0
            if let bias { base = accumulate ? base + bias[j] : bias[j] }
            var sum = base + scale * weightScales[j] * Float(acc[j] &- zero &* weightSums[j])
            for e in 0..<count { sum = sum + values[e] * columns[e][j] }
            y[j] = sum
            j += 1
        }
    }

    // MARK: weights, per output channel

    /// w (rows, cols) → q with w[j, p] ≈ scales[j] · q[j, p], q in -127...127 (symmetric: the
    /// zero point is 0), and sums[j] = Σ_p q[j, p]; the columns where `apartColumns` is
    /// nonzero count as 0 (they are multiplied in fp32). Runs once per weight, at load.
    public static func quantizeWeights(_ w: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<Int8>,
                                       scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>,
                                       apartColumns: UnsafePointer<Int32>) {
        for j in 0..<rows {
            var amax: Float = 0
            for p in 0..<cols where apartColumns[p] == 0 { amax = max(amax, abs(w[j * cols + p])) }
            let scale: Float = amax > 0 && amax.isFinite ? amax / 127 : 1
            var sum: Int32 = 0
            for p in 0..<cols {
                let v = apartColumns[p] != 0 ? 0 : Int8(min(127, max(-127, (w[j * cols + p] / scale).rounded(.toNearestOrEven))))
                q[j * cols + p] = v
                sum += Int32(v)
            }
            scales[j] = scale
            sums[j] = sum
        }
    }

    /// The `count` columns of w (rows, cols) of largest max_j |w[j, p]| (the lower column on a
    /// tie), ascending.
    public static func largestColumns(_ w: UnsafePointer<Float>, rows: Int, cols: Int, count: Int) -> [Int] {
        var peak = [Float](repeating: 0, count: cols)
        for j in 0..<rows {
            for p in 0..<cols { peak[p] = max(peak[p], abs(w[j * cols + p])) }
        }
        let order = (0..<cols).sorted { peak[$0] > peak[$1] || (peak[$0] == peak[$1] && $0 < $1) }
        return order.prefix(count).sorted()
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
    /// The input channels multiplied in fp32 (one in `Int8Products.inputChannelsPerApartColumn`), ascending;
    /// `apartMask` (cols) is nonzero at them, `apartWeights` (apartList.count, rows) their columns.
    public let apartList: [Int]
    public let apartMask: UnsafeMutablePointer<Int32>
    let apartWeights: UnsafeMutablePointer<Float>
    /// Columns of the weight (rows) that rows' own apart elements used, kept for later calls:
    /// the large activations of a model fall in the same few channels. At most
    /// `keptColumnLimit`, so that no input can make it hold a second copy of the weight.
    private let kept = Locked<[Int: Column]>([:])
    private struct Column: @unchecked Sendable { let values: UnsafeMutablePointer<Float> }  // owned by the matrix
    static let keptColumnLimit = 32
    let parts: PackedParts

    /// Quantizes w and packs it whole (the packing a batch of several rows uses).
    public init(quantizing w: UnsafePointer<Float>, rows: Int, cols: Int) throws(DNNL.Failure) {
        (self.rows, self.cols, source) = (rows, cols, w)
        (scales, sums) = (.allocate(capacity: rows), .allocate(capacity: rows))
        apartList = Int8Products.largestColumns(w, rows: rows, cols: cols, count: cols / Int8Products.inputChannelsPerApartColumn)
        apartMask = .allocate(capacity: cols)
        apartMask.initialize(repeating: 0, count: cols)
        apartWeights = .allocate(capacity: apartList.count * rows)
        for (a, p) in apartList.enumerated() {
            apartMask[p] = -1
            Int8Matrix.gather(column: p, of: w, cols: cols, rows: 0..<rows, into: apartWeights + a * rows)
        }
        nonisolated(unsafe) let (w, mask) = (w, UnsafePointer(apartMask))  // read only; they outlive the parts
        parts = PackedParts { (range, ldc) throws(DNNL.Failure) in
            let n = range.count
            let values = UnsafeMutablePointer<Int8>.allocate(capacity: n * cols)
            let s = UnsafeMutablePointer<Float>.allocate(capacity: n), sum = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            defer { values.deallocate(); s.deallocate(); sum.deallocate() }
            Int8Products.quantizeWeights(w + range.lowerBound * cols, rows: n, cols: cols, into: values, scales: s, sums: sum,
                                         apartColumns: mask)
            return try PackedWeight(.u8s8, values, rows: n, cols: cols, ldc: ldc)
        }
        let values = UnsafeMutablePointer<Int8>.allocate(capacity: rows * cols)
        defer { values.deallocate() }
        Int8Products.quantizeWeights(w, rows: rows, cols: cols, into: values, scales: scales, sums: sums, apartColumns: apartMask)
        try parts.prepare(0..<rows, ldc: rows)
    }

    /// Column p of the weight (rows), gathered from the source on first use and kept; nil
    /// once `keptColumnLimit` columns are kept.
    func keptColumn(_ p: Int) -> UnsafePointer<Float>? {
        kept.withLock { kept in
            if let c = kept[p] { return UnsafePointer(c.values) }
            guard kept.count < Self.keptColumnLimit else { return nil }
            let c = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            Self.gather(column: p, of: source, cols: cols, rows: 0..<rows, into: c)
            kept[p] = Column(values: c)
            return UnsafePointer(c)
        }
    }

    /// into[j − rows.lowerBound] = w[j, p] for j in rows, w (·, cols).
    static func gather(column p: Int, of w: UnsafePointer<Float>, cols: Int, rows range: Range<Int>,
                       into column: UnsafeMutablePointer<Float>) {
        for j in range { column[j - range.lowerBound] = w[j * cols + p] }
    }

    /// Bytes held: the scales and sums, the apart columns, the kept columns, and every packed part.
    public var bytes: Int { rows * 8 + cols * 4 + (apartList.count + kept.withLock { $0.count }) * rows * 4 + parts.bytes }

    deinit {
        kept.withLock { for c in $0.values { c.values.deallocate() } }
        scales.deallocate()
        sums.deallocate()
        apartMask.deallocate()
        apartWeights.deallocate()
    }
}
