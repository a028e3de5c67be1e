import Foundation
import Testing
@testable import BERT

/// all-MiniLM-L6-v2 against PyTorch: token ids exact, last hidden states within 1e-4,
/// sentence embeddings within 1e-5 (DESIGN.md's tolerances).
@Suite(.serialized) struct GoldenParityTests {
    let golden: MiniLMGolden
    let reference: SafetensorsFile
    let embedder: SentenceEmbedder

    init() throws {
        (golden, reference) = try MiniLMGolden.load()
        embedder = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"))
    }

    func referenceHidden(_ k: Int) throws -> [Float] { try reference.tensor("hidden.\(k)").values }

    @Test func tokenIdsEqualHuggingFace() throws {
        #expect(golden.sentences.count >= 20)
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            let e = try embedder.tokenizer.encode(sentence, maxLength: embedder.config.maxLength)
            #expect(e.ids == ids, "\(sentence)")
        }
    }

    @Test func hiddenStatesAloneWithin1e4() throws {
        for (k, sentence) in golden.sentences.enumerated() {
            let ours = try embedder.lastHiddenState(sentence).flatMap { $0 }
            let theirs = try referenceHidden(k)
            #expect(ours.count == theirs.count, "\(sentence)")
            guard ours.count == theirs.count else { continue }
            #expect(maxAbsDifference(ours, theirs) < 1e-4, "\(sentence)")
        }
    }

    @Test func hiddenStatesInOnePaddedBatchWithin1e4() throws {
        let all = try embedder.lastHiddenStates(golden.sentences)
        #expect(Set(all.map(\.count)).count > 5, "the batch should mix lengths")
        for (k, rows) in all.enumerated() {
            let theirs = try referenceHidden(k)
            let ours = rows.flatMap { $0 }
            #expect(ours.count == theirs.count)
            guard ours.count == theirs.count else { continue }
            #expect(maxAbsDifference(ours, theirs) < 1e-4, "\(golden.sentences[k])")
        }
    }

    @Test(arguments: [1, 8, 32])
    func embeddingsWithin1e5(batchSize: Int) throws {
        let theirs = try reference.tensor("embeddings")
        let C = theirs.shape[1]
        let ours = try embedder.embed(golden.sentences, batchSize: batchSize)
        for (k, v) in ours.enumerated() {
            let expected = Array(theirs.values[k * C..<(k + 1) * C])
            #expect(maxAbsDifference(v, expected) < 1e-5, "\(golden.sentences[k])")
        }
    }

    @Test func cosineOfTheEatingPair() throws {
        #expect(golden.sentences[0] == "A man is eating food.")
        #expect(golden.sentences[1] == "A man is eating a piece of bread.")
        let v = try embedder.embed(Array(golden.sentences[0...1]))
        let cos = SentenceEmbedder.cosine(v[0], v[1])
        #expect(abs(Double(cos) - golden.cosinePair) < 1e-5)
        #expect(String(format: "%.4f", cos) == "0.7553")
    }

    @Test func poolingOverrides() throws {
        let sentence = golden.sentences[2]
        let rows = try embedder.lastHiddenState(sentence)
        let cls = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"), pooling: .cls, normalize: false)
        #expect(try cls.embed(sentence) == rows[0])
        let max = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"), pooling: .max, normalize: false)
        let expected = (0..<rows[0].count).map { c in rows.map { $0[c] }.max()! }
        #expect(try max.embed(sentence) == expected)
    }
}
