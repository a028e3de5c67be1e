import Kernels

/// BertEmbeddings (and XLMRobertaEmbeddings: positions from pad_token_id + 1): word +
/// position + token type embeddings, then LayerNorm.
struct Embeddings {
    let word: Tensor       // (V, C)
    let position: Tensor   // (P, C)
    let tokenType: Tensor  // (TV, C)
    let norm: LayerNorm
    let positionOffset: Int
    var hidden: Int { word.shape[1] }

    init(_ w: WeightScope, config c: Config) throws {
        word = try w.tensor("word_embeddings.weight", shape: [c.vocabSize, c.hiddenSize])
        position = try w.tensor("position_embeddings.weight", shape: [c.maxPositionEmbeddings, c.hiddenSize])
        tokenType = try w.tensor("token_type_embeddings.weight", shape: [c.typeVocabSize, c.hiddenSize])
        norm = try LayerNorm(w.scope("LayerNorm"), size: c.hiddenSize, eps: c.layerNormEps)
        positionOffset = c.positionOffset
    }

    /// ids, typeIds: (B, T) → x: (B·T, C)
    func callAsFunction(_ batch: Batch, into x: UnsafeMutablePointer<Float>) {
        let c = hidden
        for b in 0..<batch.size {
            for t in 0..<batch.length {
                let r = b * batch.length + t
                let row = x + r * c
                word.copyRow(batch.ids[r], into: row)
                Elementwise.add(position.pointer + (positionOffset + t) * c, to: row, count: c)
                Elementwise.add(tokenType.pointer + batch.typeIds[r] * c, to: row, count: c)
            }
        }
        norm(x, rows: batch.rows)
    }
}
