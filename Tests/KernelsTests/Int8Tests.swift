import Foundation
@testable import Kernels
import Testing

/// The int8 kernels: per-row quantization and dequantization against their naive twins bit
/// for bit, oneDNN's integer product (through both) against the naive product bit for bit, and
/// the result against the exact fp32 product within the bound the rounding allows.
@Suite(.serialized) struct Int8Tests {
    var rng = SplitMix(seed: 23)

    mutating func random(_ n: Int, scale: Float = 1, offset: Float = 0) -> [Float] {
        (0..<n).map { _ in rng.nextFloat() * 2 * scale - scale + offset }
    }

    @Test mutating func rowQuantizationMatchesNaiveBitForBit() {
        // rows of every kind: mixed signs, all positive, all negative, all zero, constant, one
        // huge value, lengths that leave a tail after the 16-wide loop
        for cols in [1, 15, 16, 17, 384, 389] {
            var x: [Float] = []
            x += random(cols, scale: 3)
            x += random(cols, scale: 1, offset: 2)
            x += random(cols, scale: 1, offset: -2)
            x += [Float](repeating: 0, count: cols)
            x += [Float](repeating: 0.7, count: cols)
            var spike = random(cols, scale: 0.01)
            spike[cols / 2] = 1e6
            x += spike
            let rows = x.count / cols
            var qf = [UInt8](repeating: 0, count: x.count), qs = qf
            var sf = [Float](repeating: 0, count: rows), ss = sf, zf = [Int32](repeating: 0, count: rows), zs = zf
            let none = [Int32](repeating: 0, count: cols)
            var apart = [Int32](repeating: 0, count: rows * Int8Products.apartPerRow), counts = [Int32](repeating: 0, count: rows)
            Int8Products.quantizeRows(x, rows: rows, cols: cols, into: &qf, scales: &sf, zeroPoints: &zf,
                                      apartColumns: none, threshold: .infinity, apart: &apart, apartCounts: &counts)
            #expect(counts.allSatisfy { $0 == 0 })
            Int8Products.naiveQuantizeRows(x, rows: rows, cols: cols, into: &qs, scales: &ss, zeroPoints: &zs,
                                           apartColumns: none, threshold: .infinity, apart: &apart, apartCounts: &counts)
            #expect(qf == qs && sf == ss && zf == zs, "cols \(cols)")
            // each value within half a step of scale · (q − zero); zero exact
            for r in 0..<rows {
                for i in 0..<cols {
                    let v = x[r * cols + i], back = sf[r] * Float(Int32(qf[r * cols + i]) - zf[r])
                    #expect(abs(back - v) <= sf[r] * 0.5001, "row \(r) col \(i): \(v) → \(back)")
                    if v == 0 { #expect(back == 0) }
                }
            }
        }
    }

    /// Elements set apart: the given columns in every row, and each row's own above the
    /// threshold, listed in ascending column, counted as 0 in the row's steps; a row with more
    /// than `apartPerRow` of its own lists none and keeps them in its range.
    @Test mutating func apartElementsMatchNaiveBitForBit() {
        let cap = Int8Products.apartPerRow
        for cols in [17, 64, 389] {
            var mask = [Int32](repeating: 0, count: cols)
            for p in [0, cols / 3, cols - 1] { mask[p] = -1 }
            var x: [Float] = []
            var some = random(cols, scale: 1)
            some[1] = 9; some[cols / 2] = -30; some[cols - 1] = 50  // the last is in an apart column
            x += some
            x += random(cols, scale: 1)                              // none above 4
            var many = random(cols, scale: 1)
            for p in 0..<cols where p % 5 == 1 { many[p] = 6 }       // 78 of 389 above 4: too many
            x += many
            var exact = random(cols, scale: 1)
            exact[2] = 4; exact[3] = -4                              // at the threshold: not apart
            x += exact
            let rows = x.count / cols
            var qf = [UInt8](repeating: 0, count: x.count), qs = qf
            var sf = [Float](repeating: 0, count: rows), ss = sf, zf = [Int32](repeating: 0, count: rows), zs = zf
            var af = [Int32](repeating: -7, count: rows * cap), asl = af
            var cf = [Int32](repeating: -7, count: rows), cs = cf
            Int8Products.quantizeRows(x, rows: rows, cols: cols, into: &qf, scales: &sf, zeroPoints: &zf,
                                      apartColumns: mask, apart: &af, apartCounts: &cf)
            Int8Products.naiveQuantizeRows(x, rows: rows, cols: cols, into: &qs, scales: &ss, zeroPoints: &zs,
                                           apartColumns: mask, apart: &asl, apartCounts: &cs)
            #expect(qf == qs && sf == ss && zf == zs && cf == cs, "cols \(cols)")
            for r in 0..<rows { #expect(Array(af[r * cap..<r * cap + Int(cf[r])]) == Array(asl[r * cap..<r * cap + Int(cs[r])])) }
            #expect(Array(af[0..<Int(cf[0])]) == [1, Int32(cols / 2)], "cols \(cols)")
            #expect(cf[1] == 0 && cf[3] == 0)
            let tooMany = (0..<cols).filter { $0 % 5 == 1 && mask[$0] == 0 }.count > cap
            #expect(cf[2] == (tooMany ? 0 : Int32((0..<cols).filter { $0 % 5 == 1 && mask[$0] == 0 }.count)))
            // Apart elements are 0 in the integer row: exactly the zero point.
            for r in 0..<rows {
                let own = Set(af[r * cap..<r * cap + Int(cf[r])].map(Int.init))
                for p in 0..<cols where mask[p] != 0 || own.contains(p) { #expect(Int32(qf[r * cols + p]) == zf[r]) }
            }
            // The first row's step is set by what stays (|x| ≤ 1), not by 50 or -30.
            #expect(sf[0] < 2.0 / 250)
            if tooMany { #expect(sf[2] >= 6.0 / 255) }
        }
    }

    @Test mutating func dequantizationMatchesNaiveBitForBit() {
        let (rows, cols, ldc) = (7, 37, 41)
        let acc = (0..<rows * cols).map { _ in Int32(truncatingIfNeeded: rng.next() % 2_000_001) - 1_000_000 }
        let rs = random(rows, scale: 0.01, offset: 0.02), ws = random(cols, scale: 0.01, offset: 0.02)
        let zs = (0..<rows).map { Int32($0 * 37 % 256) }, sums = (0..<cols).map { Int32($0 * 811 % 4001) - 2000 }
        let y0 = random(rows * ldc)
        var fast = y0, slow = y0
        Int8Products.dequantize(acc, rows: rows, cols: cols, rowScales: rs, zeroPoints: zs, weightScales: ws,
                                weightSums: sums, into: &fast, ldc: ldc)
        Int8Products.naiveDequantize(acc, rows: rows, cols: cols, rowScales: rs, zeroPoints: zs, weightScales: ws,
                                     weightSums: sums, into: &slow, ldc: ldc)
        #expect(fast == slow)
        for r in 0..<rows { for j in cols..<ldc { #expect(fast[r * ldc + j] == y0[r * ldc + j]) } }
    }

    @Test mutating func weightQuantizationIsPerChannelAndSymmetric() {
        let (rows, cols) = (5, 300)
        var w = random(rows * cols, scale: 0.2)
        for p in 0..<cols { w[2 * cols + p] = 0 }  // an all-zero channel
        w[3 * cols + 7] = 40                         // one outlier: only its channel's scale grows
        var q = [Int8](repeating: 0, count: w.count), scales = [Float](repeating: 0, count: rows), sums = [Int32](repeating: 0, count: rows)
        Int8Products.quantizeWeights(w, rows: rows, cols: cols, into: &q, scales: &scales, sums: &sums,
                                     apartColumns: [Int32](repeating: 0, count: cols))
        for j in 0..<rows {
            let amax = (0..<cols).map { abs(w[j * cols + $0]) }.max()!
            #expect(scales[j] == (amax > 0 ? amax / 127 : 1))
            #expect(sums[j] == (0..<cols).reduce(Int32(0)) { $0 + Int32(q[j * cols + $1]) })
            for p in 0..<cols {
                #expect(abs(scales[j] * Float(q[j * cols + p]) - w[j * cols + p]) <= scales[j] * 0.5001)
                #expect(q[j * cols + p] >= -127)
            }
        }
        #expect(scales[3] > 100 * scales[0])
    }

    /// oneDNN's u8×s8 product (rows in pieces of 256, 128, …, 1) through the fast quantizer,
    /// dequantizer and apart elements against the naive twin, whole and for a range of the
    /// weight's rows, with large activations in every third row.
    @Test mutating func productMatchesNaiveBitForBit() throws {
        try Int8Products.check()
        let (n, k, ldc) = (45, 389, 50)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try Int8Matrix(quantizing: w.pointer, rows: n, cols: k)
        #expect(weight.apartList.count == k / Int8Products.inputChannelsPerApartColumn && weight.apartList.count == 2)
        for m in [1, 37, 300] {
            var x = random(m * k, scale: 2)
            for i in stride(from: 0, to: m, by: 3) { x[i * k + (i * 7) % k] = 12; x[i * k + (i * 13 + 5) % k] = -9 }
            let y0 = random(m * ldc)
            var slow = y0  // every column, added to what y held, as the fast product does
            Int8Products.naiveMultiply(x, weight: weight, into: &slow, rows: m, ldc: ldc)
            for part in [0..<n, 5..<40] {
                var fast = y0
                fast.withUnsafeMutableBufferPointer {
                    Int8Products.multiply(x, weight: weight, weightRows: part, into: $0.baseAddress! + part.lowerBound, rows: m, ldc: ldc)
                }
                var mismatches = 0
                for i in 0..<m {
                    for j in 0..<ldc where fast[i * ldc + j] != (part.contains(j) ? slow[i * ldc + j] : y0[i * ldc + j]) {
                        mismatches += 1
                    }
                }
                #expect(mismatches == 0, "m \(m), rows \(part)")
            }
        }
        #expect(weight.parts.part(0..<n, ldc: n).implementation.contains("vnni"))
    }

    /// The bias and the overwriting form (what Linear calls: y = bias + x · wᵀ, and the residual
    /// y += bias + x · wᵀ) against the naive twin, for a range of the weight's rows too.
    @Test mutating func biasAndOverwriteMatchNaiveBitForBit() throws {
        try Int8Products.check()
        let (n, k, m, ldc) = (48, 400, 21, 52)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try Int8Matrix(quantizing: w.pointer, rows: n, cols: k)
        var x = random(m * k, scale: 2)
        for i in stride(from: 0, to: m, by: 2) { x[i * k + (i * 5) % k] = 9 }
        let bias = random(n), y0 = random(m * ldc)
        for accumulate in [true, false] {
            for withBias in [true, false] {
                var slow = y0
                bias.withUnsafeBufferPointer { b in
                    Int8Products.naiveMultiply(x, weight: weight, into: &slow, rows: m, ldc: ldc,
                                               bias: withBias ? b.baseAddress! : nil, accumulate: accumulate)
                }
                for part in [0..<n, 7..<40] {
                    var fast = y0
                    fast.withUnsafeMutableBufferPointer { y in
                        bias.withUnsafeBufferPointer { b in
                            Int8Products.multiply(x, weight: weight, weightRows: part, into: y.baseAddress! + part.lowerBound,
                                                  rows: m, ldc: ldc, bias: withBias ? b.baseAddress! + part.lowerBound : nil,
                                                  accumulate: accumulate)
                        }
                    }
                    var mismatches = 0
                    for i in 0..<m {
                        for j in 0..<ldc where fast[i * ldc + j] != (part.contains(j) ? slow[i * ldc + j] : y0[i * ldc + j]) {
                            mismatches += 1
                        }
                    }
                    #expect(mismatches == 0, "accumulate \(accumulate), bias \(withBias), rows \(part)")
                }
            }
        }
    }

    /// A row's result does not depend on the rows beside it (300 rows run as blocks of 256
    /// and 44; each row's apart elements are its own), so a sentence embeds the same alone
    /// or in any batch.
    @Test mutating func eachRowIsTheSameAloneOrInABatch() throws {
        try Int8Products.check()
        let (n, k, m) = (70, 400, 300)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try Int8Matrix(quantizing: w.pointer, rows: n, cols: k)
        var x = random(m * k, scale: 2)
        for i in 0..<m where i % 2 == 0 { x[i * k + (i * 11) % k] = Float(5 + i % 20) }
        var batch = [Float](repeating: 0, count: m * n)
        Int8Products.multiply(x, weight: weight, into: &batch, rows: m)
        for i in [0, 1, 255, 256, 299] {
            var alone = [Float](repeating: 0, count: n)
            Array(x[i * k..<(i + 1) * k]).withUnsafeBufferPointer {
                Int8Products.multiply($0.baseAddress!, weight: weight, into: &alone, rows: 1)
            }
            #expect(alone == Array(batch[i * n..<(i + 1) * n]), "row \(i)")
        }
    }

    /// Keeping large activations and the weight's largest channels apart brings the product
    /// closer to the exact one than the integer product of the same inputs alone would be.
    @Test mutating func apartElementsBringTheProductCloser() throws {
        try Int8Products.check()
        let (rows, inF, outF) = (64, 384, 96)
        var x = random(rows * inF, scale: 1)
        for i in 0..<rows { x[i * inF + 17] = 25; x[i * inF + 200] = -12 }  // outlier channels, as LayerNorm's
        var wv = random(outF * inF, scale: 0.05)
        for j in 0..<outF { wv[j * inF + 300] = 1.5 }                        // a weight outlier channel
        let w = Stable(wv)
        let weight = try Int8Matrix(quantizing: w.pointer, rows: outF, cols: inF)
        #expect(weight.apartList.contains(300))
        var y = [Float](repeating: 0, count: rows * outF)
        Int8Products.multiply(x, weight: weight, into: &y, rows: rows)
        var exact = [Float](repeating: 0, count: rows * outF)
        Gemm.naiveMultiply(x, w.pointer, into: &exact, m: rows, n: outF, k: inF, transposeB: true)
        // The same scheme with nothing apart, by the naive twins' steps.
        let none = [Int32](repeating: 0, count: inF)
        var q = [UInt8](repeating: 0, count: x.count), sx = [Float](repeating: 0, count: rows), zx = [Int32](repeating: 0, count: rows)
        var apart = [Int32](repeating: 0, count: rows * Int8Products.apartPerRow), counts = [Int32](repeating: 0, count: rows)
        Int8Products.naiveQuantizeRows(x, rows: rows, cols: inF, into: &q, scales: &sx, zeroPoints: &zx,
                                       apartColumns: none, threshold: .infinity, apart: &apart, apartCounts: &counts)
        var qw = [Int8](repeating: 0, count: wv.count), sw = [Float](repeating: 0, count: outF), sums = [Int32](repeating: 0, count: outF)
        Int8Products.quantizeWeights(wv, rows: outF, cols: inF, into: &qw, scales: &sw, sums: &sums, apartColumns: none)
        var plain = [Float](repeating: 0, count: rows * outF)
        for i in 0..<rows {
            for j in 0..<outF {
                var s = 0
                for p in 0..<inF { s += (Int(q[i * inF + p]) - Int(zx[i])) * Int(qw[j * inF + p]) }
                plain[i * outF + j] = sx[i] * sw[j] * Float(s)
            }
        }
        func error(_ v: [Float]) -> Double {
            zip(v, exact).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        }
        print("int8 product error against exact: \(error(y)) with apart elements, \(error(plain)) without")
        #expect(error(y) < error(plain) / 4)
    }

    /// Against the exact product of the fp32 inputs: with x ≈ sx·(qx − zx) within sx/2 and
    /// w ≈ sw·qw within sw/2, each term errs by at most |x|·sw/2 + |w|·sx/2 + sx·sw/4, so
    /// |Δ| ≤ Σ_p of that (and fp32 rounding of the result).
    @Test mutating func productWithinTheQuantizationBound() throws {
        try Int8Products.check()
        let (rows, inF, outF) = (70, 384, 100)
        let x = random(rows * inF, scale: 2), w = Stable(random(outF * inF, scale: 0.05))
        let weight = try Int8Matrix(quantizing: w.pointer, rows: outF, cols: inF)
        var y = [Float](repeating: 0, count: rows * outF)
        Int8Products.multiply(x, weight: weight, into: &y, rows: rows)
        var exact = [Float](repeating: 0, count: rows * outF)
        Gemm.naiveMultiply(x, w.pointer, into: &exact, m: rows, n: outF, k: inF, transposeB: true)
        var q = [UInt8](repeating: 0, count: x.count), sx = [Float](repeating: 0, count: rows), zx = [Int32](repeating: 0, count: rows)
        var apart = [Int32](repeating: 0, count: rows * Int8Products.apartPerRow), counts = [Int32](repeating: 0, count: rows)
        Int8Products.naiveQuantizeRows(x, rows: rows, cols: inF, into: &q, scales: &sx, zeroPoints: &zx,
                                       apartColumns: weight.apartMask, apart: &apart, apartCounts: &counts)
        var worst = 0.0, errorSquares = 0.0, squares = 0.0
        for i in 0..<rows {
            for j in 0..<outF {
                let sw = Double(weight.scales[j]), s = Double(sx[i])
                let bound = (0..<inF).reduce(0.0) {
                    $0 + abs(Double(x[i * inF + $1])) * sw / 2 + abs(Double(w.pointer[j * inF + $1])) * s / 2 + s * sw / 4
                } + 1e-6 * abs(Double(exact[i * outF + j]))
                let d = Double(y[i * outF + j] - exact[i * outF + j])
                worst = max(worst, abs(d) / bound)
                errorSquares += d * d
                squares += Double(exact[i * outF + j]) * Double(exact[i * outF + j])
            }
        }
        #expect(worst <= 1)
        #expect((errorSquares / squares).squareRoot() < 0.02)
    }

    @Test func vnniIsReportedAsTheCPUsFlags() throws {
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let vnni = info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512_vnni") }
        #expect(DNNL.hasVNNI == vnni)
        #expect((try? Int8Products.check()) != nil || !vnni)
    }
}
