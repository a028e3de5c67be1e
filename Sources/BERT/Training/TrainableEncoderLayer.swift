import Kernels

/// BertLayer with gradients: self-attention (dropout on the probabilities and on the
/// output projection), residual, LayerNorm; feed-forward, dropout, residual, LayerNorm.
/// The forward keeps what the backward needs in a `Saved`.
struct TrainableEncoderLayer {
    let query, key, value, attentionOutput, intermediate, output: TrainableLinear
    let attentionNorm, outputNorm: TrainableLayerNorm
    let heads: Int
    let activation: Activation
    let attentionDropout, hiddenDropout: Dropout
    var hidden: Int { query.outFeatures }
    var headSize: Int { hidden / heads }

    init(_ params: ParameterSet, _ prefix: String, from w: WeightScope, config c: Config,
         attentionDropout: Float, hiddenDropout: Float) throws {
        let (C, I, eps) = (c.hiddenSize, c.intermediateSize, c.layerNormEps)
        func linear(_ name: String, _ i: Int, _ o: Int) throws -> TrainableLinear {
            try TrainableLinear(params, "\(prefix).\(name)", from: w.scope(name), in: i, out: o)
        }
        query = try linear("attention.self.query", C, C)
        key = try linear("attention.self.key", C, C)
        value = try linear("attention.self.value", C, C)
        attentionOutput = try linear("attention.output.dense", C, C)
        attentionNorm = try TrainableLayerNorm(params, "\(prefix).attention.output.LayerNorm",
                                               from: w.scope("attention.output.LayerNorm"), size: C, eps: eps)
        intermediate = try linear("intermediate.dense", C, I)
        output = try linear("output.dense", I, C)
        outputNorm = try TrainableLayerNorm(params, "\(prefix).output.LayerNorm",
                                            from: w.scope("output.LayerNorm"), size: C, eps: eps)
        heads = c.numAttentionHeads
        activation = c.activation ?? .gelu
        self.attentionDropout = Dropout(p: attentionDropout)
        self.hiddenDropout = Dropout(p: hiddenDropout)
    }

    final class Saved {
        let input, q, k, v, context, attended: Buffer  // (N, C), N = ΣL; attended: h₁, the attention block's output
        let probs: Buffer                               // Σ_b H·L_b² softmax outputs, before dropout
        var probsMask: Buffer?                          // the same layout
        let probOffsets: [Int]                          // where row b's (H, L_b, L_b) block starts
        var attentionMask, outputMask: Buffer?          // (N, C)
        var attentionNorm: TrainableLayerNorm.Saved!
        var outputNorm: TrainableLayerNorm.Saved!
        let inner, activated: Buffer                    // (N, I): before and after the activation

