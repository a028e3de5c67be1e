import Kernels

/// BertEmbeddings with gradients: word + position + token type, LayerNorm, dropout.
/// The backward scatter-adds into the three tables, skipping the padding id as
/// torch.nn.Embedding(padding_idx:) does.
struct TrainableEmbeddings {
    let word, position, tokenType: Parameter  // (V, C), (P, C), (TV, C)
    let norm: TrainableLayerNorm
    let dropout: Dropout
    let padId: Int
    var hidden: Int { word.shape[1] }

    init(_ params: ParameterSet, from w: WeightScope, config c: Config, dropout p: Float) throws {
        let C = c.hiddenSize
        word = params.add("embeddings.word_embeddings.weight", try w.tensor("word_embeddings.weight", shape: [c.vocabSize, C]))
        position = params.add("embeddings.position_embeddings.weight",
                              try w.tensor("position_embeddings.weight", shape: [c.maxPositionEmbeddings, C]))
        tokenType = params.add("embeddings.token_type_embeddings.weight",
                               try w.tensor("token_type_embeddings.weight", shape: [c.typeVocabSize, C]))
        norm = try TrainableLayerNorm(params, "embeddings.LayerNorm", from: w.scope("LayerNorm"), size: C, eps: c.layerNormEps)
        dropout = Dropout(p: p)
        padId = c.padTokenId
    }

    final class Saved {
        var norm: TrainableLayerNorm.Saved!
        var mask: Buffer?
    }

    /// ids, typeIds: (B, T) → x: (ΣL, C), the real tokens one sequence after another.
    func forward(_ batch: Batch, into x: UnsafeMutablePointer<Float>, rng: inout SplitMix64?) -> Saved {
        let (C, N, starts) = (hidden, batch.tokens, batch.starts)
        for b in 0..<batch.size {
            for t in 0..<batch.lengths[b] {
                let r = b * batch.length + t
                let row = x + (starts[b] + t) * C
                row.update(from: word.pointer + batch.ids[r] * C, count: C)
                Elementwise.add(position.pointer + t * C, to: row, count: C)
                Elementwise.add(tokenType.pointer + batch.typeIds[r] * C, to: row, count: C)
            }
        }
        let s = Saved()
        s.norm = norm.forward(x, rows: N)
        s.mask = dropout.mask(N * C, &rng)
        if let m = s.mask { TrainingKernels.multiply(x, by: m.pointer, count: N * C) }
        return s
    }

    /// dx: dL/dx (ΣL, C), consumed.
    func backward(_ dx: UnsafeMutablePointer<Float>, saved s: Saved, batch: Batch) {
        let (C, N, starts) = (hidden, batch.tokens, batch.starts)
        if let m = s.mask { TrainingKernels.multiply(dx, by: m.pointer, count: N * C) }
        let de = Buffer(N * C)
        norm.backward(dx, saved: s.norm, rows: N, into: de.pointer)
        for b in 0..<batch.size {
            for t in 0..<batch.lengths[b] {
                let r = b * batch.length + t
                let row = UnsafePointer(de.pointer + (starts[b] + t) * C)
                if batch.ids[r] != padId { Elementwise.add(row, to: word.grad.pointer + batch.ids[r] * C, count: C) }
                Elementwise.add(row, to: position.grad.pointer + t * C, count: C)
                Elementwise.add(row, to: tokenType.grad.pointer + batch.typeIds[r] * C, count: C)
            }
        }
    }
}
