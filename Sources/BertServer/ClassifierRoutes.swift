import BERT
import Foundation
import Hummingbird

/// TEI's /predict and /rerank; Cohere's and Jina's /v1/rerank and /v2/rerank.
extension ServerState {
    func predict(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(PredictRequest.self, from: data)
        let model = try models.model(named: r.model, for: .classifier)
        guard case .classifier(let classifier) = model.facade else { throw APIError.validation("model '\(model.name)' is not a classifier") }
        let t = try Tokenization(model: model, request: r, autoTruncate: options.autoTruncate)
        let items = r.inputs.items
        let answer = try await infer(count: items.count, model: model, work: .logits) { try t.encode(items[$0].0, pair: items[$0].1, index: $0) }
        let raw = r.raw_scores ?? false
        let predictions: [[[String: Any]]] = answer.values.map { value in
            let scores = raw ? value.vector : classifier.head.scores(forLogits: value.vector)
            return zip(classifier.labels, scores).sorted { $0.1 > $1.1 }.map { ["label": $0.0, "score": Double($0.1)] }
        }
        let body: Any = r.inputs.single ? predictions[0] : predictions
        return RouteResult(response: JSONResponse.make(body), timings: answer.timings, tokens: answer.tokens, inputs: items.count)
    }

    /// One relevance score per text for `query`: the cross-encoder's sigmoid (or raw logit).
    private func relevance(query: String, texts: [String], model name: String?, raw: Bool,
                           tokenization: (ServedModel) throws -> Tokenization) async throws -> (ServedModel, [Float], Answer) {
        let model = try models.model(named: name, for: .reranker)
        let t = try tokenization(model)
        let answer = try await infer(count: texts.count, model: model, work: .logits) { try t.encode(query, pair: texts[$0], index: $0) }
        let scores = answer.values.map { v in raw ? v.vector[0] : 1 / (1 + Foundation.exp(-v.vector[0])) }
        return (model, scores, answer)
    }

    func rerank(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(RerankRequest.self, from: data)
        let (_, scores, answer) = try await relevance(query: r.query, texts: r.texts, model: r.model, raw: r.raw_scores ?? false) {
            try Tokenization(model: $0, request: r, autoTruncate: options.autoTruncate)
        }
        let ranks: [[String: Any]] = scores.indices.sorted { scores[$0] > scores[$1] }.map { i in
            var rank: [String: Any] = ["index": i, "score": Double(scores[i])]
            if r.return_text == true { rank["text"] = r.texts[i] }
            return rank
        }
        return RouteResult(response: JSONResponse.make(ranks), timings: answer.timings, tokens: answer.tokens, inputs: scores.count)
    }

    /// Cohere (v1, v2) and Jina: `results` of `index` and `relevance_score`, best first, `top_n` of them.
    func cohereRerank(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(CohereRerankRequest.self, from: data)
        if let n = r.top_n?.value, n < 1 { throw APIError.validation("top_n must be positive", param: "top_n") }
        let texts = r.documents.map(\.text)
        let (model, scores, answer) = try await relevance(query: r.query, texts: texts, model: r.model, raw: false) {
            Tokenization(model: $0, truncate: options.autoTruncate)
        }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(r.top_n?.value ?? scores.count)
        let results: [[String: Any]] = order.map { i in
            var result: [String: Any] = ["index": i, "relevance_score": Double(scores[i])]
            if r.return_documents == true { result["document"] = ["text": texts[i]] }
            return result
        }
        let body: [String: Any] = ["id": UUID().uuidString.lowercased(), "model": model.name, "results": results,
                                   "usage": ["total_tokens": answer.tokens]]
        return RouteResult(response: JSONResponse.make(body), timings: answer.timings, tokens: answer.tokens, inputs: texts.count)
    }
}
