import Kernels

/// The masked-LM head of every architecture: dense (C → E), activation, LayerNorm (E), then
/// the decoder (V, E) with its bias: BertLMPredictionHead (`cls.predictions`),
/// RobertaLMHead and MPNetLMHead (`lm_head`), DistilBERT's vocab_transform /
/// vocab_layer_norm / vocab_projector, AlbertMLMHead (`predictions`, E the embedding size)
/// and ELECTRA's generator head. tools/convert stores it under `mlm.`; a tied decoder is the
/// word-embedding table itself (the same `Parameter`, so in training both gradients add up).
struct MaskedLMHead {
    let dense: Linear      // (E, C)
    let activation: Activation
    let norm: LayerNorm    // (E)
    let decoder: Linear    // (V, E)
    var vocabularySize: Int { decoder.outFeatures }

    init(_ root: WeightScope, config c: Config, settings m: Config.MaskedLMSettings) throws {
        let (V, E) = (c.vocabSize, c.embeddingSize)
        let w = root.scope("mlm")
        dense = try Linear(w.scope("dense"), in: c.hiddenSize, out: E)
        activation = Config.activation(named: m.activation) ?? .gelu  // Config.problem refused the others
        norm = try LayerNorm(w.scope("LayerNorm"), size: E, eps: m.layerNormEps)
        let weight = m.tied ? try root.parameter("embeddings.word_embeddings.weight", shape: [V, E])
                            : try w.parameter("decoder.weight", shape: [V, E])
        decoder = Linear(weight: weight, bias: try w.parameter("bias", shape: [V]))
    }

    // MARK: forward

    /// x: (rows, C) hidden states → logits (rows, V).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        let t = Buffer(rows * norm.size)
        dense(x, rows: rows, into: t.pointer)
        activation.apply(t.pointer, count: rows * norm.size)
        norm.forward(t.pointer, rows: rows)
        decoder(t.pointer, rows: rows, into: logits)
    }

    /// What the backward needs.
    final class Saved {
        let input: Buffer           // (rows, C)
        let preActivation: Buffer   // (rows, E): dense's output
        let normalized: Buffer      // (rows, E): the decoder's input
        let norm: LayerNorm.Saved
        init(input: Buffer, preActivation: Buffer, normalized: Buffer, norm: LayerNorm.Saved) {
            (self.input, self.preActivation, self.normalized, self.norm) = (input, preActivation, normalized, norm)
        }
    }

    /// x: (rows, C) → logits (rows, V), keeping what the backward needs.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) -> Saved {
        let E = norm.size
        let input = Buffer(copying: x, count: rows * dense.inFeatures)
        let pre = Buffer(rows * E)
        dense(x, rows: rows, into: pre.pointer)
        let t = Buffer(copying: pre.pointer, count: rows * E)
        activation.apply(t.pointer, count: rows * E)
        let savedNorm = norm.forward(t.pointer, rows: rows, saving: true)!
        decoder(t.pointer, rows: rows, into: logits)
        return Saved(input: input, preActivation: pre, normalized: t, norm: savedNorm)
    }

    /// dLogits (rows, V) → dx (rows, C), written; accumulates the head's gradients (and, when
    /// tied, the word embeddings').
    func backward(_ dLogits: UnsafePointer<Float>, saved s: Saved, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        let E = norm.size
        let dNormalized = Buffer(rows * E), dActivated = Buffer(rows * E)
        decoder.backward(dLogits, input: s.normalized.pointer, rows: rows, dx: dNormalized.pointer)
        norm.backward(dNormalized.pointer, saved: s.norm, rows: rows, into: dActivated.pointer)
        activation.backward(inputs: s.preActivation.pointer, grad: dActivated.pointer, count: rows * E)
        dense.backward(dActivated.pointer, input: s.input.pointer, rows: rows, dx: dx)
    }
}
