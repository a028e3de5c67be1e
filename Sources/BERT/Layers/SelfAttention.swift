import Kernels

/// Multi-head self-attention, its output projection, dropout, residual and LayerNorm:
/// BertAttention (BertSelfAttention + BertSelfOutput) and its twins in every architecture
/// (DistilBERT's MultiHeadSelfAttention + sa_layer_norm, ALBERT's AlbertAttention, MPNet's
/// MPNetAttention with the relative position bias added to the scores).
struct SelfAttention {
    let query, key, value, output: Linear
    let norm: LayerNorm
    let heads: Int
    let probsDropout, outputDropout: Dropout
    var hidden: Int { query.outFeatures }
    var headSize: Int { hidden / heads }

    init(_ w: WeightScope, config c: Config, attentionDropout: Float, hiddenDropout: Float) throws {
        let s = w.scope("self"), o = w.scope("output")
        let C = c.hiddenSize
        query = try Linear(s.scope("query"), in: C, out: C)
        key = try Linear(s.scope("key"), in: C, out: C)
        value = try Linear(s.scope("value"), in: C, out: C)
        output = try Linear(o.scope("dense"), in: C, out: C)
        norm = try LayerNorm(o.scope("LayerNorm"), size: C, eps: c.layerNormEps)
        heads = c.numAttentionHeads
        probsDropout = Dropout(p: attentionDropout)
        outputDropout = Dropout(p: hiddenDropout)
    }

    /// What the backward needs.
    final class Saved {
        let input, q, k, v, context: Buffer  // (ΣL, C)
        let probs: Buffer                    // Σ_b H·L_b² softmax outputs, before dropout
        let probOffsets: [Int]               // where sequence b's (H, L_b, L_b) block starts
        var probsMask, outputMask: Buffer?   // probs' layout; (ΣL, C)
        var norm: LayerNorm.Saved!

        init(_ batch: Batch, hidden C: Int, heads H: Int) {
            let N = batch.tokens
            (input, q, k, v, context) = (Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C))
            var offsets: [Int] = [], at = 0
            for L in batch.lengths { offsets.append(at); at += H * L * L }
            probOffsets = offsets
            probs = Buffer(at)
        }
    }

    /// x: (ΣL, C), each sequence's real tokens one after another → LayerNorm(x + attention(x)),
    /// in place. Each sequence attends only to itself. Inference works in the pass's
    /// scratch (each head's context written over its q columns) and, with lanes, gives each
    /// thread half the heads, then half the output columns.
    func forward(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass) -> Saved? {
        let (C, N) = (hidden, pass.batch.tokens)
        let s = pass.saving ? Saved(pass.batch, hidden: C, heads: heads) : nil
        if let s {
            s.input.pointer.update(from: x, count: N * C)
            s.probsMask = probsDropout.mask(s.probs.count, &pass.rng)
        }
        let parts = min(pass.parts, heads)
        pass.split(parts) { part, lane in
            self.heads(part * heads / parts..<(part + 1) * heads / parts, x, pass, saved: s, lane: lane)
        }
        let context = s?.context.pointer ?? pass.scratch.q
        if let s, let mask = outputDropout.mask(N * C, &pass.rng) {
            // h = x + dropout(W_o · context)
            s.outputMask = mask
            let projected = Buffer(N * C)
            output(context, rows: N, into: projected.pointer)
            TrainingKernels.multiply(projected.pointer, by: mask.pointer, count: N * C)
            Elementwise.add(projected.pointer, to: x, count: N * C)
        } else if pass.saving {
            output.accumulate(context, rows: N, into: x)
        } else {
            pass.split(pass.parts) { part, _ in
                output.accumulate(context, rows: N, into: x, columns: pass.columns(C, part: part, of: pass.parts))
            }
        }
        let savedNorm = norm.forward(x, rows: N, saving: pass.saving)  // (not `s?.norm = …`: nil s would skip the call)
        s?.norm = savedNorm
        return s
    }

    /// The q, k, v columns of `range` heads, and their context (ΣL, D each).
    private func heads(_ range: Range<Int>, _ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass, saved s: Saved?, lane: Int) {
        let (C, D, N, batch) = (hidden, headSize, pass.batch.tokens, pass.batch)
        let columns = range.lowerBound * D..<range.upperBound * D
        let (q, k, v) = (s?.q.pointer ?? pass.scratch.q, s?.k.pointer ?? pass.scratch.k, s?.v.pointer ?? pass.scratch.v)
        let context = s?.context.pointer ?? q  // inference: over q_h, which nothing reads again
        query(x, rows: N, into: q, columns: columns)
        key(x, rows: N, into: k, columns: columns)
        value(x, rows: N, into: v, columns: columns)
        let scale = 1 / Float(D).squareRoot()
        let dropped = s?.probsMask != nil ? Buffer(batch.length * batch.length) : nil
        for b in 0..<batch.size {
            let L = batch.lengths[b], rowBase = pass.starts[b] * C
            for h in range {
                let head = rowBase + h * D
                let p = s.map { $0.probs.pointer + $0.probOffsets[b] + h * L * L } ?? pass.scratch.scores(lane: lane)
                // scores (L, L) = q_h (L, D) · k_hᵀ / √D (+ the position bias) → softmax
                if let bias = pass.positionBias { bias.copy(head: h, size: L, into: p) }
                Gemm.multiply(q + head, k + head, into: p, m: L, n: L, k: D, transposeB: true, alpha: scale,
                              beta: pass.positionBias == nil ? 0 : 1, lda: C, ldb: C, ldc: L)
                SoftmaxKernel.apply(p, rows: L, cols: L)
                var used = UnsafePointer(p)
                if let s, let mask = s.probsMask, let dropped {
                    dropped.pointer.update(from: p, count: L * L)
                    TrainingKernels.multiply(dropped.pointer, by: mask.pointer + s.probOffsets[b] + h * L * L, count: L * L)
                    used = UnsafePointer(dropped.pointer)
                }
                // context_h (L, D) = probs (L, L) · v_h (L, D)
                Gemm.multiply(used, v + head, into: context + head, m: L, n: D, k: L, lda: L, ldb: C, ldc: C)
            }
        }
    }

    /// dOut: dL/dh (ΣL, C) → dL/dx (ΣL, C), written into dOut; accumulates every parameter's
    /// gradient (and the position bias's, when the pass has one).
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, pass: ForwardPass) {
        let (C, D, N, batch) = (hidden, headSize, pass.batch.tokens, pass.batch)
        let T = batch.length
        let dz = Buffer(N * C)
        norm.backward(dOut, saved: s.norm, rows: N, into: dz.pointer)
        dOut.update(from: dz.pointer, count: N * C)  // the residual path
        if let m = s.outputMask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dContext = Buffer(N * C)
        output.backward(dz.pointer, input: s.context.pointer, rows: N, dx: dContext.pointer)
        let (dq, dk, dv) = (Buffer(N * C), Buffer(N * C), Buffer(N * C))
        let scale = 1 / Float(D).squareRoot()
        let dProbs = Buffer(T * T), used = Buffer(T * T)
        for b in 0..<batch.size {
            let L = batch.lengths[b], base = pass.starts[b] * C
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
                pass.positionBias?.accumulate(head: h, size: L, dProbs.pointer)
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
