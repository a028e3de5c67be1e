import Foundation
import Kernels
import Testing

/// Every backward kernel against central finite differences of its naive Double forward,
/// and the fast Float kernel against its naive Double twin. Sizes are awkward (not
/// multiples of 16) so the SIMD tails run.
struct BackwardKernelsTests {
    var rng = SplitMix(seed: 11)

    mutating func random(_ n: Int, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in (Double(rng.nextFloat()) * 2 - 1) * scale }
    }

    /// dL/dx by central differences of L(x) = Σ w·f(x), in Double.
    func finiteDifferences(_ x: [Double], weights w: [Double], h: Double = 1e-6, _ f: ([Double]) -> [Double]) -> [Double] {
        (0..<x.count).map { i in
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            let lp = zip(f(plus), w).map(*).reduce(0, +), lm = zip(f(minus), w).map(*).reduce(0, +)
            return (lp - lm) / (2 * h)
        }
    }

    /// max |a − b| / (max |b| + tiny)
    func relative(_ a: [Double], _ b: [Double]) -> Double {
        let scale = b.map(abs).max() ?? 0
        return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
    }

    @Test mutating func layerNormBackward() {
        let (rows, cols) = (3, 37)
        let x = random(rows * cols, scale: 2).map { $0 + 1 }, gamma = random(cols), beta = random(cols), dy = random(rows * cols)
        let eps = 1e-5
        let naive = LayerNormKernel.naiveBackward(dy, x: x, rows: rows, cols: cols, gamma: gamma, eps: eps)
        let fdX = finiteDifferences(x, weights: dy) { LayerNormKernel.naiveForward($0, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps) }
        let fdGamma = finiteDifferences(gamma, weights: dy) { LayerNormKernel.naiveForward(x, rows: rows, cols: cols, gamma: $0, beta: beta, eps: eps) }
        let fdBeta = finiteDifferences(beta, weights: dy) { LayerNormKernel.naiveForward(x, rows: rows, cols: cols, gamma: gamma, beta: $0, eps: eps) }
        #expect(relative(naive.dx, fdX) < 1e-7)
        #expect(relative(naive.dgamma, fdGamma) < 1e-7)
        #expect(relative(naive.dbeta, fdBeta) < 1e-7)

        // The fast kernel: forward keeps x̂ and 1/σ, backward writes dx and accumulates dγ, dβ.
        var fx = x.map(Float.init)
        let fg = gamma.map(Float.init), fb = beta.map(Float.init), fdy = dy.map(Float.init)
        var xhat = [Float](repeating: 0, count: rows * cols), rstd = [Float](repeating: 0, count: rows)
        LayerNormKernel.applySaving(&fx, rows: rows, cols: cols, gamma: fg, beta: fb, eps: Float(eps), normalized: &xhat, inverseStd: &rstd)
        let forward = LayerNormKernel.naiveForward(x, rows: rows, cols: cols, gamma: gamma, beta: beta, eps: eps)
        #expect(relative(fx.map(Double.init), forward) < 1e-5)
        var dx = [Float](repeating: 0, count: rows * cols), dgamma = [Float](repeating: 1, count: cols), dbeta = [Float](repeating: 1, count: cols)
        LayerNormKernel.backward(fdy, normalized: xhat, inverseStd: rstd, gamma: fg, rows: rows, cols: cols, into: &dx, gammaGradient: &dgamma, betaGradient: &dbeta)
        #expect(relative(dx.map(Double.init), fdX) < 1e-4)
        #expect(relative(dgamma.map { Double($0) - 1 }, fdGamma) < 1e-4)
        #expect(relative(dbeta.map { Double($0) - 1 }, fdBeta) < 1e-4)
    }

    @Test mutating func softmaxBackward() {
        let (rows, cols, stride) = (4, 21, 25)
        let x = random(rows * cols, scale: 3), dy = random(rows * cols)
        let naive = SoftmaxKernel.naiveBackward(dy, x: x, rows: rows, cols: cols)
        let fd = finiteDifferences(x, weights: dy) { SoftmaxKernel.naiveForward($0, rows: rows, cols: cols) }
        #expect(relative(naive, fd) < 1e-7)
        // Fast, on strided rows: the probabilities from the forward kernel, then backward in place.
        var p = [Float](repeating: 7, count: rows * stride), g = [Float](repeating: 7, count: rows * stride)
        for r in 0..<rows {
            for i in 0..<cols { p[r * stride + i] = Float(x[r * cols + i]); g[r * stride + i] = Float(dy[r * cols + i]) }
        }
        SoftmaxKernel.apply(&p, rows: rows, cols: cols, stride: stride)
        SoftmaxKernel.backward(probabilities: p, grad: &g, rows: rows, cols: cols, stride: stride)
        let fast = (0..<rows).flatMap { r in (0..<cols).map { Double(g[r * stride + $0]) } }
        #expect(relative(fast, fd) < 1e-5)
        #expect(g[cols] == 7 && g[stride - 1] == 7)  // past each row's count: untouched
    }

    @Test(arguments: Activation.allCases)
    mutating func activationBackward(_ activation: Activation) {
        // Away from ReLU's kink, where finite differences are meaningless.
        let x = random(203, scale: 4).map { abs($0) < 1e-3 ? 0.5 : $0 }, dy = random(203)
        let naive = activation.naiveBackward(dy, x: x)
        let fd = finiteDifferences(x, weights: dy) { activation.naiveForward($0) }
        #expect(relative(naive, fd) < 1e-6)
        var g = dy.map(Float.init)
        activation.backward(inputs: x.map(Float.init), grad: &g, count: x.count)
        #expect(relative(g.map(Double.init), fd) < 1e-5)
    }

    @Test mutating func tanhBackward() {
        let x = random(53, scale: 3), dy = random(53)
        let naive = TrainingKernels.naiveTanhBackward(dy, x: x)
        let fd = finiteDifferences(x, weights: dy) { $0.map(tanh) }
        #expect(relative(naive, fd) < 1e-7)
        var y = x.map(Float.init)
        TrainingKernels.tanh(&y, count: y.count)
        #expect(zip(y, x).allSatisfy { abs(Double($0) - tanh($1)) < 1e-6 })
        var g = dy.map(Float.init)
        TrainingKernels.tanhBackward(outputs: y, grad: &g, count: x.count)
        #expect(relative(g.map(Double.init), fd) < 1e-5)
    }

    @Test mutating func crossEntropyBackward() {
        let (rows, cols) = (5, 3)
        let logits = random(rows * cols, scale: 4), labels = [0, 2, 1, 1, 0]
        let naive = TrainingKernels.naiveCrossEntropy(logits, labels: labels, rows: rows, cols: cols)
        let fd = finiteDifferences(logits, weights: [1]) { [TrainingKernels.naiveCrossEntropy($0, labels: labels, rows: rows, cols: cols).loss] }
        #expect(relative(naive.grad, fd) < 1e-7)
        var grad = [Float](repeating: 0, count: rows * cols)
        let loss = TrainingKernels.crossEntropy(logits: logits.map(Float.init), labels: labels, rows: rows, cols: cols, grad: &grad)
        #expect(abs(Double(loss) - naive.loss) < 1e-6)
        #expect(relative(grad.map(Double.init), fd) < 1e-5)
    }

    @Test mutating func meanSquaredErrorBackward() {
        let x = random(7, scale: 3), y = random(7, scale: 3)
        let naive = TrainingKernels.naiveMeanSquaredError(x, targets: y)
        let fd = finiteDifferences(x, weights: [1]) { [TrainingKernels.naiveMeanSquaredError($0, targets: y).loss] }
        #expect(relative(naive.grad, fd) < 1e-7)
        var grad = [Float](repeating: 0, count: 7)
        let loss = TrainingKernels.meanSquaredError(x.map(Float.init), targets: y.map(Float.init), count: 7, grad: &grad)
        #expect(abs(Double(loss) - naive.loss) / naive.loss < 1e-6)
        #expect(relative(grad.map(Double.init), fd) < 1e-5)
    }

    @Test mutating func binaryCrossEntropyBackward() {
        let x = random(12, scale: 6), y = (0..<12).map { Double($0 % 3) / 2 }
        let naive = TrainingKernels.naiveBinaryCrossEntropyWithLogits(x, targets: y)
        let fd = finiteDifferences(x, weights: [1]) { [TrainingKernels.naiveBinaryCrossEntropyWithLogits($0, targets: y).loss] }
        #expect(relative(naive.grad, fd) < 1e-6)
        var grad = [Float](repeating: 0, count: 12)
        let loss = TrainingKernels.binaryCrossEntropyWithLogits(x.map(Float.init), targets: y.map(Float.init), count: 12, grad: &grad)
        #expect(abs(Double(loss) - naive.loss) / naive.loss < 1e-5)
        #expect(relative(grad.map(Double.init), fd) < 1e-5)
    }

    /// Logits far from 0, where σ rounds to 0 or 1 in Float: the loss stays finite and exact
    /// (max(x, 0) − x·y to within e^−|x|), the gradient σ(x) − y.
    @Test func binaryCrossEntropyOfLargeLogits() {
        let x: [Float] = [40, -40, 90, -90], y: [Float] = [0, 0, 1, 0.5]
        var grad = [Float](repeating: 0, count: 4)
        let loss = TrainingKernels.binaryCrossEntropyWithLogits(x, targets: y, count: 4, grad: &grad)
        #expect(abs(Double(loss) - (40 + 0 + 0 + 45) / 4) < 1e-5)
        #expect(zip(grad, [0.25, 0, 0, -0.125] as [Float]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(grad)")
    }

    /// A Linear's gradients are products (OpenBLAS, checked in KernelsTests) plus the bias
    /// gradient's column sums, checked here against finite differences of x·Wᵀ + b.
    @Test mutating func linearBackward() {
        let (rows, inF, outF) = (6, 19, 17)
        let x = random(rows * inF), w = random(outF * inF), b = random(outF), dy = random(rows * outF)
        func forward(_ x: [Double], _ w: [Double], _ b: [Double]) -> [Double] {
            (0..<rows * outF).map { k in
                let (r, o) = (k / outF, k % outF)
                return b[o] + (0..<inF).reduce(0.0) { $0 + x[r * inF + $1] * w[o * inF + $1] }
            }
        }
        let fdW = finiteDifferences(w, weights: dy) { forward(x, $0, b) }
        let fdB = finiteDifferences(b, weights: dy) { forward(x, w, $0) }
        let fdX = finiteDifferences(x, weights: dy) { forward($0, w, b) }
        let (fx, fw, fdy) = (x.map(Float.init), w.map(Float.init), dy.map(Float.init))
        var dW = [Float](repeating: 0, count: outF * inF), dB = [Float](repeating: 0, count: outF), dX = [Float](repeating: 0, count: rows * inF)
        Gemm.multiply(fdy, fx, into: &dW, m: outF, n: inF, k: rows, transposeA: true, beta: 1)
        TrainingKernels.addColumnSums(fdy, rows: rows, cols: outF, into: &dB)
        Gemm.multiply(fdy, fw, into: &dX, m: rows, n: inF, k: outF)
        #expect(relative(dW.map(Double.init), fdW) < 1e-5)
        #expect(relative(dB.map(Double.init), fdB) < 1e-5)
        #expect(relative(dX.map(Double.init), fdX) < 1e-5)
        var naiveB = [Float](repeating: 0, count: outF)
        TrainingKernels.naiveAddColumnSums(fdy, rows: rows, cols: outF, into: &naiveB)
        #expect(zip(naiveB, dB).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test mutating func dropoutMaskMultiplies() {
        let x = random(37).map(Float.init), mask = (0..<37).map { $0 % 3 == 0 ? Float(0) : Float(1 / 0.9) }
        var fast = x, slow = x
        TrainingKernels.multiply(&fast, by: mask, count: 37)
        TrainingKernels.naiveMultiply(&slow, by: mask, count: 37)
        #expect(fast == slow)
        #expect(fast[0] == 0 && fast[3] == 0 && fast[1] == x[1] * Float(1 / 0.9))
    }

    /// Eight draws at a time give the same masks, and leave the generator where one at a time
    /// would, at every length around the blocks of eight; about p of the entries are dropped.
    @Test func dropoutMaskMatchesNaiveTwin() {
        let threshold = UInt64(0.1 * 0x1p64), keep = Float(1 / 0.9)
        for count in [0, 1, 7, 8, 9, 23, 4096] {
            var fast = [Float](repeating: -1, count: count), slow = fast
            let a = TrainingKernels.dropoutMask(&fast, count: count, state: 12345, threshold: threshold, keep: keep)
            let b = TrainingKernels.naiveDropoutMask(&slow, count: count, state: 12345, threshold: threshold, keep: keep)
            #expect(fast == slow && a == b, "count \(count)")
            if count == 4096 {
                let dropped = Double(fast.filter { $0 == 0 }.count) / Double(count)
                #expect(abs(dropped - 0.1) < 0.02 && fast.allSatisfy { $0 == 0 || $0 == keep })
            }
        }
    }

    @Test mutating func adamWMatchesNaiveTwin() {
        let n = 101
        var p = random(n).map(Float.init), m = random(n, scale: 0.1).map(Float.init), v = random(n, scale: 0.01).map { Float(abs($0)) }
        var p2 = p, m2 = m, v2 = v
        let g = random(n).map(Float.init)
        for step in 1...3 {
            TrainingKernels.adamW(&p, grad: g, m: &m, v: &v, count: n, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: step)
            TrainingKernels.naiveAdamW(&p2, grad: g, m: &m2, v: &v2, count: n, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: step)
        }
        #expect(zip(p, p2).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(m, m2).allSatisfy { abs($0 - $1) < 1e-6 })
        // The SIMD form equals one element at a time bit for bit (101 = 6 chunks and a tail).
        var p3 = p, m3 = m, v3 = v, p4 = p, m4 = m, v4 = v
        TrainingKernels.adamW(&p3, grad: g, m: &m3, v: &v3, count: n, learningRate: 2e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 7)
        TrainingKernels.adamWByElement(&p4, grad: g, m: &m4, v: &v4, count: n, learningRate: 2e-5, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 7)
        #expect(p3 == p4 && m3 == m4 && v3 == v4)
        #expect(p3 != p)
        // The first step of Adam moves each weight by about lr (bias correction).
        var q: [Float] = [1], mq: [Float] = [0], vq: [Float] = [0]
        TrainingKernels.adamW(&q, grad: [0.3], m: &mq, v: &vq, count: 1, learningRate: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1)
        #expect(abs(q[0] - (1 - 1e-3)) < 1e-6)
    }

    @Test mutating func sumOfSquaresAndScale() {
        var x = random(3001).map(Float.init)
        let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(TrainingKernels.sumOfSquares(x, count: x.count) - expected) / expected < 1e-6)
        let before = x
        TrainingKernels.scale(&x, by: 0.5, count: x.count)
        #expect(zip(x, before).allSatisfy { $0 == $1 * 0.5 })
    }
}
