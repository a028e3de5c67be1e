import BERT
import FuzzSupport

/// A config.json of arbitrary bytes: either ModelError.invalidConfig naming the file, or a
/// config whose numbers the runtime can build a model from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzFile.write(bytes(data, size), name: "config.json")
    let config: Config
    do {
        config = try Config.load(from: url)
    } catch let error as ModelError {
        guard case .invalidConfig(let path, _) = error else { require(false, "not invalidConfig: \(error)"); return 0 }
        require(path == url.path, "the error names \(path), not the file")
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    for value in [config.vocabSize, config.hiddenSize, config.numHiddenLayers, config.numAttentionHeads,
                  config.intermediateSize, config.maxPositionEmbeddings] {
        require(value > 0, "a non-positive dimension accepted: \(config)")
    }
    // type_vocab_size 0 means no token types, which only DistilBERT, MPNet and DeBERTa may have
    require(config.typeVocabSize > 0 || ["distilbert", "mpnet", "deberta-v2", "modernbert"].contains(config.modelType),
            "type_vocab_size \(config.typeVocabSize) accepted for \(config.modelType)")
    // DeBERTa's relative positions: a table of 2S rows, log buckets with a finite ratio
    if config.modelType == "deberta-v2", config.relativeAttention {
        require(config.maxRelativePositions >= 1 && config.maxRelativePositions <= 1 << 16, "max_relative_positions \(config.maxRelativePositions)")
        require(config.positionBuckets <= 0 || (config.positionBuckets >= 4 && config.maxRelativePositions > config.positionBuckets / 2 + 1),
                "position_buckets \(config.positionBuckets) with max_relative_positions \(config.maxRelativePositions)")
    }
    if config.modelType == "modernbert" {
        require(config.layerTypes.count == config.numHiddenLayers, "layer_types \(config.layerTypes.count) for \(config.numHiddenLayers) layers")
        require(config.layerTypes.allSatisfy { $0 == "full_attention" || $0 == "sliding_attention" }, "layer_types \(config.layerTypes)")
        require(config.globalRopeTheta > 1 && config.localRopeTheta > 1 && config.localAttention >= 0, "rope bases or window")
        require(config.typeVocabSize == 0 && (config.hiddenSize / config.numAttentionHeads) % 2 == 0, "token types or odd head size")
    }
    require(config.hiddenSize % config.numAttentionHeads == 0, "heads do not divide hidden_size")
    require(config.layerNormEps > 0, "layer_norm_eps \(config.layerNormEps)")
    require(config.positionOffset >= 0 && config.positionOffset < config.maxPositionEmbeddings, "position offset")
    require(config.maxLength >= 1 && config.maxLength <= config.maxPositions, "maxLength \(config.maxLength)")
    require(config.labels.count == (config.id2label?.count ?? 0), "labels \(config.labels) from \(String(describing: config.id2label))")
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
