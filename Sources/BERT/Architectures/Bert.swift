/// BERT (BertModel, BertForSequenceClassification): absolute positions from 0, token
/// types, the pooler tanh(dense(h[CLS])) under the classifier.
struct Bert: Architecture {
    let modelTypes = ["bert"]
    func classPrefix(_ c: Config) -> String { "Bert" }
    let maskedLMHead: String? = "cls.predictions (BertLMPredictionHead)"
    let sequenceClassifier = ClassifierHead.Features.pooler
}
