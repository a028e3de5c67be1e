import Foundation

/// The OpenAPI 3.0 description of every route, served at /openapi.json. The tests check
/// each documented operation against the server's real answers.
enum OpenAPIDocument {
    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    private static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
    private static var string: [String: Any] { ["type": "string"] }
    private static var number: [String: Any] { ["type": "number"] }
    private static var integer: [String: Any] { ["type": "integer"] }
    private static var boolean: [String: Any] { ["type": "boolean"] }
    private static func object(_ properties: [String: [String: Any]], required: [String] = []) -> [String: Any] {
        var o: [String: Any] = ["type": "object", "properties": properties]
        if !required.isEmpty { o["required"] = required }
        return o
    }
    private static func oneOf(_ schemas: [String: Any]...) -> [String: Any] { ["oneOf": schemas] }

    private static func json(_ schema: [String: Any]) -> [String: Any] { ["content": ["application/json": ["schema": schema]]] }

    /// An operation with its success schema and the error statuses it can answer.
    private static func operation(_ summary: String, request: [String: Any]?, ok: [String: Any], errors: [Int], openAI: Bool = false) -> [String: Any] {
        var responses: [String: Any] = ["200": ["description": "success"].merging(json(ok)) { a, _ in a }]
        let error = ref(openAI ? "OpenAIError" : "ErrorResponse")
        for status in errors + [401] { responses["\(status)"] = ["description": "error"].merging(json(error)) { a, _ in a } }
        var op: [String: Any] = ["summary": summary, "responses": responses]
        if let request { op["requestBody"] = ["required": true].merging(json(request)) { a, _ in a } }
        return op
    }

    static let inference = [400, 413, 422, 429]

