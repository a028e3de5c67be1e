import Kernels

/// The embeddings of every architecture: word + position (+ token type) rows, LayerNorm,
/// dropout, and, where the embedding size E differs from the hidden size C (ALBERT,
/// ELECTRA), a projection to C. BertEmbeddings, RobertaEmbeddings (positions from
/// pad_token_id + 1), DistilBERT's and MPNet's (no token types), AlbertEmbeddings with
/// embedding_hidden_mapping_in, ElectraEmbeddings with embeddings_project; ModernBERT's word
/// rows and a LayerNorm without bias.
struct Embeddings {
    let word: Parameter        // (V, E)
    let position: Parameter?   // (P, E); DeBERTa-v3 has none
    let tokenType: Parameter?  // (TV, E)
    let norm: LayerNorm
    let projection: Linear?    // (C, E)
    let dropout: Dropout
    /// The position row of each sequence's first token.
    let positionOffset: Int
    /// The word row that gets no gradient (torch.nn.Embedding's padding_idx).
    let padId: Int
    var size: Int { word.shape[1] }

    init(_ w: WeightScope, config c: Config, architecture a: Architecture, dropout p: Float) throws {
        let E = c.embeddingSize
        word = try w.parameter("word_embeddings.weight", shape: [c.vocabSize, E])
        position = a.hasPositionEmbeddings(c) ? try w.parameter("position_embeddings.weight", shape: [c.maxPositionEmbeddings, E]) : nil
        tokenType = c.typeVocabSize > 0 ? try w.parameter("token_type_embeddings.weight", shape: [c.typeVocabSize, E]) : nil
        norm = try LayerNorm(w.scope("LayerNorm"), size: E, eps: c.layerNormEps, bias: a.normBias(c))
        projection = a.projectsEmbeddings(c) ? try Linear(w.scope("projection"), in: E, out: c.hiddenSize) : nil
        dropout = Dropout(p: p)
        positionOffset = a.positionOffset(c)
        padId = c.padTokenId
    }

    final class Saved {
        var norm: LayerNorm.Saved?
        var mask: Buffer?
        /// (ΣL, E) after LayerNorm and dropout: the projection's input.
        var embedded: Buffer?
    }

    /// ids, typeIds: (B, T) → x: (ΣL, C), the real tokens one sequence after another.
    func forward(_ pass: ForwardPass, into x: UnsafeMutablePointer<Float>) -> Saved? {
        let (batch, E, N) = (pass.batch, size, pass.batch.tokens)
        let s = pass.saving ? Saved() : nil
        if projection != nil, let s { s.embedded = Buffer(N * E) }
        let e = projection == nil ? x : (s?.embedded?.pointer ?? pass.scratch.embedded)
        for b in 0..<batch.size {
            for t in 0..<batch.lengths[b] {
                let r = b * batch.length + t
                let row = e + (pass.starts[b] + t) * E
                word.value.copyRow(batch.ids[r], cols: E, into: row)
                if let position { Elementwise.add(position.pointer + (positionOffset + t) * E, to: row, count: E) }
                if let tokenType { Elementwise.add(tokenType.pointer + batch.typeIds[r] * E, to: row, count: E) }
            }
        }
        let savedNorm = norm.forward(e, rows: N, saving: pass.saving)  // (not `s?.norm = …`: nil s would skip the call)
        s?.norm = savedNorm
        if let s, let m = dropout.mask(N * E, &pass.rng) {
            s.mask = m
            TrainingKernels.multiply(e, by: m.pointer, count: N * E)
        }
        if let projection { projection(e, rows: N, into: x) }
        return s
    }

    /// dx: dL/dx (ΣL, C), consumed. Scatter-adds into the tables, skipping the padding id.
    func backward(_ dx: UnsafeMutablePointer<Float>, saved s: Saved, pass: ForwardPass) {
        let (batch, E, N) = (pass.batch, size, pass.batch.tokens)
        var d = dx
        let projected = projection.map { _ in Buffer(N * E) }
        if let projection, let projected, let embedded = s.embedded {
            projection.backward(dx, input: embedded.pointer, rows: N, dx: projected.pointer)
            d = projected.pointer
        }
        if let m = s.mask { TrainingKernels.multiply(d, by: m.pointer, count: N * E) }
        let de = Buffer(N * E)
        norm.backward(d, saved: s.norm!, rows: N, into: de.pointer)
        for b in 0..<batch.size {
            for t in 0..<batch.lengths[b] {
                let r = b * batch.length + t
                let row = UnsafePointer(de.pointer + (pass.starts[b] + t) * E)
                if batch.ids[r] != padId { Elementwise.add(row, to: word.grad.pointer + batch.ids[r] * E, count: E) }
                if let position { Elementwise.add(row, to: position.grad.pointer + (positionOffset + t) * E, count: E) }
                if let tokenType { Elementwise.add(row, to: tokenType.grad.pointer + batch.typeIds[r] * E, count: E) }
            }
        }
    }
}
