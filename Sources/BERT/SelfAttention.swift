import Kernels

/// BertAttention: multi-head self-attention (BertSelfAttention) followed by the output
/// projection, residual and LayerNorm (BertSelfOutput).
struct SelfAttention {
    let query, key, value, output: Linear
    let norm: LayerNorm
    let heads: Int
    var hidden: Int { query.outFeatures }
    var headSize: Int { hidden / heads }

    init(_ w: WeightScope, config c: Config) throws {
        let s = w.scope("self"), o = w.scope("output")
        let C = c.hiddenSize
        query = try Linear(s.scope("query"), in: C, out: C)
        key = try Linear(s.scope("key"), in: C, out: C)
        value = try Linear(s.scope("value"), in: C, out: C)
        output = try Linear(o.scope("dense"), in: C, out: C)
        norm = try LayerNorm(o.scope("LayerNorm"), size: C, eps: c.layerNormEps)
        heads = c.numAttentionHeads
    }

    /// x: (ΣL, C), each sequence's real tokens one after another → LayerNorm(x + attention(x)),
    /// in place. Each sequence attends only to itself. With `lanes`, each thread takes half
    /// the heads (their q, k, v columns too), then half the output columns.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, batch: Batch, scratch s: Scratch, lanes: Lanes? = nil) {
        let (C, N) = (hidden, batch.tokens)
        if let lanes {
            let P = min(Lanes.parts, heads)
            lanes.split(P) { part, lane in
                self.heads(part * heads / P..<(part + 1) * heads / P, x, batch: batch, scratch: s, lane: lane)
            }
            lanes.split(Lanes.parts) { part, _ in
                output.accumulate(s.q, rows: N, into: x, columns: Lanes.columns(C, part: part, of: Lanes.parts))
            }
        } else {
            heads(0..<heads, x, batch: batch, scratch: s, lane: 0)
            output.accumulate(s.q, rows: N, into: x)
        }
        norm(x, rows: N)
    }

    /// The q, k, v columns of `range` heads, and their context (ΣL, D each) over their q columns.
    private func heads(_ range: Range<Int>, _ x: UnsafeMutablePointer<Float>, batch: Batch, scratch s: Scratch, lane: Int) {
        let (C, D, N, starts) = (hidden, headSize, batch.tokens, batch.starts)
        let columns = range.lowerBound * D..<range.upperBound * D
        query(x, rows: N, into: s.q, columns: columns)
        key(x, rows: N, into: s.k, columns: columns)
        value(x, rows: N, into: s.v, columns: columns)
        let scale = 1 / Float(D).squareRoot(), scores = s.scores(lane: lane)
        for b in 0..<batch.size {
            let L = batch.lengths[b], rowBase = starts[b] * C
            for h in range {
                let head = rowBase + h * D
                // scores (L, L) = q_h (L, D) · k_hᵀ / √D
                Gemm.multiply(s.q + head, s.k + head, into: scores, m: L, n: L, k: D,
                              transposeB: true, alpha: scale, lda: C, ldb: C, ldc: L)
                SoftmaxKernel.apply(scores, rows: L, cols: L)
                // context_h (L, D) = probs (L, L) · v_h (L, D), over q_h: nothing reads it again
                Gemm.multiply(scores, s.v + head, into: s.q + head, m: L, n: D, k: L,
                              lda: L, ldb: C, ldc: C)
            }
        }
    }
}
