import Foundation
import Hummingbird

/// Every route and the function that answers it.
enum Routes {
    static func router(_ s: ServerState) -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.add(middleware: Gatekeeper(apiKey: s.options.apiKey))
        func post(_ path: RouterPath, _ name: String, _ body: @escaping @Sendable (ServerState, Data) async throws -> RouteResult) {
            router.post(path) { request, context in await s.handle(name, request, context) { try await body(s, $0) } }
        }
        post("/embed", "embed") { try await $0.embed($1) }
        post("/embed_all", "embed_all") { try await $0.embedAll($1) }
        post("/similarity", "similarity") { try await $0.similarity($1) }
        post("/predict", "predict") { try await $0.predict($1) }
        post("/rerank", "rerank") { try await $0.rerank($1) }
        post("/tokenize", "tokenize") { try $0.tokenize($1) }
        post("/decode", "decode") { try $0.decode($1) }
        post("/v1/embeddings", "openai_embeddings") { try await $0.openAIEmbeddings($1) }
        post("/embeddings", "openai_embeddings") { try await $0.openAIEmbeddings($1) }
        post("/v1/rerank", "cohere_rerank") { try await $0.cohereRerank($1) }
        post("/v2/rerank", "cohere_rerank") { try await $0.cohereRerank($1) }
        // POST / answers as the first model's own route (huggingface_hub's InferenceClient posts there).
        post("/", "root") { s, data in
            switch s.models.models[0].kind {
            case .embedding: try await s.embed(data)
            case .classifier: try await s.predict(data)
            case .reranker: try await s.rerank(data)
            }
        }
        router.get("/health") { request, context in
            await s.handle("health", request, context) { _ in
                try await s.healthCheck()
                return RouteResult(response: Response(status: .ok))
            }
        }
        router.get("/info") { request, context in await s.handle("info", request, context) { _ in try s.info(request) } }
        router.get("/v1/models") { request, context in await s.handle("models", request, context) { _ in s.listModels() } }
        router.get("/metrics") { request, _ in
            var response = JSONResponse.make(data: Data(s.metrics.text().utf8))
            response.headers[.contentType] = "text/plain; version=0.0.4"
            return response
        }
        let document = JSONResponse.make(OpenAPIDocument.document(s.models, s.options))
        router.get("/openapi.json") { _, _ in document }
        return router
    }
}
