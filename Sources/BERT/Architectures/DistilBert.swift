/// DistilBERT: BERT's layers without token types (tools/convert writes type_vocab_size 0
/// and renames q_lin, sa_layer_norm, ffn.lin1, … to BERT's names); its classifier is
/// pre_classifier, ReLU, classifier on the first token.
struct DistilBert: Architecture {
    let modelTypes = ["distilbert"]
    func classPrefix(_ c: Config) -> String { "DistilBert" }
    let maskedLMHead: String? = "vocab_transform, vocab_layer_norm, vocab_projector"
    let sequenceClassifier = ClassifierHead.Features.distilbert
    let mayLackTokenTypes = true

    func problem(_ c: Config) -> String? {
        c.typeVocabSize == 0 ? nil : "type_vocab_size must be 0 for distilbert (it has no token types), not \(c.typeVocabSize)"
    }
}
