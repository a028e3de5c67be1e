import Foundation
import Kernels

/// The encoder of every architecture: embeddings, the stack of layers (ALBERT's share
/// their weights), MPNet's relative position bias, ModernBERT's rotary tables and final
/// LayerNorm, and the pooler when the checkpoint has one. For inference the weights stay memory-mapped; for training they are the
/// owned parameters of a `ParameterSet` in training mode.
public struct Encoder: @unchecked Sendable {
    public let config: Config
    let architecture: any Architecture
    let embeddings: Embeddings
    let layers: [EncoderLayer]
    let relativeBias: RelativePositionBias?
    /// DeBERTa-v2's relative embeddings, read by every layer's disentangled attention.
    let relativeEmbeddings: RelativeEmbeddings?
    /// BertPooler's dense (tanh follows), when the checkpoint has pooler.dense.
    let pooler: Linear?
    /// The LayerNorm after the last layer (ModernBERT's final_norm).
    let finalNorm: LayerNorm?
    /// The rotary bases the layers use (ModernBERT's global and local θ): a table each per pass.
    let rotaryBases: [Float]

    /// Loads and checks every tensor of `checkpoint` against `config`; a tensor left
    /// over (a classifier head, say) is an error: load those through `ModelDirectory`.
    public init(config: Config, checkpoint: SafetensorsFile) throws {
        let weights = Weights(checkpoint)
        try self.init(weights.scope(""), config: config)
        try weights.finish()
    }

    /// Loads the encoder's tensors from `root` (the pooler's when the checkpoint has them),
    /// as views or trainable copies as `root`'s parameter set says. `dropout`: training's;
    /// `pooler`: false to leave the pooler out (training a head that does not read it).
    init(_ root: WeightScope, config c: Config, dropout p: Float = 0, pooler loadsPooler: Bool = true) throws {
        config = c
        architecture = c.architecture
        embeddings = try Embeddings(root.scope("embeddings"), config: c, architecture: architecture, dropout: p)
        var loaded: [String: EncoderLayer] = [:]
        var layers: [EncoderLayer] = []
        for l in 0..<c.numHiddenLayers {
            let scope = architecture.layerScope(l, c)
            if loaded[scope] == nil {
                loaded[scope] = try EncoderLayer(root.scope(scope), config: c, layer: l, attentionDropout: p, hiddenDropout: p)
            }
            layers.append(loaded[scope]!)
        }
        self.layers = layers
        relativeBias = architecture.relativeAttentionBias
            ? try RelativePositionBias(root.scope("encoder.relative_attention_bias"), buckets: c.relativeAttentionNumBuckets,
                                       heads: c.numAttentionHeads, maxDistance: c.relativeAttentionMaxDistance)
            : nil
        relativeEmbeddings = architecture.disentangledAttention(c) ? try RelativeEmbeddings(root.scope("encoder"), config: c) : nil
        let poolerScope = root.scope("pooler.dense")
        pooler = loadsPooler && poolerScope.exists ? try Linear(poolerScope, in: c.hiddenSize, out: c.hiddenSize) : nil
        finalNorm = architecture.hasFinalNorm(c)
            ? try LayerNorm(root.scope("final.LayerNorm"), size: c.hiddenSize, eps: c.layerNormEps, bias: architecture.normBias(c))
            : nil
        var bases: [Float] = []
        for l in 0..<c.numHiddenLayers {
            if let theta = architecture.layerVariant(c, layer: l).rotary?.theta, !bases.contains(theta) { bases.append(theta) }
        }
        rotaryBases = bases
    }

    /// ids (B, T) → last hidden states (B, T, C). Rows past a sequence's length hold
    /// values that mean nothing; pooling ignores them.
    func callAsFunction(_ batch: Batch) -> Tensor {
        self(batch, scratch: Scratch(config: config))
    }

    /// The same, with working memory that the caller reuses across batches. `lone`: the
    /// batch runs alone, cut in the lanes' parts (on `lanes` when given, else here).
    func callAsFunction(_ batch: Batch, scratch: Scratch, lone: Bool = false, lanes: Lanes? = nil) -> Tensor {
        let C = config.hiddenSize
        let hidden = Tensor(zeros: [batch.size, batch.length, C])
        let x = hidden.mutablePointer
        scratch.reserve(rows: batch.tokens, length: batch.length)
        let pass = ForwardPass(batch: batch, scratch: scratch, lone: lone, lanes: lanes)
        let padded = batch.tokens < batch.rows
        let packed = padded ? scratch.packed : x  // without padding, (ΣL, C) is (B·T, C)
        _ = forward(pass, into: packed)
        if padded {
            for (b, length) in batch.lengths.enumerated() {
                (x + b * batch.length * C).update(from: packed + pass.starts[b] * C, count: length * C)
            }
        }
        return hidden
    }

    /// What the backward needs of a training pass.
    final class Saved {
        let embeddings: Embeddings.Saved
        let layers: [EncoderLayer.Saved]
        let finalNorm: LayerNorm.Saved?
        init(embeddings: Embeddings.Saved, layers: [EncoderLayer.Saved], finalNorm: LayerNorm.Saved?) {
            self.embeddings = embeddings
            self.layers = layers
            self.finalNorm = finalNorm
        }
    }

    /// The batch → x: (ΣL, C), its real tokens' last hidden states, packed.
    func forward(_ pass: ForwardPass, into x: UnsafeMutablePointer<Float>) -> Saved? {
        pass.positionBias = relativeBias?.forward(length: pass.batch.length, saving: pass.saving)
        pass.relative = relativeEmbeddings?.forward(length: pass.batch.length, saving: pass.saving)
        let D = config.hiddenSize / config.numAttentionHeads
        for theta in rotaryBases { pass.rotary[theta] = RotaryTable(theta: theta, headSize: D, length: pass.batch.length) }
        let e = embeddings.forward(pass, into: x)
        var saved: [EncoderLayer.Saved] = []
        for layer in layers {
            if let s = layer.forward(x, pass) { saved.append(s) }
        }
        let final = finalNorm?.forward(x, rows: pass.batch.tokens, saving: pass.saving)
        guard let e else { return nil }
        return Saved(embeddings: e, layers: saved, finalNorm: final)
    }

    /// dx: dL/d(last hidden) (ΣL, C), consumed; accumulates every parameter's gradient.
    func backward(_ dx: UnsafeMutablePointer<Float>, saved s: Saved, pass: ForwardPass) {
        if let finalNorm, let saved = s.finalNorm {
            let N = pass.batch.tokens * config.hiddenSize
            let d = Buffer(N)
            finalNorm.backward(dx, saved: saved, rows: pass.batch.tokens, into: d.pointer)
            dx.update(from: d.pointer, count: N)
        }
        for (layer, saved) in zip(layers, s.layers).reversed() { layer.backward(dx, saved: saved, pass: pass) }
        if let bias = pass.positionBias { relativeBias?.backward(bias) }
        if let relative = pass.relative { relativeEmbeddings?.backward(relative) }
        embeddings.backward(dx, saved: s.embeddings, pass: pass)
    }
}
