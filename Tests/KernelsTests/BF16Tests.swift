import Foundation
@testable import Kernels
import Testing

/// The bf16 kernels: rounding against its naive twin, bit for bit; sbgemm against its naive
/// twin and against the fp32 product, within bounds that follow from the rounding.
/// The products need the library of tools/build_openblas_bf16 (tools/setup builds it):
/// without it they fail, saying so; only a CPU without avx512_bf16 skips them.
@Suite(.serialized) struct BF16Tests {
    var rng = SplitMix(seed: 11)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.nextFloat() * 2 * scale - scale }
    }

    func requireLibrary() throws {
        do { try BF16.check() } catch { throw LibraryMissing(description: "\(error) (tools/setup runs tools/build_openblas_bf16)") }
    }

    struct LibraryMissing: Error, CustomStringConvertible { let description: String }

    @Test mutating func conversionMatchesNaiveBitForBit() {
        // every kind of float: random bit patterns (NaNs, infinities, subnormals included),
        // exact ties of both parities, the largest floats (which round to infinity), signed zeros
        var x = (0..<100_003).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        for high in [UInt32(0x3f80), 0x3f81, 0x7f7f, 0x7f7e, 0x0000, 0x0001, 0xbf80, 0xbf81, 0xff7f] {
            for low in [UInt32(0x8000), 0x7fff, 0x8001, 0xffff, 0x0000] { x.append(Float(bitPattern: high << 16 | low)) }
        }
        x += [0, -0, .infinity, -.infinity, .nan, -.nan, .signalingNaN, .greatestFiniteMagnitude,
              -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 1, -1, 1e-40]
        x += random(1001, scale: 3)
        var fast = [UInt16](repeating: 0, count: x.count), slow = fast
        BF16.convert(x, into: &fast, count: x.count)
        BF16.naiveConvert(x, into: &slow, count: x.count)
        let mismatches = (0..<x.count).filter { fast[$0] != slow[$0] }
        #expect(mismatches.isEmpty, "first: \(mismatches.prefix(5).map { String(x[$0].bitPattern, radix: 16) })")
        // ties go to the even neighbour; the largest float rounds up to infinity
        let named: [Float] = [1, 1 + 0x1p-8, 1 + 3 * 0x1p-8, -(1 + 3 * 0x1p-8), .greatestFiniteMagnitude, 0x1p-130]
        var rounded = [UInt16](repeating: 0, count: named.count)
        BF16.convert(named, into: &rounded, count: named.count)
        #expect(rounded.map(BF16.float) == [1, 1, 1 + 4 * 0x1p-8, -(1 + 4 * 0x1p-8), .infinity, 0x1p-130])
        #expect(zip(x, fast).allSatisfy { $0.isNaN == BF16.float($1).isNaN })
    }

    @Test mutating func productMatchesNaiveOnTheSameBF16Inputs() throws {
        try requireLibrary()
        let (m, n, k, ldc) = (37, 45, 389, 50)
        let a = random(m * k), w = random(n * k, scale: 0.1), c0 = random(m * ldc)
        var a16 = [UInt16](repeating: 0, count: a.count), w16 = [UInt16](repeating: 0, count: w.count)
        BF16.convert(a, into: &a16, count: a.count)
        BF16.convert(w, into: &w16, count: w.count)
        var fast = c0, slow = c0
        BF16.multiply(a16, w16, into: &fast, m: m, n: n, k: k, beta: 1, ldc: ldc)
        BF16.naiveMultiply(a16, w16, into: &slow, m: m, n: n, k: k, beta: 1, ldc: ldc)
        // Products of bf16 values are exact in fp32; only fp32 accumulation differs: k·2⁻²³·Σ|a||w|.
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                let scale = (0..<k).reduce(0.0) { $0 + abs(Double(BF16.float(a16[i * k + $1])) * Double(BF16.float(w16[j * k + $1]))) }
                worst = max(worst, abs(Double(fast[i * ldc + j] - slow[i * ldc + j])) / (Double(k) * 0x1p-23 * scale + 1e-30))
            }
            for j in n..<ldc { #expect(fast[i * ldc + j] == c0[i * ldc + j]) }  // past n: untouched
        }
        #expect(worst <= 1)
    }

    /// y = x · Wᵀ from fp32 x and W through bf16, against the exact product of the fp32 inputs:
    /// each input rounds by at most 2⁻⁹ (relative), so each term by 2⁻⁸ + 2⁻¹⁸, plus fp32
    /// accumulation: |Δ| ≤ (2⁻⁸ + k·2⁻²³)·Σ|x||w| per element. Over the whole matrix the error is
    /// random in sign: relative Frobenius error below 2⁻⁸ (measured about 0.0016 here).
    @Test mutating func productOfRoundedInputsWithinTheRoundingBound() throws {
        try requireLibrary()
        let (rows, inF, outF) = (70, 384, 100)
        let x = random(rows * inF, scale: 2), w = random(outF * inF, scale: 0.05)
        let weight = w.withUnsafeBufferPointer { BF16Matrix(converting: $0.baseAddress!, rows: outF, cols: inF) }
        var y = [Float](repeating: 0, count: rows * outF)
        BF16.multiply(x, weight: weight, into: &y, rows: rows)
        var exact = [Float](repeating: 0, count: rows * outF)
        Gemm.naiveMultiply(x, w, into: &exact, m: rows, n: outF, k: inF, transposeB: true)
        var worst = 0.0, errorSquares = 0.0, squares = 0.0
        for i in 0..<rows {
            for j in 0..<outF {
                let scale = (0..<inF).reduce(0.0) { $0 + abs(Double(x[i * inF + $1]) * Double(w[j * inF + $1])) }
                let d = Double(y[i * outF + j] - exact[i * outF + j])
                worst = max(worst, abs(d) / ((0x1p-8 + Double(inF) * 0x1p-23) * scale))
                errorSquares += d * d
                squares += Double(exact[i * outF + j]) * Double(exact[i * outF + j])
            }
        }
        #expect(worst <= 1)
        #expect((errorSquares / squares).squareRoot() < 0x1p-8)
        #expect(BF16.library?.core.lowercased() == "cooperlake")
    }
}
