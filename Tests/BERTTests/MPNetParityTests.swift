import Foundation
import Testing
@testable import BERT

/// The real all-mpnet-base-v2 (tools/setup makes it from its PyPI wheels) against
/// sentence-transformers on the golden sentences (tools/golden/mpnet.py): token ids exact,
/// hidden states within 1e-4, embeddings within 1e-5 alone and batched.
@Suite struct MPNetParityTests {
    struct Golden: Decodable {
        let sentences: [String]
        let ids: [[Int]]
        let cosinePair: Double
    }

    let golden: Golden
    let reference: SafetensorsFile
    let embedder: SentenceEmbedder

    init() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        golden = try decoder.decode(Golden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("mpnet_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("mpnet_golden.safetensors").path)
        embedder = try SentenceEmbedder(directory: Checkout.model("all-mpnet-base-v2"))
    }

    @Test func configIsMPNet() {
        let c = embedder.config
        #expect(c.modelType == "mpnet" && c.hiddenSize == 768 && c.numHiddenLayers == 12)
        #expect(c.relativeAttentionNumBuckets == 32 && c.positionOffset == 2 && c.typeVocabSize == 0)
        #expect(c.maxLength == 384 && embedder.pooling == .mean && embedder.normalize)
    }

    @Test func tokenIdsEqualSentenceTransformers() throws {
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            #expect(try embedder.tokenizer.encode(sentence, maxLength: embedder.config.maxLength).ids == ids, "\(sentence)")
        }
    }

    @Test func hiddenStatesInOnePaddedBatchWithin1e4() throws {
        let all = try embedder.lastHiddenStates(golden.sentences)
        for (k, rows) in all.enumerated() {
            let theirs = try reference.tensor("hidden.\(k)").values
            let ours = rows.flatMap { $0 }
            #expect(ours.count == theirs.count)
            guard ours.count == theirs.count else { continue }
            #expect(maxAbsDifference(ours, theirs) < 1e-4, "\(golden.sentences[k])")
        }
    }

    @Test(arguments: [1, 32])
    func embeddingsWithin1e5(batchSize: Int) throws {
        let theirs = try reference.tensor("embeddings")
        let C = theirs.shape[1]
        let ours = try embedder.embed(golden.sentences, batchSize: batchSize)
        for (k, v) in ours.enumerated() {
            #expect(maxAbsDifference(v, Array(theirs.values[k * C..<(k + 1) * C])) < 1e-5, "\(golden.sentences[k])")
        }
        let cos = SentenceEmbedder.cosine(ours[0], ours[1])
        #expect(abs(Double(cos) - golden.cosinePair) < 1e-5)
    }
}
