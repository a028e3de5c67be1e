import Kernels

/// Multi-head self-attention, its output projection, dropout, residual and LayerNorm:
/// BertAttention (BertSelfAttention + BertSelfOutput) and its twins in every architecture
/// (DistilBERT's MultiHeadSelfAttention + sa_layer_norm, ALBERT's AlbertAttention, MPNet's
/// MPNetAttention with the relative position bias added to the scores, DeBERTa-v2's
/// DisentangledSelfAttention with its content-to-position and position-to-content terms), and
/// ModernBERT's ModernBertAttention with attn_norm: pre-norm, q, k, v rows of one fused Wqkv,
/// rotary positions on q and k, a sliding window in its local layers, no biases.
struct SelfAttention {
    let query, key, value, output: Linear
    /// Post-norm: the LayerNorm after the residual (always there). Pre-norm: the one on the
    /// block's input, nil where the input goes in as it is (ModernBERT's layer 0).
    let norm: LayerNorm?
    let preNorm: Bool
    /// Rotary positions on q and k, and the sliding window (ModernBERT).
    let rotary: RotaryAttention?
    let heads: Int
    let probsDropout, outputDropout: Dropout
    /// The scores' scale: 1/√D, or DeBERTa's 1/√(D · (1 + the disentangled terms)).
    let scale: Float
    let disentangled: Disentangled?
    var hidden: Int { query.outFeatures }
    var headSize: Int { hidden / heads }

    /// DeBERTa's disentangled terms: with the pass's relative positions P (R, C, the rows of
    /// `RelativeEmbeddings`), pk = positionKey(P) and pq = positionQuery(P) per layer, and
    ///     score[i, j] += (q_i · pk[row(i − j)] + k_j · pq[row(i − j)]) · scale
    /// (c2p and p2c). With share_att_key the projections are the content key and query.
    struct Disentangled {
        let positionKey: Linear?    // c2p
        let positionQuery: Linear?  // p2c
        let dropout: Dropout        // on P, in each layer (pos_dropout)
    }

    init(_ w: WeightScope, config c: Config, layer: Int, attentionDropout: Float, hiddenDropout: Float) throws {
        // (The position bias and the disentangled terms read whole (L, L) score blocks: no sliding window with them.)
        let s = w.scope("self"), o = w.scope("output")
        let C = c.hiddenSize
        let variant = c.architecture.layerVariant(c, layer: layer), bias = variant.attentionBias
        if variant.fusedQKV {
            let qkv = try Linear.fused(s.scope("qkv"), in: C, out: C, parts: 3, bias: bias)  // (3C, C): q, k, v rows
            (query, key, value) = (qkv[0], qkv[1], qkv[2])
        } else {
            query = try Linear(s.scope("query"), in: C, out: C, bias: bias)
            key = try Linear(s.scope("key"), in: C, out: C, bias: bias)
            value = try Linear(s.scope("value"), in: C, out: C, bias: bias)
        }
        output = try Linear(o.scope("dense"), in: C, out: C, bias: bias)
        let normBias = c.architecture.normBias(c)
        preNorm = variant.preNorm
        if variant.preNorm {
            norm = variant.attentionInputNorm ? try LayerNorm(w.scope("LayerNorm"), size: C, eps: c.layerNormEps, bias: normBias) : nil
        } else {
            norm = try LayerNorm(o.scope("LayerNorm"), size: C, eps: c.layerNormEps, bias: normBias)
        }
        rotary = variant.rotary
        heads = c.numAttentionHeads
        probsDropout = Dropout(p: attentionDropout)
        outputDropout = Dropout(p: hiddenDropout)
        let a = c.architecture
        scale = 1 / (Float(C / c.numAttentionHeads) * Float(a.attentionScaleFactor(c))).squareRoot()
        if a.disentangledAttention(c) {
            let (c2p, p2c) = (c.posAttType.contains("c2p"), c.posAttType.contains("p2c"))
            disentangled = Disentangled(
                positionKey: c2p ? (c.shareAttKey ? key : try Linear(s.scope("pos_key"), in: C, out: C)) : nil,
                positionQuery: p2c ? (c.shareAttKey ? query : try Linear(s.scope("pos_query"), in: C, out: C)) : nil,
                dropout: Dropout(p: hiddenDropout))
        } else {
            disentangled = nil
        }
    }

    /// The disentangled terms' projections of one pass (R, C each), and in training what
    /// their backward needs.
    final class Positional {
        let input: UnsafePointer<Float>   // P, or P after dropout (then `dropped`)
        let key, query: Buffer?           // pk, pq
        var dropped, mask: Buffer?

