import BERT
import Tokenizers

/// Text (or client token ids) to encodings the engine can run, with the request's truncation.
struct Tokenization {
    let model: ServedModel
    /// Cut inputs over the model's length rather than refuse them.
    let truncate: Bool

    init(model: ServedModel, request: any TruncatingRequest, autoTruncate: Bool) throws {
        if let d = request.truncation_direction, !["right", "Right"].contains(d) {
            throw APIError.validation("truncation_direction '\(d)' is not supported: this server truncates on the right only", param: "truncation_direction")
        }
        if let p = request.prompt_name {
            throw APIError.validation("prompt_name '\(p)': the served models define no prompts", param: "prompt_name")
        }
        self.init(model: model, truncate: request.truncate ?? autoTruncate)
    }

    init(model: ServedModel, truncate: Bool) {
        self.model = model
        self.truncate = truncate
    }

    func encode(_ item: InputItem, index: Int) throws -> Encoding {
        switch item {
        case .text(let text): return try encode(text, pair: nil, index: index)
        case .ids(let ids): return try encode(ids: ids, index: index)
        }
    }

    func encode(_ text: String, pair: String?, index: Int) throws -> Encoding {
        let limit = model.maxLength
        let e: Encoding
        do {
            e = try model.tokenizer.encode(text, pair: pair, maxLength: truncate ? limit : Int.max, truncation: .longestFirst)
        } catch {
            throw APIError(kind: .tokenizer, message: "input \(index): \(error)")
        }
        guard e.count <= limit else {
            throw APIError.validation("input \(index) has \(e.count) tokens, more than \(model.name)'s limit of \(limit); shorten it or send \"truncate\": true")
        }
        return e
    }

    func encode(ids: [Int], index: Int) throws -> Encoding {
        guard !ids.isEmpty else { throw APIError.empty("input \(index) is an empty list of token ids") }
        let limit = model.maxLength
        guard ids.count <= limit || truncate else {
            throw APIError.validation("input \(index) has \(ids.count) tokens, more than \(model.name)'s limit of \(limit); shorten it or send \"truncate\": true")
        }
        let kept = Array(ids.prefix(limit))
        return Encoding(ids: kept, tokens: Array(repeating: "", count: kept.count), typeIds: Array(repeating: 0, count: kept.count),
                        attentionMask: Array(repeating: 1, count: kept.count), offsets: Array(repeating: 0..<0, count: kept.count))
    }
}