        init(batch: Batch, hidden C: Int, intermediate I: Int, heads H: Int) {
            let N = batch.tokens
            (input, q, k, v, context, attended) = (Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C))
            var offsets: [Int] = [], at = 0
            for L in batch.lengths { offsets.append(at); at += H * L * L }
            probOffsets = offsets
            probs = Buffer(at)
            (inner, activated) = (Buffer(N * I), Buffer(N * I))
        }
    }

    /// x: (ΣL, C), the batch's real tokens one sequence after another, updated in place.
    func forward(_ x: UnsafeMutablePointer<Float>, batch: Batch, rng: inout SplitMix64?) -> Saved {
        let (C, D, T, N, I) = (hidden, headSize, batch.length, batch.tokens, intermediate.outFeatures)
        let starts = batch.starts
        let s = Saved(batch: batch, hidden: C, intermediate: I, heads: heads)
        s.input.pointer.update(from: x, count: N * C)
        query.forward(x, rows: N, into: s.q.pointer)
        key.forward(x, rows: N, into: s.k.pointer)
        value.forward(x, rows: N, into: s.v.pointer)
        s.probsMask = attentionDropout.mask(s.probs.count, &rng)
        let scale = 1 / Float(D).squareRoot()
        let scratch = Buffer(T * T)
        for b in 0..<batch.size {
            let L = batch.lengths[b], base = starts[b] * C
            for h in 0..<heads {
                let head = base + h * D
                let p = s.probs.pointer + s.probOffsets[b] + h * L * L
                // scores (L, L) = q_h k_hᵀ / √D → softmax
                Gemm.multiply(s.q.pointer + head, s.k.pointer + head, into: p, m: L, n: L, k: D,
                              transposeB: true, alpha: scale, lda: C, ldb: C, ldc: L)
                SoftmaxKernel.apply(p, rows: L, cols: L)
                var used = UnsafePointer(p)
                if let probsMask = s.probsMask {
                    scratch.pointer.update(from: p, count: L * L)
                    TrainingKernels.multiply(scratch.pointer, by: probsMask.pointer + s.probOffsets[b] + h * L * L, count: L * L)
                    used = UnsafePointer(scratch.pointer)
                }
                // context_h (L, D) = probs (L, L) · v_h (L, D)
                Gemm.multiply(used, s.v.pointer + head, into: s.context.pointer + head, m: L, n: D, k: L,
                              lda: L, ldb: C, ldc: C)
            }
        }
        s.attentionMask = hiddenDropout.mask(N * C, &rng)
        s.outputMask = hiddenDropout.mask(N * C, &rng)
        // h₁ = LayerNorm(x + dropout(W_o · context))
        let projected = Buffer(N * C)
        attentionOutput.forward(s.context.pointer, rows: N, into: projected.pointer)
        if let m = s.attentionMask { TrainingKernels.multiply(projected.pointer, by: m.pointer, count: N * C) }
        Elementwise.add(projected.pointer, to: x, count: N * C)
        s.attentionNorm = attentionNorm.forward(x, rows: N)
        s.attended.pointer.update(from: x, count: N * C)
        // h₂ = LayerNorm(h₁ + dropout(W₂ · act(W₁ · h₁)))
        intermediate.forward(x, rows: N, into: s.inner.pointer)
        s.activated.pointer.update(from: s.inner.pointer, count: N * I)
        activation.apply(s.activated.pointer, count: N * I)
        output.forward(s.activated.pointer, rows: N, into: projected.pointer)
        if let m = s.outputMask { TrainingKernels.multiply(projected.pointer, by: m.pointer, count: N * C) }
        Elementwise.add(projected.pointer, to: x, count: N * C)
        s.outputNorm = outputNorm.forward(x, rows: N)
        return s
    }

    /// dOut: dL/dh₂ (ΣL, C) → dL/dx (ΣL, C), written into dOut; accumulates every
    /// parameter's gradient.
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, batch: Batch) {
        let (C, D, T, N, I) = (hidden, headSize, batch.length, batch.tokens, intermediate.outFeatures)
        let starts = batch.starts
        // Feed-forward block.
        let dz = Buffer(N * C)
        outputNorm.backward(dOut, saved: s.outputNorm, rows: N, into: dz.pointer)
        let dAttended = Buffer(copying: dz.pointer, count: N * C)  // the residual path
        if let m = s.outputMask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dInner = Buffer(N * I)
        output.backward(dz.pointer, input: s.activated.pointer, rows: N, dx: dInner.pointer)
        activation.backward(inputs: s.inner.pointer, grad: dInner.pointer, count: N * I)
        intermediate.backward(dInner.pointer, input: s.attended.pointer, rows: N, dx: dAttended.pointer, accumulate: true)
        // Attention block.
        attentionNorm.backward(dAttended.pointer, saved: s.attentionNorm, rows: N, into: dz.pointer)
        dOut.update(from: dz.pointer, count: N * C)  // the residual path
        if let m = s.attentionMask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dContext = Buffer(N * C)
        attentionOutput.backward(dz.pointer, input: s.context.pointer, rows: N, dx: dContext.pointer)
        let (dq, dk, dv) = (Buffer(N * C), Buffer(N * C), Buffer(N * C))
        let scale = 1 / Float(D).squareRoot()
        let dProbs = Buffer(T * T), used = Buffer(T * T)
        for b in 0..<batch.size {
            let L = batch.lengths[b], base = starts[b] * C
            for h in 0..<heads {
                let head = base + h * D
                let at = s.probOffsets[b] + h * L * L
                let p = s.probs.pointer + at
                used.pointer.update(from: p, count: L * L)
                if let m = s.probsMask { TrainingKernels.multiply(used.pointer, by: m.pointer + at, count: L * L) }
                // dv_h (L, D) = usedᵀ · dcontext_h ; dused (L, L) = dcontext_h · v_hᵀ
                Gemm.multiply(used.pointer, dContext.pointer + head, into: dv.pointer + head, m: L, n: D, k: L,
                              transposeA: true, lda: L, ldb: C, ldc: C)
                Gemm.multiply(dContext.pointer + head, s.v.pointer + head, into: dProbs.pointer, m: L, n: L, k: D,
                              transposeB: true, lda: C, ldb: C, ldc: L)
                if let m = s.probsMask { TrainingKernels.multiply(dProbs.pointer, by: m.pointer + at, count: L * L) }
                SoftmaxKernel.backward(probabilities: p, grad: dProbs.pointer, rows: L, cols: L)
                // dq_h = dS · k_h · scale ; dk_h = dSᵀ · q_h · scale
                Gemm.multiply(dProbs.pointer, s.k.pointer + head, into: dq.pointer + head, m: L, n: D, k: L,
                              alpha: scale, lda: L, ldb: C, ldc: C)
                Gemm.multiply(dProbs.pointer, s.q.pointer + head, into: dk.pointer + head, m: L, n: D, k: L,
                              transposeA: true, alpha: scale, lda: L, ldb: C, ldc: C)
            }
        }
        query.backward(dq.pointer, input: s.input.pointer, rows: N, dx: dOut, accumulate: true)
        key.backward(dk.pointer, input: s.input.pointer, rows: N, dx: dOut, accumulate: true)
        value.backward(dv.pointer, input: s.input.pointer, rows: N, dx: dOut, accumulate: true)
    }
}
