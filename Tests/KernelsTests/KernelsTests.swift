import Foundation
import Kernels
import Testing

/// Each fast kernel against its naive twin, on seeded random data of awkward sizes
/// (not multiples of 16, so the SIMD tails run too).
struct KernelsTests {
    var rng = SplitMix(seed: 7)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.nextFloat() * 2 * scale - scale }
    }

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    mutating func gemmMatchesNaive(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (37, 29, 53)
        let a = random(m * k), b = random(k * n), c0 = random(m * n)
        var fast = c0, slow = c0
        Gemm.multiply(a, b, into: &fast, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 0.5, beta: 2)
        Gemm.naiveMultiply(a, b, into: &slow, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, alpha: 0.5, beta: 2)
        #expect(maxDifference(fast, slow) < 1e-5)
    }

    @Test mutating func stridedGemmReadsOnlyItsBlock() {
        // a (4, 3) inside rows of 10, b (5, 3) inside rows of 10, c (4, 5) inside rows of 7
        let a = random(40), b = random(50)
        var fast = [Float](repeating: 9, count: 28), slow = fast
        Gemm.multiply(a, b, into: &fast, m: 4, n: 5, k: 3, transposeB: true, lda: 10, ldb: 10, ldc: 7)
        Gemm.naiveMultiply(a, b, into: &slow, m: 4, n: 5, k: 3, transposeB: true, lda: 10, ldb: 10, ldc: 7)
        #expect(maxDifference(fast, slow) < 1e-6)
        #expect(fast[5] == 9 && fast[6] == 9)  // outside the block: untouched
    }

    /// Rows few enough for the 16-column blocks (on the SkylakeX family), for 8, and too many.
    @Test(arguments: [1, 7, 23, 40, 90, 151])
    mutating func weightProductMatchesNaive(rows m: Int) {
        // w (n, k) inside rows of 70 floats; c (m, n) inside rows of 110 floats
        let (n, k, ldw, ldc) = (100, 64, 70, 110)
        let a = random(m * k), w = random(n * ldw), c0 = random(m * ldc)
        var fast = c0, slow = c0
        Gemm.multiplyWeight(a, w, into: &fast, m: m, n: n, k: k, beta: 1, ldw: ldw, ldc: ldc)
        Gemm.naiveMultiply(a, w, into: &slow, m: m, n: n, k: k, transposeB: true, beta: 1, ldb: ldw, ldc: ldc)
        #expect(maxDifference(fast, slow) < 1e-4)
        for r in 0..<m { #expect(fast[r * ldc + n..<(r + 1) * ldc] == c0[r * ldc + n..<(r + 1) * ldc]) }
        #expect(Gemm.weightBlock(m: m, n: n, k: k) == (!Gemm.hasSmallKernels ? nil : m <= 75 ? 16 : m <= 150 ? 8 : nil))
    }

    @Test mutating func layerNormMatchesNaive() {
        let (rows, cols) = (5, 389)
        let x = random(rows * cols, scale: 4).map { $0 + 3 }, gamma = random(cols), beta = random(cols)
        var fast = x, slow = x
        LayerNormKernel.apply(&fast, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: 1e-12)
        LayerNormKernel.naiveApply(&slow, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: 1e-12)
        #expect(maxDifference(fast, slow) < 2e-5)
    }

    @Test mutating func softmaxMatchesNaiveAndIgnoresColumnsPastCount() {
        let (rows, stride, cols) = (6, 40, 35)
        let x = random(rows * stride, scale: 20)
        var fast = x, slow = x
        SoftmaxKernel.apply(&fast, rows: rows, cols: cols, stride: stride)
        SoftmaxKernel.naiveApply(&slow, rows: rows, cols: cols, stride: stride)
        #expect(maxDifference(fast, slow) < 1e-6)
        for r in 0..<rows {
            #expect(abs(fast[r * stride..<r * stride + cols].reduce(0, +) - 1) < 1e-5)
            #expect(Array(fast[r * stride + cols..<(r + 1) * stride]) == Array(x[r * stride + cols..<(r + 1) * stride]))
        }
    }

    @Test(arguments: Activation.allCases)
    mutating func activationMatchesNaive(_ activation: Activation) {
        let x = random(1000, scale: 6)
        var fast = x, slow = x
        activation.apply(&fast, count: x.count)
        activation.naiveApply(&slow, count: x.count)
        #expect(maxDifference(fast, slow) < 1e-6)
    }

    /// Applies `f` to a dense grid over [lo, hi] and returns its largest error against
    /// `exact` (relative when `relative`).
    func gridError(_ lo: Float, _ hi: Float, relative: Bool = false,
                   _ f: (SIMD16<Float>) -> SIMD16<Float>, exact: (Double) -> Double) -> Double {
        var worst = 0.0
        let n = 200_000
        for start in stride(from: 0, to: n, by: 16) {
            var v = SIMD16<Float>()
            for j in 0..<16 { v[j] = lo + (hi - lo) * Float(start + j) / Float(n) }
            let y = f(v)
            for j in 0..<16 {
                let e = exact(Double(v[j])), d = abs(Double(y[j]) - e)
                worst = max(worst, relative ? d / max(abs(e), 1e-30) : d)
            }
        }
        return worst
    }

    @Test func fastMathMatchesDouble() {
        #expect(gridError(-87, 88, relative: true, FastMath.exp, exact: Foundation.exp) < 3e-7)
        #expect(gridError(-10, 10, FastMath.erf, exact: Foundation.erf) < 3e-7)
        #expect(gridError(-10, 10, FastMath.tanh, exact: Foundation.tanh) < 3e-7)
        #expect(FastMath.exp(SIMD16(repeating: -.infinity)).max() < 1e-37)
        #expect(FastMath.erf(SIMD16(repeating: 0)) == SIMD16(repeating: 0))
        // NaN stays NaN through the clamps (it once became e^-87.3, a silent 0 in softmax)
        let nan = SIMD16<Float>(repeating: .nan)
        #expect((0..<16).allSatisfy { FastMath.exp(nan)[$0].isNaN && FastMath.tanh(nan)[$0].isNaN })
        var relu = [Float](repeating: .nan, count: 17)
        Activation.relu.apply(&relu, count: relu.count)
        #expect(relu.allSatisfy { $0.isNaN }, "relu(NaN) is NaN, as torch's")
    }

    @Test mutating func activationsMatchNaiveOnAWideGrid() {
        let x = (0..<4001).map { Float($0 - 2000) / 200 }  // [-10, 10], count not a multiple of 16
        for activation in Activation.allCases {
            var fast = x, slow = x
            activation.apply(&fast, count: x.count)
            activation.naiveApply(&slow, count: x.count)
            #expect(maxDifference(fast, slow) < 2e-6, "\(activation)")
        }
    }

    @Test mutating func elementwiseMatchesNaive() {
        let (rows, cols) = (3, 37)
        let x = random(rows * cols), bias = random(cols), y = random(rows * cols)
        var fast = x, slow = x
        Elementwise.addBias(&fast, rows: rows, cols: cols, bias: bias)
        Elementwise.naiveAddBias(&slow, rows: rows, cols: cols, bias: bias)
        #expect(fast == slow)
        Elementwise.add(y, to: &fast, count: x.count)
        Elementwise.naiveAdd(y, to: &slow, count: x.count)
        #expect(fast == slow)
    }

    @Test func blasReportsItsCore() {
        #expect(!BLAS.coreName.isEmpty && BLAS.coreName != "unknown")
        #expect(BLAS.threads >= 1)
    }

    /// Debian's OpenBLAS 0.3.21 falls back to its Prescott (SSE3) kernels on CPUs newer than
    /// it (Emerald Rapids): unless the user chose a core, the runtime re-selects one this CPU runs.
    @Test func blasRunsKernelsForThisCPU() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let family = BLAS.cpuFamily else { return }
        #expect(BLAS.coreName != "Prescott", "OpenBLAS runs its SSE3 kernels on a CPU that runs \(family)'s")
        #expect(!BLAS.selection.reselected || BLAS.selection.running == family)
    }
}

/// A tiny seeded generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
