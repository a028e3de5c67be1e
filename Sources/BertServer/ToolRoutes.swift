import BERT
import Foundation
import Hummingbird
import Tokenizers

/// The routes that run no model: /tokenize, /decode, /info, /v1/models, /metrics.
extension ServerState {
    /// Tokens with their ids, the text they cover (`start..<stop` in Unicode scalars of
    /// the input) and whether they are special (then no offsets).
    func tokenize(_ data: Data) throws -> RouteResult {
        let r = try JSONResponse.decode(TokenizeRequest.self, from: data)
        guard !r.inputs.texts.isEmpty else { throw APIError.empty() }
        guard r.inputs.texts.count <= options.maxClientBatchSize else {
            throw APIError.validation("\(r.inputs.texts.count) inputs is more than --max-client-batch-size \(options.maxClientBatchSize)")
        }
        if let p = r.prompt_name { throw APIError.validation("prompt_name '\(p)': the served models define no prompts", param: "prompt_name") }
        let model = try models.any(named: r.model)
        let withSpecials = r.add_special_tokens ?? true
        let rows: [[[String: Any]]] = try r.inputs.texts.enumerated().map { index, text in
            let e: Encoding
            do {
                e = try model.tokenizer.encode(text, pair: nil, maxLength: Int.max, truncation: .longestFirst)
            } catch {
                throw APIError(kind: .tokenizer, message: "input \(index): \(error)")
            }
            let scalars = Array(text.unicodeScalars)
            return e.ids.indices.compactMap { i -> [String: Any]? in
                let special = (i == 0 || i == e.count - 1) && e.offsets[i].isEmpty
                if special && !withSpecials { return nil }
                let range = e.offsets[i]
                var piece = String.UnicodeScalarView()
                if !special, range.upperBound <= scalars.count { piece.append(contentsOf: scalars[range]) }
                return ["id": e.ids[i], "text": special ? e.tokens[i] : String(piece), "special": special,
                        "start": special ? NSNull() : range.lowerBound as Any, "stop": special ? NSNull() : range.upperBound as Any]
            }
        }
        return RouteResult(response: JSONResponse.make(rows), inputs: rows.count)
    }

    func decode(_ data: Data) throws -> RouteResult {
        let r = try JSONResponse.decode(DecodeRequest.self, from: data)
        guard !r.ids.rows.isEmpty else { throw APIError.empty() }
        guard r.ids.rows.count <= options.maxClientBatchSize else {
            throw APIError.validation("\(r.ids.rows.count) id lists is more than --max-client-batch-size \(options.maxClientBatchSize); send them in smaller requests")
        }
        guard !r.ids.rows.contains(where: \.isEmpty) else { throw APIError.validation("an id list is empty: send at least one id in each") }
        let model = try models.any(named: r.model)
        guard let decoder = model.decoder else {
            throw APIError.validation("model '\(model.name)' has a \(model.config.runtime.tokenizer.kind) tokenizer, which /decode does not support (WordPiece and SentencePiece only)")
        }
        for (row, ids) in r.ids.rows.enumerated() {
            if let (i, id) = ids.enumerated().first(where: { !(0..<decoder.vocabularySize).contains($0.element) }) {
                let at = r.ids.rows.count == 1 ? "position \(i)" : "list \(row), position \(i)"
                throw APIError.validation("token id \(id) at \(at) is outside the vocabulary (0..<\(decoder.vocabularySize))", param: "ids")
            }
        }
        // TEI's /decode: the tokenizer's decoder alone, without transformers' clean-up of the text.
        let texts = r.ids.rows.map { decoder.decodeWithoutCleanUp($0, skipSpecialTokens: r.skip_special_tokens ?? true) }
        return RouteResult(response: JSONResponse.make(texts), inputs: texts.count)
    }

    /// TEI's /info for one model (`?model=NAME`, else the first), plus every served model.
    func info(_ request: Request) throws -> RouteResult {
        let model = try models.any(named: request.uri.queryParameters["model"].map(String.init))
        var body = describe(model)
        body["models"] = models.models.map { describe($0) }
        return RouteResult(response: JSONResponse.make(body))
    }

    private func describe(_ model: ServedModel) -> [String: Any] {
        let c = model.config
        let modelType: [String: Any]
        switch model.kind {
        case .embedding:
            modelType = ["embedding": ["pooling": c.runtime.pooling.rawValue]]
        case .classifier, .reranker:
            let labels = model.labels
            let id2label = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ("\($0.offset)", $0.element) })
            let label2id = Dictionary(labels.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
            modelType = [model.kind.rawValue: ["id2label": id2label, "label2id": label2id]]
        }
        let precision: String = switch model.facade {
        case .embedder(let e): e.precision.rawValue
        case .classifier(let k): k.precision.rawValue
        }
        return [
            "model_id": c.runtime.source ?? model.name, "model_sha": NSNull(), "model_dtype": precision == "bf16" ? "bfloat16" : precision == "int8" ? "int8" : "float32",
            "served_model_name": model.name, "model_type": modelType,
            "max_concurrent_requests": options.maxConcurrentRequests, "max_input_length": model.maxLength,
            "max_batch_tokens": options.maxBatchTokens, "max_batch_requests": NSNull(),
            "max_client_batch_size": options.maxClientBatchSize, "auto_truncate": options.autoTruncate,
            "tokenization_workers": ProcessInfo.processInfo.activeProcessorCount,
            "version": BertHTTPServer.version, "sha": NSNull(), "docker_label": NSNull(),
        ]
    }

    func listModels() -> RouteResult {
        let data: [[String: Any]] = models.models.map { ["id": $0.name, "object": "model", "created": 0, "owned_by": "bert"] }
        return RouteResult(response: JSONResponse.make(["object": "list", "data": data]))
    }
}
