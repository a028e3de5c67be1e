import Foundation
import Testing
@testable import BERT

/// What tools/golden/rerank.py wrote from sentence-transformers.
struct RerankGolden: Decodable {
    struct Hit: Decodable { let corpusId: Int; let score: Double }
    let query: String
    let documents: [String]
    let crossEncoder: [Hit]
    let embedding: [Hit]
}

@Suite struct RerankerGoldenTests {
    func golden() throws -> RerankGolden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RerankGolden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("rerank/rerank_golden.json")))
    }

    /// CrossEncoder.rank on a tiny one-output BERT: order exact, sigmoid scores within 1e-5.
    @Test func crossEncoder() throws {
        let g = try golden()
        let reranker = try Reranker(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("rerank/cross-encoder")))
        #expect(reranker.isCrossEncoder)
        let ranked = try reranker.rank(g.query, g.documents)
        #expect(ranked.map(\.index) == g.crossEncoder.map(\.corpusId))
        for (a, b) in zip(ranked, g.crossEncoder) { #expect(abs(Double(a.score) - b.score) < 1e-5) }
        #expect(try reranker.rank(g.query, g.documents, topN: 2).map(\.index) == Array(g.crossEncoder.prefix(2).map(\.corpusId)))
    }

    /// all-MiniLM-L6-v2 (models/ from tools/setup): cosine ranking as sentence-transformers' cos_sim.
    @Test func embedding() throws {
        let g = try golden()
        let reranker = try Reranker(directory: Checkout.model("all-MiniLM-L6-v2"))
        #expect(!reranker.isCrossEncoder)
        let ranked = try reranker.rank(g.query, g.documents)
        #expect(ranked.map(\.index) == g.embedding.map(\.corpusId))
        for (a, b) in zip(ranked, g.embedding) { #expect(abs(Double(a.score) - b.score) < 1e-5) }
    }

    @Test func errors() throws {
        // A 3-label classifier is not a cross-encoder: the message says which head it has.
        do {
            _ = try Reranker(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/distilbert-classifier")))
            Issue.record("a 3-label classifier was accepted as a cross-encoder")
        } catch {
            #expect("\(error)".contains("one-output cross-encoder head") && "\(error)".contains("(3 labels)"), "\(error)")
        }
        let g = try golden()
        let reranker = try Reranker(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("rerank/cross-encoder")))
        #expect(throws: ModelError.self) { try reranker.rank(g.query, g.documents, topN: 0) }
        #expect(try reranker.rank(g.query, []).isEmpty)
    }
}
