/// ModernBERT (ModernBertModel, ModernBertForSequenceClassification): word embeddings and a
/// LayerNorm (no positions, no token types); pre-norm layers (layer 0's attention takes its
/// input as it is) with a fused Wqkv, rotary positions on q and k, a sliding window of
/// local_attention / 2 each way in the "sliding_attention" layers (base local_rope_theta) and
/// full attention in the others (global_rope_theta), and a GeGLU feed-forward; biases only
/// where attention_bias, mlp_bias and norm_bias say; a final LayerNorm. Its classifier is
/// ModernBertPredictionHead (dense, GELU, LayerNorm) on the first token or the mean of the
/// tokens (classifier_pooling), then the output Linear.
struct ModernBert: Architecture {
    let modelTypes = ["modernbert"]
    func classPrefix(_ c: Config) -> String { "ModernBert" }
    let sequenceClassifier = ClassifierHead.Features.modernbert
    let mayLackTokenTypes = true
    /// ModernBertForMaskedLM's head is not implemented; tools/convert drops it.
    let maskedLMHead: String? = nil

    func problem(_ c: Config) -> String? {
        if c.typeVocabSize != 0 { return "type_vocab_size must be 0 for modernbert (it has no token types), not \(c.typeVocabSize)" }
        if c.embeddingSize != c.hiddenSize { return "embedding_size \(c.embeddingSize) must equal hidden_size \(c.hiddenSize) for modernbert" }
        if (c.hiddenSize / max(c.numAttentionHeads, 1)) % 2 != 0 {
            return "the head size \(c.hiddenSize / max(c.numAttentionHeads, 1)) must be even for rotary positions"
        }
        if c.layerTypes.count != c.numHiddenLayers {
            return "layer_types lists \(c.layerTypes.count) layers, not num_hidden_layers \(c.numHiddenLayers) (re-run tools/convert)"
        }
        if let other = c.layerTypes.first(where: { $0 != "full_attention" && $0 != "sliding_attention" }) {
            return "layer_types entry '\(other)' is not supported (full_attention, sliding_attention)"
        }
        for (name, theta) in [("global_rope_theta", c.globalRopeTheta), ("local_rope_theta", c.localRopeTheta)]
        where !(theta > 1 && theta.isFinite) {
            return "\(name) \(theta) must be a finite number above 1"
        }
        if c.localAttention < 0 { return "local_attention \(c.localAttention) must not be negative" }
        if !["cls", "mean"].contains(c.classifierPooling) {
            return "classifier_pooling '\(c.classifierPooling)' is not supported (cls, mean)"
        }
        if c.classifierActivation != "gelu" { return "classifier_activation '\(c.classifierActivation)' is not supported (gelu)" }
        return nil
    }

    func hasPositionEmbeddings(_ c: Config) -> Bool { false }
    func normBias(_ c: Config) -> Bool { c.normBias }
    func hasFinalNorm(_ c: Config) -> Bool { true }

    func layerVariant(_ c: Config, layer: Int) -> LayerVariant {
        // (Config.load refuses layer_types of another length; a Config built in code may still have one.)
        let local = c.layerTypes.indices.contains(layer) && c.layerTypes[layer] == "sliding_attention"
        return LayerVariant(preNorm: true, attentionInputNorm: layer > 0, attentionBias: c.attentionBias,
                            feedForwardBias: c.mlpBias, fusedQKV: true, gated: true,
                            rotary: RotaryAttention(theta: local ? c.localRopeTheta : c.globalRopeTheta,
                                                    window: local ? c.localAttention / 2 : nil))
    }
}