        init(_ d: Disentangled, _ r: RelativePositions, _ pass: ForwardPass) {
            let n = r.count * r.hidden
            var input = UnsafePointer(r.rows.pointer)
            if pass.saving, let m = d.dropout.mask(n, &pass.rng) {
                let dropped = Buffer(copying: r.rows.pointer, count: n)
                TrainingKernels.multiply(dropped.pointer, by: m.pointer, count: n)
                (self.dropped, mask) = (dropped, m)
                input = UnsafePointer(dropped.pointer)
            }
            self.input = input
            key = d.positionKey.map { k in let b = Buffer(n); k(input, rows: r.count, into: b.pointer); return b }
            query = d.positionQuery.map { q in let b = Buffer(n); q(input, rows: r.count, into: b.pointer); return b }
        }
    }

    /// What the backward needs.
    final class Saved {
        let input, q, k, v, context: Buffer  // (ΣL, C); input: the projections' (pre-norm: normalized)
        let probs: Buffer                    // Σ_b H·(ScoreBlocks size of L_b) softmax outputs, before dropout
        let probOffsets: [Int]               // where sequence b's H heads' score blocks start
        var probsMask, outputMask: Buffer?   // probs' layout; (ΣL, C)
        var norm: LayerNorm.Saved?           // the block's norm, before (pre-norm) or after it
        var positional: Positional?