    static var document: [String: Any] {
        let textInput = oneOf(string, array(integer))
        let inputs = oneOf(string, array(integer), array(textInput))
        let truncation: [String: [String: Any]] = ["truncate": boolean, "truncation_direction": ["type": "string", "enum": ["right", "Right"]],
                                                   "model": string]
        let embed = object(truncation.merging(["inputs": inputs, "normalize": boolean, "dimensions": integer]) { a, _ in a }, required: ["inputs"])
        let prediction = array(object(["label": string, "score": number], required: ["label", "score"]))
        let predictInputs = oneOf(string, array(string), array(array(string)))
        let rank = object(["index": integer, "score": number, "text": string], required: ["index", "score"])
        let token = object(["id": integer, "text": string, "special": boolean,
                            "start": ["type": "integer", "nullable": true], "stop": ["type": "integer", "nullable": true]],
                           required: ["id", "text", "special", "start", "stop"])
        let cohereRequest = object(["query": string, "documents": array(oneOf(string, object(["text": string], required: ["text"]))),
                                    "top_n": integer, "return_documents": boolean, "model": string], required: ["query", "documents"])
        let cohereResponse = object([
            "id": string, "model": string, "usage": object(["total_tokens": integer]),
            "results": array(object(["index": integer, "relevance_score": number, "document": object(["text": string])],
                                    required: ["index", "relevance_score"])),
        ], required: ["results"])
        let openAIRequest = object(["input": inputs, "model": string, "encoding_format": ["type": "string", "enum": ["float", "base64"]],
                                    "dimensions": integer, "user": string], required: ["input"])
        let openAIResponse = object([
            "object": string, "model": string,
            "data": array(object(["object": string, "index": integer, "embedding": oneOf(array(number), string)],
                                 required: ["object", "index", "embedding"])),
            "usage": object(["prompt_tokens": integer, "total_tokens": integer], required: ["prompt_tokens", "total_tokens"]),
        ], required: ["object", "data", "model", "usage"])
        let paths: [String: Any] = [
            "/embed": ["post": operation("Sentence embeddings", request: embed, ok: array(array(number)), errors: inference)],
            "/embed_all": ["post": operation("Every token's last hidden state", request: embed, ok: array(array(array(number))), errors: inference)],
            "/similarity": ["post": operation("Cosine similarity of a sentence to others", request: object([
                "inputs": object(["source_sentence": string, "sentences": array(string)], required: ["source_sentence", "sentences"]),
                "parameters": object(truncation), "model": string], required: ["inputs"]), ok: array(number), errors: inference)],
            "/predict": ["post": operation("Classify texts or text pairs", request: object(truncation.merging(
                ["inputs": predictInputs, "raw_scores": boolean]) { a, _ in a }, required: ["inputs"]),
                ok: oneOf(prediction, array(prediction)), errors: inference)],
            "/rerank": ["post": operation("Rank texts by relevance to a query", request: object(truncation.merging(
                ["query": string, "texts": array(string), "raw_scores": boolean, "return_text": boolean]) { a, _ in a },
                required: ["query", "texts"]), ok: array(rank), errors: inference)],
            "/tokenize": ["post": operation("Tokens with offsets", request: object(["inputs": oneOf(string, array(string)),
                "add_special_tokens": boolean, "model": string], required: ["inputs"]), ok: array(array(token)), errors: [400, 413, 422])],
            "/decode": ["post": operation("Token ids back to text (WordPiece)", request: object(["ids": oneOf(array(integer), array(array(integer))),
                "skip_special_tokens": boolean, "model": string], required: ["ids"]), ok: array(string), errors: [400, 413, 422])],
            "/": ["post": operation("The first model's own route (/embed, /predict or /rerank)", request: ["type": "object"],
                                    ok: oneOf(array(array(number)), prediction, array(prediction), array(rank)), errors: inference)],
            "/v1/embeddings": ["post": operation("OpenAI embeddings", request: openAIRequest, ok: openAIResponse, errors: inference, openAI: true)],
            "/v1/rerank": ["post": operation("Cohere / Jina rerank", request: cohereRequest, ok: cohereResponse, errors: inference, openAI: true)],
            "/v2/rerank": ["post": operation("Cohere v2 rerank", request: cohereRequest, ok: cohereResponse, errors: inference, openAI: true)],
            "/v1/models": ["get": operation("Served models", request: nil, ok: object(["object": string, "data": array(object(
                ["id": string, "object": string, "created": integer, "owned_by": string], required: ["id", "object"]))],
                required: ["object", "data"]), errors: [], openAI: true)],
            "/info": ["get": operation("The served model and the server's limits", request: nil, ok: object([
                "model_id": string, "served_model_name": string, "model_type": ["type": "object"], "max_input_length": integer,
                "max_batch_tokens": integer, "max_concurrent_requests": integer, "max_client_batch_size": integer,
                "auto_truncate": boolean, "version": string, "models": array(["type": "object"])],
                required: ["model_id", "model_type", "max_input_length", "max_batch_tokens", "version"]), errors: [422])],
            "/health": ["get": ["summary": "200 when a one-token forward pass succeeds", "responses": [
                "200": ["description": "healthy"], "503": ["description": "unhealthy"].merging(json(ref("ErrorResponse"))) { a, _ in a }]]],
            "/metrics": ["get": ["summary": "Prometheus metrics", "responses": [
                "200": ["description": "text format", "content": ["text/plain": ["schema": string]]]]]],
            "/openapi.json": ["get": ["summary": "This document", "responses": ["200": ["description": "OpenAPI 3.0"].merging(json(["type": "object"])) { a, _ in a }]]],
        ]
        return [
            "openapi": "3.0.3",
            "info": ["title": "bert serve", "version": BertHTTPServer.version,
                     "description": "Text Embeddings Inference and OpenAI-compatible routes over BERT-family models"],
            "paths": paths,
            "components": [
                "schemas": [
                    "ErrorResponse": object(["error": string, "error_type": string], required: ["error", "error_type"]),
                    "OpenAIError": object(["error": object(["message": string, "type": string, "param": ["type": "string", "nullable": true],
                                                            "code": string], required: ["message", "type", "param", "code"])], required: ["error"]),
                ],
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
            ],
        ]
    }
}
