/// ALBERT: factorized embeddings (size E, projected to the hidden size by
/// embedding_hidden_mapping_in) and num_hidden_groups layer groups shared by all layers:
/// layer l uses group l · groups / layers (AlbertTransformer), one layer per group.
struct Albert: Architecture {
    let modelTypes = ["albert"]
    func classPrefix(_ c: Config) -> String { "Albert" }
    let maskedLMHead: String? = "predictions (AlbertMLMHead, hidden → embedding size)"
    let sequenceClassifier = ClassifierHead.Features.pooler

    func problem(_ c: Config) -> String? {
        guard c.numHiddenGroups >= 1, c.numHiddenGroups <= c.numHiddenLayers else {
            return "num_hidden_groups \(c.numHiddenGroups) must be within 1...num_hidden_layers (\(c.numHiddenLayers))"
        }
        return nil
    }

    func projectsEmbeddings(_ c: Config) -> Bool { true }

    func layerScope(_ layer: Int, _ c: Config) -> String {
        "encoder.layer.\(layer * c.numHiddenGroups / c.numHiddenLayers)"
    }
}
