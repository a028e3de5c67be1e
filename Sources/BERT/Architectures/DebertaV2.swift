/// DeBERTa-v2 and v3 (DebertaV2Model, DebertaV2ForSequenceClassification): BERT's post-norm
/// layers whose attention adds the disentangled content-to-position and position-to-content
/// terms over log-bucketed relative positions (`RelativeEmbeddings`, shared by the layers;
/// SelfAttention.Disentangled), scaled by 1/√(D · (1 + the terms)). v3 adds no absolute
/// positions (position_biased_input false) and has no token types. Its classifier is the
/// ContextPooler (dense, gelu on the first token; tools/convert renames pooler.dense to
/// classifier.dense and classifier to classifier.out_proj) and the output Linear.
struct DebertaV2: Architecture {
    let modelTypes = ["deberta-v2"]
    func classPrefix(_ c: Config) -> String { "DebertaV2" }
    let sequenceClassifier = ClassifierHead.Features.deberta
    let mayLackTokenTypes = true
    /// DebertaV2ForMaskedLM's head is not implemented; tools/convert drops it.
    let maskedLMHead: String? = nil

    func problem(_ c: Config) -> String? {
        if c.embeddingSize != c.hiddenSize {
            return "embedding_size \(c.embeddingSize) must equal hidden_size \(c.hiddenSize) for deberta-v2 (embed_proj is not supported)"
        }
        if let other = c.posAttType.first(where: { !["c2p", "p2c"].contains($0) }) {
            return "pos_att_type '\(other)' is not supported (c2p, p2c)"
        }
        if Set(c.posAttType).count != c.posAttType.count { return "pos_att_type lists a term twice" }
        if !["none", "layer_norm"].contains(c.normRelEbd) {
            return "norm_rel_ebd '\(c.normRelEbd)' is not supported (none, layer_norm)"
        }
        if c.poolerHiddenAct != "gelu" { return "pooler_hidden_act '\(c.poolerHiddenAct)' is not supported (gelu)" }
        if c.relativeAttention {
            if c.maxRelativePositions < 1 || c.maxRelativePositions > 1 << 16 {
                return "max_relative_positions \(c.maxRelativePositions) must be within 1...65536 (tools/convert writes it resolved)"
            }
            if c.positionBuckets > 1 << 16 { return "position_buckets \(c.positionBuckets) must be at most 65536" }
            if c.positionBuckets > 0, c.positionBuckets < 4 || c.maxRelativePositions <= c.positionBuckets / 2 + 1 {
                return "position_buckets \(c.positionBuckets) needs at least 4 buckets and max_relative_positions above buckets/2 + 1"
            }
        }
        return nil
    }

    func hasPositionEmbeddings(_ c: Config) -> Bool { c.positionBiasedInput }
    func disentangledAttention(_ c: Config) -> Bool { c.relativeAttention }
    func attentionScaleFactor(_ c: Config) -> Int { 1 + c.posAttType.count }
}

extension Config {
    /// DeBERTa-v2's S: the relative embeddings have 2S rows.
    var relativeSpan: Int { positionBuckets > 0 ? positionBuckets : maxRelativePositions }
}
