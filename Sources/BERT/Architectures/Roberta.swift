/// RoBERTa and XLM-RoBERTa: BERT's layers with positions from pad_token_id + 1 and
/// RobertaClassificationHead (dense, tanh, out_proj on <s>) instead of the pooler.
struct Roberta: Architecture {
    let modelTypes = ["xlm-roberta", "roberta"]
    func classPrefix(_ c: Config) -> String { c.modelType == "roberta" ? "Roberta" : "XLMRoberta" }
    let maskedLMHead: String? = "lm_head (RobertaLMHead)"
    let sequenceClassifier = ClassifierHead.Features.roberta
    func positionOffset(_ c: Config) -> Int { positionsAfterPadding(c) }
}
