/// ELECTRA's discriminator: BERT's layers after embeddings of size E, projected to the
/// hidden size when E differs (embeddings_project); ElectraClassificationHead (dense,
/// GELU, out_proj on the first token), no pooler.
struct Electra: Architecture {
    let modelTypes = ["electra"]
    func classPrefix(_ c: Config) -> String { "Electra" }
    let maskedLMHead: String? = "generator_predictions, generator_lm_head (ElectraForMaskedLM, the generator)"
    let sequenceClassifier = ClassifierHead.Features.electra

    func projectsEmbeddings(_ c: Config) -> Bool { c.embeddingSize != c.hiddenSize }
}
