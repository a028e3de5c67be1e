/// MPNet: BERT-shaped layers without token types, RoBERTa's positions (from
/// pad_token_id + 1), and a relative position bias shared by every layer's attention
/// (encoder.relative_attention_bias, relative_attention_num_buckets buckets of distance).
/// MPNetForSequenceClassification uses RoBERTa's head.
struct MPNet: Architecture {
    let modelTypes = ["mpnet"]
    func classPrefix(_ c: Config) -> String { "MPNet" }
    let maskedLMHead: String? = "lm_head (MPNetLMHead)"
    let sequenceClassifier = ClassifierHead.Features.roberta
    let relativeAttentionBias = true
    let mayLackTokenTypes = true

    func problem(_ c: Config) -> String? {
        if c.typeVocabSize != 0 { return "type_vocab_size must be 0 for mpnet (it has no token types), not \(c.typeVocabSize)" }
        if c.relativeAttentionNumBuckets < 4 || c.relativeAttentionNumBuckets % 4 != 0 {
            return "relative_attention_num_buckets \(c.relativeAttentionNumBuckets) must be a positive multiple of 4"
        }
        if c.relativeAttentionMaxDistance <= c.relativeAttentionNumBuckets / 4 {
            return "relative_attention_max_distance \(c.relativeAttentionMaxDistance) must exceed relative_attention_num_buckets / 4"
        }
        return nil
    }

    func positionOffset(_ c: Config) -> Int { positionsAfterPadding(c) }
}
