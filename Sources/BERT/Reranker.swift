import Foundation

/// One document of a ranking: its position in the input, its score, and the text.
public struct RankedDocument: Sendable, Equatable {
    public let index: Int
    public let score: Float
    public let document: String
}

/// Ranks documents against a query. With a cross-encoder (a sequence classifier of one
/// output) each (query, document) pair is scored by the sigmoid of its logit, as
/// sentence-transformers' CrossEncoder.rank does; with an embedding model, by the cosine
/// of the query's and the document's embeddings.
///
///     let reranker = try Reranker(model: "all-MiniLM-L6-v2")
///     let top = try reranker.rank("the dog ran to the river", documents, topN: 3)
///     top[0].index, top[0].score
///
/// Safe to call from concurrent tasks.
public final class Reranker: @unchecked Sendable {
    enum Scorer {
        case crossEncoder(TextClassifier)
        case embedding(SentenceEmbedder)
    }

    let scorer: Scorer
    public var isCrossEncoder: Bool { if case .crossEncoder = scorer { return true } else { return false } }

    public convenience init(model: String, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), context: context)
    }

    public init(directory: ModelDirectory, context: ExecutionContext? = nil) throws {
        let config = directory.config
        if config.runtime.classifier != nil {
            guard config.labels.count <= 1 else {
                throw ModelError.missingHead(path: directory.url.appendingPathComponent("model.safetensors").path,
                                             needed: "one-output cross-encoder head", has: directory.headDescription,
                                             hint: "rerank with a cross-encoder (num_labels 1) or an embedding model")
            }
            scorer = .crossEncoder(try TextClassifier(directory: directory, context: context))
        } else {
            scorer = .embedding(try SentenceEmbedder(directory: directory, context: context))
        }
    }

    /// The documents best first (ties keep input order), at most `topN`.
    public func rank(_ query: String, _ documents: [String], topN: Int? = nil, batchSize: Int = 32) throws -> [RankedDocument] {
        if let n = topN, n < 1 { throw ModelError.invalidOption(name: "--top-n", reason: "must be at least 1, not \(n)") }
        guard !documents.isEmpty else { return [] }
        let scores: [Float]
        switch scorer {
        case .crossEncoder(let classifier):
            let logits = try classifier.logits(documents.map { _ in query }, pairs: documents, batchSize: batchSize)
            scores = logits.map { 1 / (1 + Foundation.exp(-$0[0])) }
        case .embedding(let embedder):
            let vectors = try embedder.embed([query] + documents, batchSize: batchSize)
            scores = vectors.dropFirst().map { SentenceEmbedder.cosine(vectors[0], $0) }
        }
        let order = documents.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return order.prefix(topN ?? documents.count).map { RankedDocument(index: $0, score: scores[$0], document: documents[$0]) }
    }
}
