import Foundation
import Testing

/// Every refusal: its status, and its body in the route's own JSON shape (TEI's
/// `{"error", "error_type"}`, OpenAI's `{"error": {"message", "type", "param", "code"}}`).
@Suite(.serialized) struct LimitTests {
    static let key = "test-key-0123"
    static let auth = ["Authorization": "Bearer \(key)"]

    func expectTEI(_ reply: ServerProcess.Reply, _ status: Int, _ type: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "status \(reply.status): \(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        #expect(reply.object["error_type"] as? String == type, "\(reply.text)", sourceLocation: sourceLocation)
        #expect((reply.object["error"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    }

    func expectOpenAI(_ reply: ServerProcess.Reply, _ status: Int, _ type: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "status \(reply.status): \(reply.text)", sourceLocation: sourceLocation)
        let error = reply.object["error"] as? [String: Any] ?? [:]
        #expect(error["type"] as? String == type, "\(reply.text)", sourceLocation: sourceLocation)
        #expect((error["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error.keys.contains("param") && error["code"] is String, sourceLocation: sourceLocation)
    }

    @Test func refusals() async throws {
        let server = try ServerProcess(ServerProcess.standardModels + [
            "--max-client-batch-size", "4", "--max-concurrent-requests", "3", "--payload-limit", "4000",
            "--no-auto-truncate", "--api-key", Self.key])
        defer { #expect(server.stop() == 0) }
        let s = server, a = Self.auth

        // 401 without or with a wrong key, on every route but /health.
        expectTEI(try await s.post("/embed", ["inputs": "hi"]), 401, "unauthorized")
        expectTEI(try await s.post("/embed", ["inputs": "hi"], headers: ["Authorization": "Bearer wrong-key-0123"]), 401, "unauthorized")
        expectTEI(try await s.get("/info", headers: ["Authorization": "Bearer"]), 401, "unauthorized")
        expectOpenAI(try await s.post("/v1/embeddings", ["input": "hi"]), 401, "authentication_error")
        expectTEI(try await s.get("/metrics"), 401, "unauthorized")
        #expect(try await s.get("/health").status == 200)
        #expect(try await s.post("/embed", ["inputs": "hi"], headers: a).status == 200)

        // 413 over --payload-limit (by Content-Length).
        let big = String(repeating: "word ", count: 1000)
        expectTEI(try await s.post("/embed", ["inputs": big], headers: a), 413, "payload_limit")
        expectOpenAI(try await s.post("/v1/embeddings", ["input": big], headers: a), 413, "invalid_request_error")

        // 400: empty inputs; a body that is not JSON.
        expectTEI(try await s.post("/embed", ["inputs": [String]()], headers: a), 400, "empty")
        expectTEI(try await s.post("/predict", ["inputs": [[String]]()], headers: a), 400, "empty")
        expectTEI(try await s.post("/rerank", ["query": "q", "texts": [String]()], headers: a), 400, "empty")
        expectOpenAI(try await s.post("/v1/embeddings", ["input": [String]()], headers: a), 400, "invalid_request_error")
        expectTEI(try await s.request("POST", "/embed", body: Data("{\"inputs\": ".utf8), headers: a), 400, "validation")
        expectOpenAI(try await s.request("POST", "/v1/embeddings", body: Data("not json".utf8), headers: a), 400, "invalid_request_error")

        // 422: JSON of the wrong shape, too many inputs, too long without truncation, unknown model, wrong kind.
        let shape = try await s.post("/embed", ["inputs": 5], headers: a)
        expectTEI(shape, 422, "validation")
        #expect((shape.object["error"] as? String)?.contains("inputs") == true)
        expectTEI(try await s.post("/embed", ["input": "hi"], headers: a), 422, "validation")
        expectTEI(try await s.post("/embed", ["inputs": ["a", "b", "c", "d", "e"]], headers: a), 422, "validation")
        let long = String(repeating: "token ", count: 300)
        expectTEI(try await s.post("/embed", ["inputs": long], headers: a), 422, "validation")
        #expect(try await s.post("/embed", ["inputs": long, "truncate": true], headers: a).status == 200)
        expectTEI(try await s.post("/embed", ["inputs": [[5, 999_999]]], headers: a), 422, "validation")
        expectTEI(try await s.post("/embed", ["inputs": "hi", "model": "nope"], headers: a), 422, "validation")
        expectTEI(try await s.post("/predict", ["inputs": "hi", "model": "all-MiniLM-L6-v2"], headers: a), 422, "validation")
        expectTEI(try await s.post("/rerank", ["query": "q", "texts": ["t"], "model": "sentiment"], headers: a), 422, "validation")
        expectTEI(try await s.post("/embed", ["inputs": "hi", "truncation_direction": "left"], headers: a), 422, "validation")
        expectTEI(try await s.post("/embed", ["inputs": "hi", "dimensions": 0], headers: a), 422, "validation")
        let model = try await s.post("/v1/embeddings", ["input": "hi", "model": "text-embedding-3-small"], headers: a)
        expectOpenAI(model, 422, "invalid_request_error")
        #expect((model.object["error"] as? [String: Any])?["param"] as? String == "model")
        expectOpenAI(try await s.post("/v1/embeddings", ["input": "hi", "encoding_format": "int8"], headers: a), 422, "invalid_request_error")
        expectOpenAI(try await s.post("/v1/rerank", ["query": "q"], headers: a), 422, "invalid_request_error")
        expectTEI(try await s.post("/decode", ["ids": [1, 99_999]], headers: a), 422, "validation")
        // /decode as its schema says: one list of any length, a batch of at most --max-client-batch-size
        // lists (4 here), and no empty list.
        #expect(try await s.post("/decode", ["ids": Array(repeating: 1000, count: 69)], headers: a).status == 200)
        expectTEI(try await s.post("/decode", ["ids": [[1000], [1000], [1000], [1000], [1000]]], headers: a), 422, "validation")
        expectTEI(try await s.post("/decode", ["ids": [Int]()], headers: a), 422, "validation")
        expectTEI(try await s.post("/decode", ["ids": [[1000], []]], headers: a), 422, "validation")
        // Integers are written as integers (JSON Schema's and TEI's reading): 1000.0 and 1e3 are not ids,
        // nor a dimension or a top_n; Foundation alone would take them.
        func raw(_ path: String, _ body: String) async throws -> ServerProcess.Reply {
            try await s.request("POST", path, body: Data(body.utf8), headers: a)
        }
        #expect(try await raw("/decode", #"{"ids": [1000, 2000]}"#).status == 200)
        expectTEI(try await raw("/decode", #"{"ids": [1000.0, 2000]}"#), 422, "validation")
        expectTEI(try await raw("/decode", #"{"ids": [[1000], [1e3]]}"#), 422, "validation")
        expectTEI(try await raw("/embed", #"{"inputs": [0.0, 0.0, 0.0]}"#), 422, "validation")
        expectTEI(try await raw("/embed", #"{"inputs": [[101, 102], [101.0, 102]]}"#), 422, "validation")
        expectTEI(try await raw("/embed", #"{"inputs": "hi", "dimensions": 8.0}"#), 422, "validation")
        #expect(try await raw("/embed", #"{"inputs": "hi", "dimensions": 8}"#).status == 200)
        expectOpenAI(try await raw("/v1/rerank", #"{"query": "q", "documents": ["a"], "top_n": 1.0}"#), 422, "invalid_request_error")
        // Rerank pairs the query with each text, one input each: the schema admits --max-client-batch-size
        // texts (documents), as the server does (4 would pass it and meet the 3 permits: 429 below).
        expectTEI(try await s.post("/rerank", ["query": "q", "texts": ["a", "b", "c", "d", "e"]], headers: a), 422, "validation")
        let document = try await s.get("/openapi.json", headers: a).object
        func requestSchema(_ path: String) -> [String: Any]? {
            let post = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?["post"] as? [String: Any]
            let body = (post?["requestBody"] as? [String: Any])?["content"] as? [String: Any]
            return ((body?["application/json"] as? [String: Any])?["schema"] as? [String: Any])?["properties"] as? [String: Any]
        }
        #expect((requestSchema("/rerank")?["texts"] as? [String: Any])?["maxItems"] as? Int == 4)
        #expect((requestSchema("/v1/rerank")?["documents"] as? [String: Any])?["maxItems"] as? Int == 4)

        // 429: more inputs than --max-concurrent-requests can ever admit at once.
        expectTEI(try await s.post("/embed", ["inputs": ["a", "b", "c", "d"]], headers: a), 429, "overloaded")
        expectOpenAI(try await s.post("/v1/embeddings", ["input": ["a", "b", "c", "d"]], headers: a), 429, "rate_limit_error")

        // 404 in the same shapes.
        expectTEI(try await s.get("/nowhere", headers: a), 404, "not_found")
        expectOpenAI(try await s.post("/v1/nowhere", ["x": 1], headers: a), 404, "invalid_request_error")

        // The failures are counted by cause.
        let metrics = try await s.get("/metrics", headers: a).text
        #expect(metrics.contains(#"te_request_failure{method="embed",err="overloaded"} 1"#))
        #expect(metrics.contains(#"te_request_failure{method="embed",err="payload_limit"} 1"#))
    }

    /// 429 under load: with one permit, of many one-input requests sent at once some are
    /// admitted (200) and the rest refused at once (429); none fails otherwise.
    @Test func permitsRunOut() async throws {
        let server = try ServerProcess(["--model", ServerProcess.model("all-MiniLM-L6-v2"), "--max-concurrent-requests", "1"])
        defer { #expect(server.stop() == 0) }
        let long = String(repeating: "a longer sentence to keep the engine busy ", count: 5)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<24 { group.addTask { try await server.post("/embed", ["inputs": long]).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.contains(200))
        #expect(statuses.contains(429))
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 })
    }
}
