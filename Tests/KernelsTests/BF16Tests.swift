import Foundation
@testable import Kernels
import Testing

/// The bf16 kernels: rounding against its naive twin, bit for bit; oneDNN's product against its naive
/// twin and against the fp32 product, within bounds that follow from the rounding.
/// The products run on oneDNN (tools/setup installs libdnnl-dev); on a CPU without avx512_bf16
/// they fail, saying so.
@Suite(.serialized) struct BF16Tests {
    var rng = SplitMix(seed: 11)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.nextFloat() * 2 * scale - scale }
    }

    func requireLibrary() throws {
        do { try BF16.check() } catch { throw LibraryMissing(description: "\(error)") }
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

    /// oneDNN's product (rows cut into pieces of 256, 128, …, 1: 300 = 256 + 32 + 8 + 4, and
    /// 37 = 32 + 4 + 1) against the naive twin on the same bf16 inputs, whole and for a range
    /// of the weight's rows written into wider output rows, accumulating (beta 1) and not.
    @Test mutating func productMatchesNaiveOnTheSameBF16Inputs() throws {
        try requireLibrary()
        let (n, k, ldc) = (45, 389, 50)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try BF16Matrix(converting: w.pointer, rows: n, cols: k)
        for m in [1, 37, 300] {
            let a = random(m * k), c0 = random(m * ldc)
            for (part, beta) in [(0..<n, Float(1)), (5..<40, 1), (0..<n, 0)] {
                var fast = c0
                fast.withUnsafeMutableBufferPointer {
                    BF16.multiply(a, weight: weight, weightRows: part, into: $0.baseAddress! + part.lowerBound, rows: m, beta: beta, ldc: ldc)
                }
                var slow = c0
                BF16.naiveMultiply(a, weight: weight, into: &slow, rows: m, beta: beta, ldc: ldc)
                // Products of bf16 values are exact in fp32; only fp32 accumulation differs: k·2⁻²³·Σ|a||w|.
                var a16 = [UInt16](repeating: 0, count: a.count), w16 = [UInt16](repeating: 0, count: n * k)
                BF16.naiveConvert(a, into: &a16, count: a.count)
                BF16.naiveConvert(w.pointer, into: &w16, count: n * k)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        guard part.contains(j) else {  // outside the part: untouched
                            #expect(fast[i * ldc + j] == c0[i * ldc + j])
                            continue
                        }
                        let scale = (0..<k).reduce(0.0) { $0 + abs(Double(BF16.float(a16[i * k + $1])) * Double(BF16.float(w16[j * k + $1]))) }
                            + (beta == 0 ? 0 : abs(Double(c0[i * ldc + j])))
                        worst = max(worst, abs(Double(fast[i * ldc + j] - slow[i * ldc + j])) / (Double(k + 1) * 0x1p-23 * scale + 1e-30))
                    }
                }
                #expect(worst <= 1, "m \(m), rows \(part), beta \(beta)")
            }
        }
    }

    /// The products with oneDNN's post-ops against the naive twin on the same bf16 inputs: the
    /// bias (with and without the old y), x given already rounded, and the feed-forward's first
    /// product with its activation and bf16 output, whole and for a range of the weight's rows
    /// written into wider rows. Before rounding they differ by the fp32 accumulation (as above,
    /// with the bias's and old y's terms) times the activation's slope (≤ 1.13) plus its erf's
    /// few 1e-7; rounding both to bf16 adds at most one bf16 step, 2⁻⁷·|y|.
    @Test mutating func biasActivationAndRoundedOutputMatchNaive() throws {
        try requireLibrary()
        let (n, k, ldc) = (45, 389, 50)
        let w = Stable(random(n * k, scale: 0.1)), bias = random(n, scale: 0.5)
        let weight = try BF16Matrix(converting: w.pointer, rows: n, cols: k)
        var w16 = [UInt16](repeating: 0, count: n * k)
        BF16.naiveConvert(w.pointer, into: &w16, count: n * k)
        for m in [1, 37, 300] {
            let a = random(m * k, scale: 3), c0 = random(m * ldc)
            var a16 = [UInt16](repeating: 0, count: a.count)
            BF16.naiveConvert(a, into: &a16, count: a.count)
            func bound(_ i: Int, _ j: Int, old: Bool) -> Double {
                let scale = (0..<k).reduce(0.0) { $0 + abs(Double(BF16.float(a16[i * k + $1])) * Double(BF16.float(w16[j * k + $1]))) }
                    + abs(Double(bias[j])) + (old ? abs(Double(c0[i * ldc + j])) : 0)
                return Double(k + 2) * 0x1p-23 * scale + 1e-30
            }
            for part in [0..<n, 5..<40] {
                let b = bias.withUnsafeBufferPointer { $0.baseAddress! + part.lowerBound }
                for (beta, rounded) in [(Float(0), false), (1, false), (1, true)] {
                    var fast = c0, slow = c0
                    fast.withUnsafeMutableBufferPointer { y in
                        if rounded {
                            BF16.multiply(rounded: a16, weight: weight, weightRows: part, into: y.baseAddress! + part.lowerBound,
                                          rows: m, beta: beta, ldc: ldc, bias: b)
                        } else {
                            BF16.multiply(a, weight: weight, weightRows: part, into: y.baseAddress! + part.lowerBound,
                                          rows: m, beta: beta, ldc: ldc, bias: b)
                        }
                    }
                    BF16.naiveMultiply(a, weight: weight, into: &slow, rows: m, beta: beta, ldc: ldc, bias: bias)
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            guard part.contains(j) else {
                                #expect(fast[i * ldc + j] == c0[i * ldc + j])
                                continue
                            }
                            worst = max(worst, abs(Double(fast[i * ldc + j] - slow[i * ldc + j])) / bound(i, j, old: beta == 1))
                        }
                    }
                    #expect(worst <= 1, "m \(m), rows \(part), beta \(beta), rounded input \(rounded)")
                }
                for activation in Activation.allCases {
                    let untouched = UInt16(0x7fc1)  // a NaN no product writes
                    var fast = [UInt16](repeating: untouched, count: m * ldc), slow = [Float](repeating: 0, count: m * ldc)
                    fast.withUnsafeMutableBufferPointer { y in
                        BF16.multiplyActivated(a, weight: weight, weightRows: part, bias: b, activation: activation,
                                               into: y.baseAddress! + part.lowerBound, rows: m, ldc: ldc)
                    }
                    BF16.naiveMultiply(a, weight: weight, into: &slow, rows: m, ldc: ldc, bias: bias, activation: activation)
                    var slow16 = [UInt16](repeating: 0, count: slow.count)
                    BF16.naiveConvert(slow, into: &slow16, count: slow.count)
                    var worst = 0.0, exact = 0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            guard part.contains(j) else {
                                #expect(fast[i * ldc + j] == untouched)
                                continue
                            }
                            let y = Double(slow[i * ldc + j])
                            let allowed = 1.13 * bound(i, j, old: false) + 1e-6 * abs(y) + 3e-7 + 0x1p-7 * abs(y)
                            worst = max(worst, abs(Double(BF16.float(fast[i * ldc + j])) - Double(BF16.float(slow16[i * ldc + j]))) / allowed)
                            if fast[i * ldc + j] == slow16[i * ldc + j] { exact += 1 }
                        }
                    }
                    #expect(worst <= 1, "m \(m), rows \(part), \(activation)")
                    // Nearly all round to the same bf16 value: the activation ran, and on these values.
                    #expect(Double(exact) >= 0.95 * Double(m * part.count), "m \(m), rows \(part), \(activation): \(exact) equal")
                }
            }
        }
        // Parts written into wider rows ran densely, on brgemm: not on gemm:jit, which copies both operands each call.
        #expect(weight.parts.implementations.allSatisfy { $0.hasPrefix("brg:") }, "\(weight.parts.implementations)")
    }

    /// y = x · Wᵀ from fp32 x and W through bf16, against the exact product of the fp32 inputs:
    /// each input rounds by at most 2⁻⁹ (relative), so each term by 2⁻⁸ + 2⁻¹⁸, plus fp32
    /// accumulation: |Δ| ≤ (2⁻⁸ + k·2⁻²³)·Σ|x||w| per element. Over the whole matrix the error is
    /// random in sign: relative Frobenius error below 2⁻⁸ (measured about 0.0016 here).
    @Test mutating func productOfRoundedInputsWithinTheRoundingBound() throws {
        try requireLibrary()
        let (rows, inF, outF) = (70, 384, 100)
        let x = random(rows * inF, scale: 2), w = Stable(random(outF * inF, scale: 0.05))
        let weight = try BF16Matrix(converting: w.pointer, rows: outF, cols: inF)
        var y = [Float](repeating: 0, count: rows * outF)
        BF16.multiply(x, weight: weight, into: &y, rows: rows)
        var exact = [Float](repeating: 0, count: rows * outF)
        Gemm.naiveMultiply(x, w.pointer, into: &exact, m: rows, n: outF, k: inF, transposeB: true)
        var worst = 0.0, errorSquares = 0.0, squares = 0.0
        for i in 0..<rows {
            for j in 0..<outF {
                let scale = (0..<inF).reduce(0.0) { $0 + abs(Double(x[i * inF + $1]) * Double(w.pointer[j * inF + $1])) }
                let d = Double(y[i * outF + j] - exact[i * outF + j])
                worst = max(worst, abs(d) / ((0x1p-8 + Double(inF) * 0x1p-23) * scale))
                errorSquares += d * d
                squares += Double(exact[i * outF + j]) * Double(exact[i * outF + j])
            }
        }
        #expect(worst <= 1)
        #expect((errorSquares / squares).squareRoot() < 0x1p-8)
        #expect(weight.parts.part(0..<outF, ldc: outF).implementation.contains("avx512_core_bf16"))
    }

    /// The training products' gemm (both operands rounded each call) against its naive twin, in
    /// every transpose (the Linear's forward x·Wᵀ, its backward dyᵀ·x and dy·W), with padded
    /// leading dimensions, alpha and beta: the bf16 products are exact in fp32, so only the fp32
    /// accumulation differs, |Δ| ≤ (k + 1)·2⁻²³·(Σ|a||b| + |beta·c|). And it does round: against
    /// the fp32 product of the unrounded inputs it is off by more than that bound somewhere.
    @Test mutating func gemmMatchesNaiveAndRounds() throws {
        try requireLibrary()
        for (m, n, k) in [(37, 45, 300), (1, 7, 5), (64, 33, 129)] {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                let (lda, ldb, ldc) = ((ta ? m : k) + 3, (tb ? k : n) + 1, n + 2)
                let a = random((ta ? k : m) * lda), b = random((tb ? n : k) * ldb, scale: 0.2), c0 = random(m * ldc)
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1)] {
                    var fast = c0, slow = c0, fp32 = c0
                    BF16.gemm(a, b, into: &fast, m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta,
                              lda: lda, ldb: ldb, ldc: ldc)
                    BF16.naiveGemm(a, b, into: &slow, m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta,
                                   lda: lda, ldb: ldb, ldc: ldc)
                    Gemm.naiveMultiply(a, b, into: &fp32, m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: alpha, beta: beta,
                                       lda: lda, ldb: ldb, ldc: ldc)
                    var worst = 0.0, roundedAway = 0.0
                    for i in 0..<m {
                        for j in 0..<ldc {
                            guard j < n else {  // the padding of c's rows: untouched
                                #expect(fast[i * ldc + j] == c0[i * ldc + j])
                                continue
                            }
                            let scale = (0..<k).reduce(0.0) { sum, p in
                                sum + abs(Double(ta ? a[p * lda + i] : a[i * lda + p]) * Double(tb ? b[j * ldb + p] : b[p * ldb + j]))
                            } * Double(alpha) + abs(Double(beta * c0[i * ldc + j]))
                            let bound = Double(k + 1) * 0x1p-23 * scale + 1e-30
                            worst = max(worst, abs(Double(fast[i * ldc + j] - slow[i * ldc + j])) / bound)
                            roundedAway = max(roundedAway, abs(Double(fast[i * ldc + j] - fp32[i * ldc + j])) / bound)
                        }
                    }
                    let shape = "m \(m) n \(n) k \(k) transposes \(ta) \(tb) beta \(beta)"
                    #expect(worst <= 1, "\(shape)")
                    #expect(roundedAway > 1, "\(shape): no sign of bf16 rounding")
                }
            }
        }
    }
}

/// Floats at an address that stays valid as long as this object (a matrix's source must).
final class Stable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: values.count)
        pointer.initialize(from: values, count: values.count)
    }
    deinit { pointer.deallocate() }
}