        init(_ batch: Batch, hidden C: Int, heads H: Int, radius: Int?) {
            let N = batch.tokens
            (input, q, k, v, context) = (Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C), Buffer(N * C))
            var offsets: [Int] = [], at = 0
            for L in batch.lengths { offsets.append(at); at += H * ScoreBlocks(length: L, radius: radius).size }
            probOffsets = offsets
            probs = Buffer(at)
        }
    }

    /// x: (ΣL, C), each sequence's real tokens one after another → LayerNorm(x + attention(x))
    /// (pre-norm: x + attention(LayerNorm(x))), in place. Each sequence attends only to itself.
    /// Inference works in the pass's scratch (each head's context written over its q columns)
    /// and, with lanes, gives each thread half the heads, then half the output columns.
    func forward(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass) -> Saved? {
        let (C, N) = (hidden, pass.batch.tokens)
        let s = pass.saving ? Saved(pass.batch, hidden: C, heads: heads, radius: rotary?.window) : nil
        if let s {
            s.input.pointer.update(from: x, count: N * C)
            s.probsMask = probsDropout.mask(s.probs.count, &pass.rng)
        }
        var input = UnsafePointer(x)  // the projections' input
        if preNorm, let norm {
            let normed = s?.input.pointer ?? pass.scratch.normed
            if s == nil { normed.update(from: x, count: N * C) }
            let savedNorm = norm.forward(normed, rows: N, saving: pass.saving)
            s?.norm = savedNorm
            input = UnsafePointer(normed)
        }
        let positional = disentangled.flatMap { d in pass.relative.map { Positional(d, $0, pass) } }
        s?.positional = positional
        let parts = min(pass.parts, heads)
        pass.split(parts) { part, lane in
            self.heads(part * heads / parts..<(part + 1) * heads / parts, input, pass, saved: s, positional: positional, lane: lane)
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
        if !preNorm, let norm {
            let savedNorm = norm.forward(x, rows: N, saving: pass.saving)  // (not `s?.norm = …`: nil s would skip the call)
            s?.norm = savedNorm
        }
        return s
    }

    /// The q, k, v columns of `range` heads, and their context (ΣL, D each).
    private func heads(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ pass: ForwardPass, saved s: Saved?,
                       positional: Positional?, lane: Int) {
        let (C, D, N, batch) = (hidden, headSize, pass.batch.tokens, pass.batch)
        let columns = range.lowerBound * D..<range.upperBound * D
        let (q, k, v) = (s?.q.pointer ?? pass.scratch.q, s?.k.pointer ?? pass.scratch.k, s?.v.pointer ?? pass.scratch.v)
        let context = s?.context.pointer ?? q  // inference: over q_h, which nothing reads again
        query(x, rows: N, into: q, columns: columns)
        key(x, rows: N, into: k, columns: columns)
        value(x, rows: N, into: v, columns: columns)
        let table = rotary.flatMap { pass.rotary[$0.theta] }
        table?.apply(q, pass, ld: C, columns: columns)
        table?.apply(k, pass, ld: C, columns: columns)
        let scale = self.scale
        let dropped = s?.probsMask != nil ? Buffer(batch.length * batch.length) : nil
        let relative = positional != nil ? pass.relative : nil
        let R = relative?.count ?? 0
        let (c2p, p2c) = (positional?.key.map { _ in Buffer(batch.length * R) }, positional?.query.map { _ in Buffer(batch.length * R) })
        let radius = rotary?.window
        for b in 0..<batch.size {
            let L = batch.lengths[b], rowBase = pass.starts[b] * C
            let blocks = ScoreBlocks(length: L, radius: radius)
            for h in range {
                let head = rowBase + h * D
                var at = s.map { $0.probOffsets[b] + h * blocks.size } ?? 0
                for (queries, keys) in blocks.blocks {
                    let (m, n, first, key) = (queries.count, keys.count, head + queries.lowerBound * C, head + keys.lowerBound * C)
                    let p = s.map { $0.probs.pointer + at } ?? pass.scratch.scores(lane: lane)
                    // scores (m, n) = q_h[queries] · k_h[keys]ᵀ / √D (+ the position bias; full blocks only) → softmax
                    if let bias = pass.positionBias { bias.copy(head: h, size: L, into: p) }
                    Gemm.multiply(q + first, k + key, into: p, m: m, n: n, k: D, transposeB: true, alpha: scale,
                                  beta: pass.positionBias == nil ? 0 : 1, lda: C, ldb: C, ldc: n)
                    if let relative, let positional {
                        // c2p (L, R) = q_h · pk_hᵀ · scale ; p2c (L, R) = k_h · pq_hᵀ · scale ; gathered by distance
                        if let c2p, let pk = positional.key {
                            Gemm.multiply(q + head, pk.pointer + h * D, into: c2p.pointer, m: L, n: R, k: D, transposeB: true,
                                          alpha: scale, lda: C, ldb: C, ldc: R)
                        }
                        if let p2c, let pq = positional.query {
                            Gemm.multiply(k + head, pq.pointer + h * D, into: p2c.pointer, m: L, n: R, k: D, transposeB: true,
                                          alpha: scale, lda: C, ldb: C, ldc: R)
                        }
                        RelativeGather.add(c2p: c2p.map { UnsafePointer($0.pointer) }, p2c: p2c.map { UnsafePointer($0.pointer) },
                                           index: relative.index, length: batch.length, size: L, rows: R, into: p)
                    }
                    if let radius { AttentionWindow.mask(p, queries: queries, keys: keys, radius: radius) }
                    SoftmaxKernel.apply(p, rows: m, cols: n)
                    var used = UnsafePointer(p)
                    if let s, let mask = s.probsMask, let dropped {
                        dropped.pointer.update(from: p, count: m * n)
                        TrainingKernels.multiply(dropped.pointer, by: mask.pointer + at, count: m * n)
                        used = UnsafePointer(dropped.pointer)
                    }
                    // context_h[queries] (m, D) = probs (m, n) · v_h[keys] (n, D); in inference over q_h[queries],
                    // which no other block reads
                    Gemm.multiply(used, v + key, into: context + first, m: m, n: D, k: n, lda: n, ldb: C, ldc: C)
                    at += m * n
                }
            }
        }
    }

    /// dOut: dL/dh (ΣL, C) → dL/dx (ΣL, C), written into dOut; accumulates every parameter's
    /// gradient (and the position bias's, when the pass has one).
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, pass: ForwardPass) {
        let (C, D, N, batch) = (hidden, headSize, pass.batch.tokens, pass.batch)
        let T = batch.length
        let dz = Buffer(N * C)
        if preNorm {
            dz.pointer.update(from: dOut, count: N * C)  // dOut stays: the residual path
        } else {
            norm!.backward(dOut, saved: s.norm!, rows: N, into: dz.pointer)
            dOut.update(from: dz.pointer, count: N * C)  // the residual path
        }
        if let m = s.outputMask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dContext = Buffer(N * C)
        output.backward(dz.pointer, input: s.context.pointer, rows: N, dx: dContext.pointer)
        let (dq, dk, dv) = (Buffer(N * C), Buffer(N * C), Buffer(N * C))
        let scale = self.scale
        let dProbs = Buffer(T * T), used = Buffer(T * T)
        let positional = s.positional, relative = s.positional != nil ? pass.relative : nil
        let R = relative?.count ?? 0
        let (dpk, dpq) = (positional?.key.map { _ in Buffer(R * C) }, positional?.query.map { _ in Buffer(R * C) })
        let (dC2P, dP2C) = (dpk.map { _ in Buffer(T * R) }, dpq.map { _ in Buffer(T * R) })
        for b in 0..<batch.size {
            let L = batch.lengths[b], base = pass.starts[b] * C
            let blocks = ScoreBlocks(length: L, radius: rotary?.window)
            for h in 0..<heads {
                let head = base + h * D
                var at = s.probOffsets[b] + h * blocks.size
                for (queries, keys) in blocks.blocks {
                    let (m, n, first, key) = (queries.count, keys.count, head + queries.lowerBound * C, head + keys.lowerBound * C)
                    let p = s.probs.pointer + at
                    used.pointer.update(from: p, count: m * n)
                    if let mask = s.probsMask { TrainingKernels.multiply(used.pointer, by: mask.pointer + at, count: m * n) }
                    // dv_h[keys] += usedᵀ · dcontext_h[queries] ; dused (m, n) = dcontext_h[queries] · v_h[keys]ᵀ
                    Gemm.multiply(used.pointer, dContext.pointer + first, into: dv.pointer + key, m: n, n: D, k: m,
                                  transposeA: true, beta: 1, lda: n, ldb: C, ldc: C)
                    Gemm.multiply(dContext.pointer + first, s.v.pointer + key, into: dProbs.pointer, m: m, n: n, k: D,
                                  transposeB: true, lda: C, ldb: C, ldc: n)
                    if let mask = s.probsMask { TrainingKernels.multiply(dProbs.pointer, by: mask.pointer + at, count: m * n) }
                    SoftmaxKernel.backward(probabilities: p, grad: dProbs.pointer, rows: m, cols: n)
                    pass.positionBias?.accumulate(head: h, size: L, dProbs.pointer)
                    // dq_h[queries] = dS · k_h[keys] · scale ; dk_h[keys] += dSᵀ · q_h[queries] · scale
                    Gemm.multiply(dProbs.pointer, s.k.pointer + key, into: dq.pointer + first, m: m, n: D, k: n,
                                  alpha: scale, lda: n, ldb: C, ldc: C)
                    Gemm.multiply(dProbs.pointer, s.q.pointer + first, into: dk.pointer + key, m: n, n: D, k: m,
                                  transposeA: true, alpha: scale, beta: 1, lda: n, ldb: C, ldc: C)
                    at += m * n
                    guard let relative, let positional else { continue }
                    dC2P?.zero()
                    dP2C?.zero()
                    RelativeGather.scatter(dProbs.pointer, index: relative.index, length: T, size: L, rows: R,
                                           c2p: dC2P?.pointer, p2c: dP2C?.pointer)
                    // dq_h += dC2P · pk_h · scale ; dpk_h += dC2Pᵀ · q_h · scale (and p2c's with k and pq)
                    if let dC2P, let dpk, let pk = positional.key {
                        Gemm.multiply(dC2P.pointer, pk.pointer + h * D, into: dq.pointer + head, m: L, n: D, k: R,
                                      alpha: scale, beta: 1, lda: R, ldb: C, ldc: C)
                        Gemm.multiply(dC2P.pointer, s.q.pointer + head, into: dpk.pointer + h * D, m: R, n: D, k: L,
                                      transposeA: true, alpha: scale, beta: 1, lda: R, ldb: C, ldc: C)
                    }
                    if let dP2C, let dpq, let pq = positional.query {
                        Gemm.multiply(dP2C.pointer, pq.pointer + h * D, into: dk.pointer + head, m: L, n: D, k: R,
                                      alpha: scale, beta: 1, lda: R, ldb: C, ldc: C)
                        Gemm.multiply(dP2C.pointer, s.k.pointer + head, into: dpq.pointer + h * D, m: R, n: D, k: L,
                                      transposeA: true, alpha: scale, beta: 1, lda: R, ldb: C, ldc: C)
                    }
                }
            }
        }
        if let relative, let positional, let d = disentangled, let grad = relative.grad {
            // P's gradient from this layer's two projections, through its dropout, onto the pass's.
            let dP = Buffer(R * C)
            if let dpk, let k = d.positionKey { k.backward(dpk.pointer, input: positional.input, rows: R, dx: dP.pointer, accumulate: true) }
            if let dpq, let q = d.positionQuery { q.backward(dpq.pointer, input: positional.input, rows: R, dx: dP.pointer, accumulate: true) }
            if let m = positional.mask { TrainingKernels.multiply(dP.pointer, by: m.pointer, count: R * C) }
            Elementwise.add(dP.pointer, to: grad.pointer, count: R * C)
        }
        if let table = rotary.flatMap({ pass.rotary[$0.theta] }) {
            // through the rotation: dq, dk before it (the rotation's transpose)
            table.apply(dq.pointer, pass, ld: C, columns: 0..<C, inverse: true)
            table.apply(dk.pointer, pass, ld: C, columns: 0..<C, inverse: true)
        }
        // d input: onto the residual's dOut directly, or (pre-norm with its norm) through that norm
        let dNormed = preNorm && norm != nil ? Buffer(N * C) : nil
        let dInput = dNormed?.pointer ?? dOut
        query.backward(dq.pointer, input: s.input.pointer, rows: N, dx: dInput, accumulate: true)
        key.backward(dk.pointer, input: s.input.pointer, rows: N, dx: dInput, accumulate: true)
        value.backward(dv.pointer, input: s.input.pointer, rows: N, dx: dInput, accumulate: true)
        if let dNormed, let norm, let saved = s.norm {
            let dx = Buffer(N * C)
            norm.backward(dNormed.pointer, saved: saved, rows: N, into: dx.pointer)
            Elementwise.add(dx.pointer, to: dOut, count: N * C)
        }
    }
}
