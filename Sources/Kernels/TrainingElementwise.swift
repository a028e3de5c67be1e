import Foundation

/// Element-wise loops of training: bias gradients, dropout masks, tanh backward,
/// cross-entropy, AdamW. Each with a naive twin.
public enum TrainingKernels {
    /// acc (cols) += Σ_rows x (rows, cols): a Linear's bias gradient.
    public static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into acc: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            Vector.forEachChunk(count: cols) { i in
                Vector.store(Vector.load(acc + i) + Vector.load(row + i), to: acc + i)
            } tail: { i in
                acc[i] += row[i]
            }
        }
    }

    public static func naiveAddColumnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into acc: UnsafeMutablePointer<Float>) {
        for i in 0..<cols {
            var s = Double(acc[i])
            for r in 0..<rows { s += Double(x[r * cols + i]) }
            acc[i] = Float(s)
        }
    }

    /// mask (count): entry i is 0 where the i-th next value of a SplitMix64 generator at
    /// `state` is below `threshold`, else `keep`; returns the generator's state after them.
    /// SplitMix64's state advances by a constant, so eight draws are made at once.
    public static func dropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, state: UInt64,
                                   threshold: UInt64, keep: Float) -> UInt64 {
        let gamma = splitMixGamma
        let steps = SIMD8<UInt64>(1, 2, 3, 4, 5, 6, 7, 8) &* gamma
        let (k1, k2) = (SIMD8<UInt64>(repeating: 0xBF58_476D_1CE4_E5B9), SIMD8<UInt64>(repeating: 0x94D0_49BB_1331_11EB))
        var state = state, i = 0
        while i + 8 <= count {
            var z = SIMD8<UInt64>(repeating: state) &+ steps
            z = (z ^ (z &>> 30)) &* k1
            z = (z ^ (z &>> 27)) &* k2
            z = z ^ (z &>> 31)
            for l in 0..<8 { mask[i + l] = z[l] < threshold ? 0 : keep }
            state &+= 8 &* gamma
            i += 8
        }
        while i < count {
            state &+= gamma
            mask[i] = splitMix(state) < threshold ? 0 : keep
            i += 1
        }
        return state
    }

    /// What SplitMix64's state advances by at each draw.
    public static let splitMixGamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's output for a state (BERT's SplitMix64.next() draws with it).
    @inline(__always)
    public static func splitMix(_ state: UInt64) -> UInt64 {
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The naive twin of `dropoutMask`: one draw at a time.
    public static func naiveDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, state: UInt64,
                                        threshold: UInt64, keep: Float) -> UInt64 {
        var state = state
        for i in 0..<count {
            state &+= splitMixGamma
            mask[i] = splitMix(state) < threshold ? 0 : keep
        }
        return state
    }

    /// x (count) *= mask (count): dropout forward and backward, with mask entries 0 or 1/(1−p).
    public static func multiply(_ x: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
        Vector.forEachChunk(count: count) { i in
            Vector.store(Vector.load(x + i) * Vector.load(mask + i), to: x + i)
        } tail: { i in
            x[i] *= mask[i]
        }
    }

    public static func naiveMultiply(_ x: UnsafeMutablePointer<Float>, by mask: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] *= mask[i] }
    }

    /// x (count) = tanh(x), in place (BertPooler's activation).
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = tanhf(x[i]) }
    }

    /// grad (count) *= 1 − y², where y = tanh(x) (count): tanh backward from its outputs.
    public static func tanhBackward(outputs y: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int) {
        Vector.forEachChunk(count: count) { i in
            let v = Vector.load(y + i)
            Vector.store(Vector.load(g + i) * (SIMD16(repeating: 1) - v * v), to: g + i)
        } tail: { i in
            g[i] *= 1 - y[i] * y[i]
        }
    }

    /// Naive twin of `tanhBackward`, in Double, from the inputs x.
    public static func naiveTanhBackward(_ dy: [Double], x: [Double]) -> [Double] {
        zip(dy, x).map { d, v in d * (1 - Foundation.tanh(v) * Foundation.tanh(v)) }
    }

    /// Mean cross-entropy of logits (rows, cols) against class ids (rows), as
    /// torch.nn.functional.cross_entropy; writes dL/dlogits (rows, cols) when `grad` is given.
    @discardableResult
    public static func crossEntropy(logits: UnsafePointer<Float>, labels: [Int], rows: Int, cols: Int,
                                    grad: UnsafeMutablePointer<Float>?) -> Float {
        var total = 0.0
        let invRows = 1 / Float(rows)
        for r in 0..<rows {
            let row = logits + r * cols
            var m = -Float.infinity
            for i in 0..<cols { m = max(m, row[i]) }
            var sum: Float = 0
            for i in 0..<cols { sum += expf(row[i] - m) }
            let logSum = logf(sum) + m
            total += Double(logSum - row[labels[r]])
            if let grad {
                for i in 0..<cols {
                    grad[r * cols + i] = (expf(row[i] - logSum) - (i == labels[r] ? 1 : 0)) * invRows
                }
            }
        }
        return Float(total / Double(rows))
    }

    /// Naive twin of `crossEntropy`, in Double, on arrays: (loss, dL/dlogits).
    public static func naiveCrossEntropy(_ logits: [Double], labels: [Int], rows: Int, cols: Int) -> (loss: Double, grad: [Double]) {
        var loss = 0.0
        var grad = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            let row = Array(logits[r * cols..<(r + 1) * cols])
            let m = row.max()!
            let logSum = log(row.map { exp($0 - m) }.reduce(0, +)) + m
            loss += logSum - row[labels[r]]
            for i in 0..<cols { grad[r * cols + i] = (exp(row[i] - logSum) - (i == labels[r] ? 1 : 0)) / Double(rows) }
        }
        return (loss / Double(rows), grad)
    }

    /// Mean squared error of `count` predictions against targets, as torch.nn.MSELoss
    /// (the mean over every value); writes dL/dx (count) when `grad` is given.
    @discardableResult
    public static func meanSquaredError(_ x: UnsafePointer<Float>, targets: [Float], count: Int,
                                        grad: UnsafeMutablePointer<Float>?) -> Float {
        var total = 0.0
        let scale = 2 / Float(count)
        for i in 0..<count {
            let d = x[i] - targets[i]
            total += Double(d) * Double(d)
            grad?[i] = scale * d
        }
        return Float(total / Double(count))
    }

    /// Naive twin of `meanSquaredError`, in Double: (loss, dL/dx).
    public static func naiveMeanSquaredError(_ x: [Double], targets: [Double]) -> (loss: Double, grad: [Double]) {
        let n = Double(x.count)
        return (zip(x, targets).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / n, zip(x, targets).map { 2 * ($0 - $1) / n })
    }

    /// Mean binary cross-entropy of logits against targets in [0, 1], as
    /// torch.nn.BCEWithLogitsLoss (max(x, 0) − x·y + log(1 + e^−|x|), the mean over every
    /// value); writes dL/dx = (σ(x) − y) / count when `grad` is given.
    @discardableResult
    public static func binaryCrossEntropyWithLogits(_ x: UnsafePointer<Float>, targets: [Float], count: Int,
                                                    grad: UnsafeMutablePointer<Float>?) -> Float {
        var total = 0.0
        let inv = 1 / Float(count)
        for i in 0..<count {
            let (v, y) = (x[i], targets[i])
            total += Double(max(v, 0) - v * y + log1pf(expf(-abs(v))))
            if let grad {
                let s = v >= 0 ? 1 / (1 + expf(-v)) : expf(v) / (1 + expf(v))
                grad[i] = (s - y) * inv
            }
        }
        return Float(total / Double(count))
    }

    /// Naive twin of `binaryCrossEntropyWithLogits`, in Double, from the textbook form
    /// −y·log σ(x) − (1 − y)·log(1 − σ(x)): (loss, dL/dx).
    public static func naiveBinaryCrossEntropyWithLogits(_ x: [Double], targets: [Double]) -> (loss: Double, grad: [Double]) {
        let n = Double(x.count)
        let s = x.map { 1 / (1 + exp(-$0)) }
        let loss = zip(s, targets).map { -$1 * log($0) - (1 - $1) * log(1 - $0) }.reduce(0, +) / n
        return (loss, zip(s, targets).map { ($0 - $1) / n })
    }

    /// One AdamW step over `count` values, as torch.optim.AdamW (decoupled weight decay,
    /// bias correction): p ← p·(1 − lr·λ); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
    /// p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). `step` counts from 1.
    /// Sixteen values at a time, each lane the same operations in the same order as
    /// `AdamWStep.update` (so the same values as `adamWByElement`). Written out: the optimizer left the plain
    /// loop scalar (a `sqrtf` call kept for negative inputs), 5% of a fine-tuning step.
    public static func adamW(
        _ p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, step: Int
    ) {
        let h = AdamWStep(learningRate: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, step: step)
        typealias V = SIMD16<Float>
        let (b1, b2, ob1, ob2) = (V(repeating: h.beta1), V(repeating: h.beta2), V(repeating: h.ob1), V(repeating: h.ob2))
        let (decay, stepSize, c2, e) = (V(repeating: h.decay), V(repeating: h.stepSize), V(repeating: h.c2), V(repeating: h.eps))
        Vector.forEachChunk(count: count) { i in
            let gi = Vector.load(g + i)
            let mi = b1 * Vector.load(m + i) + ob1 * gi
            let vi = b2 * Vector.load(v + i) + ob2 * gi * gi
            Vector.store(mi, to: m + i)
            Vector.store(vi, to: v + i)
            Vector.store(Vector.load(p + i) * decay - stepSize * mi / (vi.squareRoot() / c2 + e), to: p + i)
        } tail: { i in
            h.update(p + i, grad: g[i], m: m + i, v: v + i)
        }
    }

    /// AdamW's per-step constants and its update of one value (the tail of `adamW`).
    struct AdamWStep {
        let beta1, beta2, ob1, ob2, eps, decay, stepSize, c2: Float

        init(learningRate lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, step: Int) {
            (self.beta1, self.beta2, self.eps) = (beta1, beta2, eps)
            (ob1, ob2) = (1 - beta1, 1 - beta2)
            decay = 1 - lr * weightDecay
            stepSize = lr / (1 - Float(Foundation.pow(Double(beta1), Double(step))))
            c2 = Float((1 - Foundation.pow(Double(beta2), Double(step))).squareRoot())
        }

        @inline(__always)
        func update(_ p: UnsafeMutablePointer<Float>, grad gi: Float, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>) {
            let mi = beta1 * m.pointee + ob1 * gi
            let vi = beta2 * v.pointee + ob2 * gi * gi
            m.pointee = mi
            v.pointee = vi
            p.pointee = p.pointee * decay - stepSize * mi / (vi.squareRoot() / c2 + eps)
        }
    }

    /// `adamW` one element at a time (its tail's update throughout): the lane-by-lane
    /// reference its SIMD form must equal bit for bit.
    public static func adamWByElement(
        _ p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, step: Int
    ) {
        let h = AdamWStep(learningRate: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, step: step)
        for i in 0..<count { h.update(p + i, grad: g[i], m: m + i, v: v + i) }
    }

    /// Σ x² over `count` values: eight running Float sums over each block of 1,024 values,
    /// each block's added into a Double. Plain loops; the eight sums are what lets
    /// the optimizer vectorize a sum (one running sum waits on each add: 18 ms of one thread
    /// over MiniLM's 22.7M gradients, 2% of a fine-tuning step, where this takes about 4).
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        var i = 0
        while i < count {
            let end = min(i + 1024, count)
            var (s0, s1, s2, s3, s4, s5, s6, s7) = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
            while i + 8 <= end {
                s0 += x[i] * x[i]
                s1 += x[i + 1] * x[i + 1]
                s2 += x[i + 2] * x[i + 2]
                s3 += x[i + 3] * x[i + 3]
                s4 += x[i + 4] * x[i + 4]
                s5 += x[i + 5] * x[i + 5]
                s6 += x[i + 6] * x[i + 6]
                s7 += x[i + 7] * x[i + 7]
                i += 8
            }
            while i < end {
                s0 += x[i] * x[i]
                i += 1
            }
            total += Double(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)))
        }
        return total
    }

    /// x (count) *= factor.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        var i = 0
        while i < count { x[i] *= factor; i += 1 }
    }

    /// Naive twin of `adamW`, in Double.
    public static func naiveAdamW(
        _ p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, step: Int
    ) {
        let (lr, b1, b2, eps, wd) = (Double(lr), Double(beta1), Double(beta2), Double(eps), Double(weightDecay))
        for i in 0..<count {
            let gi = Double(g[i])
            let mi = b1 * Double(m[i]) + (1 - b1) * gi
            let vi = b2 * Double(v[i]) + (1 - b2) * gi * gi
            m[i] = Float(mi)
            v[i] = Float(vi)
            let mhat = mi / (1 - pow(b1, Double(step))), vhat = vi / (1 - pow(b2, Double(step)))
            p[i] = Float(Double(p[i]) * (1 - lr * wd) - lr * mhat / (vhat.squareRoot() + eps))
        }
    }
}
