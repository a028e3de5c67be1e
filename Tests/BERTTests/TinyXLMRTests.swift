import Foundation
import Testing
@testable import BERT

/// A tiny random XLM-RoBERTa (tools/golden/xlmr_tiny.py, converted by tools/convert) against
/// transformers' XLMRobertaModel: positions after pad_token_id, one token type, eps 1e-5.
struct TinyXLMRTests {
    struct Golden: Decodable {
        let sentences: [String]
        let ids: [[Int]]
    }

    let golden: Golden
    let reference: SafetensorsFile
    let embedder: SentenceEmbedder

    init() throws {
        golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("tiny_xlmr_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("tiny_xlmr_golden.safetensors").path)
        embedder = try SentenceEmbedder(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("tiny-xlmr")))
    }

    @Test func configIsXLMRoberta() {
        #expect(embedder.config.modelType == "xlm-roberta")
        #expect(embedder.config.positionOffset == 2 && embedder.config.maxPositions == 38)
        #expect(embedder.config.typeVocabSize == 1 && embedder.config.layerNormEps == 1e-5)
        #expect(embedder.tokenizer.padId == 1)
    }

    @Test func idsEqualTransformers() throws {
        #expect(golden.ids.contains { $0.count == 38 }, "one sentence should be truncated to the limit")
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            #expect(try embedder.tokenizer.encode(sentence, maxLength: embedder.config.maxLength).ids == ids, "\(sentence)")
        }
    }

    @Test func hiddenStatesAloneAndBatchedWithin1e5() throws {
        let batched = try embedder.lastHiddenStates(golden.sentences)
        for (k, sentence) in golden.sentences.enumerated() {
            let theirs = try reference.tensor("hidden.\(k)").values
            for ours in [try embedder.lastHiddenState(sentence).flatMap { $0 }, batched[k].flatMap { $0 }] {
                #expect(ours.count == theirs.count, "\(sentence)")
                guard ours.count == theirs.count else { continue }
                #expect(maxAbsDifference(ours, theirs) < 1e-5, "\(sentence)")
            }
        }
    }
}
