import Foundation

/// The OpenAPI 3.0 description of every route of one server, served at /openapi.json: a
/// request valid by it is one this server accepts (the served models' names, batch sizes
/// within --max-client-batch-size, ids within the vocabulary, dimensions within the width),
/// so that a property-based client (tools/serve/schema_check, schemathesis) can hold the
/// server to "valid is answered, invalid is refused, never a 5xx". The tests check each
/// documented operation against the server's real answers.
enum OpenAPIDocument {
    private static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    private static func array(_ items: [String: Any]) -> [String: Any] { ["type": "array", "items": items] }
    /// A non-empty array of at most `max` items.
    private static func array(_ items: [String: Any], max: Int) -> [String: Any] {
        ["type": "array", "items": items, "minItems": 1, "maxItems": max]
    }
    private static func integer(_ range: ClosedRange<Int>) -> [String: Any] {
        ["type": "integer", "minimum": range.lowerBound, "maximum": range.upperBound]
    }
    /// `model`: one of the served models able to answer `kind`.
    private static func model(_ models: ModelSet, _ kind: ServedModel.Kind?) -> [String: Any] {
        let names = models.models.filter { kind.map($0.serves) ?? true }.map(\.name)
        return names.isEmpty ? ["type": "string", "description": "no model served here answers this route"]
                             : ["type": "string", "enum": names]
    }
    private static var string: [String: Any] { ["type": "string"] }
    private static var number: [String: Any] { ["type": "number"] }
    private static var integer: [String: Any] { ["type": "integer"] }
    private static var boolean: [String: Any] { ["type": "boolean"] }
    /// An object; a field it does not require may also be null, which means absent (as
    /// TEI's serde and our decoding both read it).
    private static func object(_ properties: [String: [String: Any]], required: [String] = []) -> [String: Any] {
        var fields = properties
        for (name, p) in properties where !required.contains(name) {
            var field = p.merging(["nullable": true]) { a, _ in a }
            if let values = p["enum"] as? [Any] { field["enum"] = values + [NSNull()] }  // OpenAPI 3.0: null must be listed too
            fields[name] = field
        }
        var o: [String: Any] = ["type": "object", "properties": fields]
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

    /// /decode's request: ids within the named model's own vocabulary (the models' vocabularies
    /// differ), the first model's when none is named; one list of any length (the payload limit
    /// bounds it) or at most `batch` lists. One alternative per model with a decoder (WordPiece,
    /// SentencePiece); /decode refuses the others.
    private static func decode(_ models: ModelSet, batch: Int) -> [String: Any] {
        func request(_ m: ServedModel, vocabulary: Int, named: Bool) -> [String: Any] {
            let list: [String: Any] = ["type": "array", "items": integer(0...(vocabulary - 1)), "minItems": 1]
            // Unnamed: `model` absent or null (an empty enum, to which `object` adds null).
            let model: [String: Any] = ["type": "string", "enum": named ? [m.name] : [String]()]
            return object(["ids": oneOf(list, array(list, max: batch)), "skip_special_tokens": boolean, "model": model],
                          required: named ? ["ids", "model"] : ["ids"])
        }
        var alternatives = models.models.compactMap { m in m.decoder.map { request(m, vocabulary: $0.vocabularySize, named: true) } }
        if let first = models.models.first, let decoder = first.decoder {
            alternatives.append(request(first, vocabulary: decoder.vocabularySize, named: false))
        }
        return alternatives.isEmpty ? ["type": "object", "description": "no model served here has a decoder (WordPiece or SentencePiece)"]
                                    : ["oneOf": alternatives]
    }

    static func document(_ models: ModelSet, _ options: ServerOptions) -> [String: Any] {
        let batch = options.maxClientBatchSize
        let all = models.models
        let embedders = all.filter { $0.serves(.embedding) }
        // Token ids (and lengths) that every model able to answer takes: a request may name any
        // of them. Ids as inputs reach only the embedding routes (/decode has its own).
        let capable = embedders.isEmpty ? all : embedders
        let id = integer(0...(capable.map(\.config.vocabSize).min()! - 1))
        // Over the model's length, ids are cut under --auto-truncate and refused without it.
        let ids: [String: Any] = options.autoTruncate ? ["type": "array", "items": id, "minItems": 1]
                                                      : array(id, max: capable.map(\.maxLength).min()!)
        let width = embedders.map(\.config.hiddenSize).min() ?? 1
        let textInput = oneOf(string, ids)
        let inputs = oneOf(string, ids, array(textInput, max: batch))
        func truncation(_ kind: ServedModel.Kind?) -> [String: [String: Any]] {
            ["truncate": boolean, "truncation_direction": ["type": "string", "enum": ["right", "Right"]], "model": model(models, kind)]
        }
        let embed = object(truncation(.embedding).merging(["inputs": inputs, "normalize": boolean, "dimensions": integer(1...width)]) { a, _ in a },
                           required: ["inputs"])
        let embedAll = object(truncation(.embedding).merging(["inputs": inputs]) { a, _ in a }, required: ["inputs"])
        let prediction = array(object(["label": string, "score": number], required: ["label", "score"]))
        let pair = ["type": "array", "items": string, "minItems": 1, "maxItems": 2] as [String: Any]
        let predictInputs = oneOf(string, pair, array(pair, max: batch))
        let rank = object(["index": integer, "score": number, "text": string], required: ["index", "score"])
        let token = object(["id": integer, "text": string, "special": boolean,
                            "start": ["type": "integer", "nullable": true], "stop": ["type": "integer", "nullable": true]],
                           required: ["id", "text", "special", "start", "stop"])
        let cohereRequest = object(["query": string, "documents": array(oneOf(string, object(["text": string], required: ["text"])), max: batch),
                                    "top_n": integer(1...Int.max), "return_documents": boolean, "model": model(models, .reranker)],
                                   required: ["query", "documents"])
        let cohereResponse = object([
            "id": string, "model": string, "usage": object(["total_tokens": integer]),
            "results": array(object(["index": integer, "relevance_score": number, "document": object(["text": string])],
                                    required: ["index", "relevance_score"])),
        ], required: ["results"])
        let openAIRequest = object(["input": inputs, "model": model(models, .embedding), "encoding_format": ["type": "string", "enum": ["float", "base64"]],
                                    "dimensions": integer(1...width), "user": string], required: ["input"])
        let openAIResponse = object([
            "object": string, "model": string,
            "data": array(object(["object": string, "index": integer, "embedding": oneOf(array(number), string)],
                                 required: ["object", "index", "embedding"])),
            "usage": object(["prompt_tokens": integer, "total_tokens": integer], required: ["prompt_tokens", "total_tokens"]),
        ], required: ["object", "data", "model", "usage"])
        let predict = object(truncation(.classifier).merging(["inputs": predictInputs, "raw_scores": boolean]) { a, _ in a }, required: ["inputs"])
        let rerank = object(truncation(.reranker).merging(["query": string, "texts": array(string, max: batch), "raw_scores": boolean,
                                                           "return_text": boolean]) { a, _ in a }, required: ["query", "texts"])
        let first: [String: Any] = switch all[0].kind {
        case .embedding: embed
        case .classifier: predict
        case .reranker: rerank
        }
        let paths: [String: Any] = [
            "/embed": ["post": operation("Sentence embeddings", request: embed, ok: array(array(number)), errors: inference)],
            "/embed_all": ["post": operation("Every token's last hidden state", request: embedAll, ok: array(array(array(number))), errors: inference)],
            "/similarity": ["post": operation("Cosine similarity of a sentence to others", request: object([
                "inputs": object(["source_sentence": string, "sentences": array(string, max: batch - 1)], required: ["source_sentence", "sentences"]),
                "parameters": object(truncation(.embedding).filter { $0.key != "model" }), "model": model(models, .embedding)], required: ["inputs"]), ok: array(number), errors: inference)],
            "/predict": ["post": operation("Classify texts or text pairs", request: predict,
                ok: oneOf(prediction, array(prediction)), errors: inference)],
            "/rerank": ["post": operation("Rank texts by relevance to a query", request: rerank, ok: array(rank), errors: inference)],
            "/tokenize": ["post": operation("Tokens with offsets", request: object(["inputs": oneOf(string, array(string, max: batch)),
                "add_special_tokens": boolean, "model": model(models, nil)], required: ["inputs"]), ok: array(array(token)), errors: [400, 413, 422])],
            "/decode": ["post": operation("Token ids back to text (WordPiece, SentencePiece)", request: decode(models, batch: batch),
                                          ok: array(string), errors: [400, 413, 422])],
            "/": ["post": operation("The first model's own route (/embed, /predict or /rerank)", request: first,
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
