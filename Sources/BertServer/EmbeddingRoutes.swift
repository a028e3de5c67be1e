import BERT
import Foundation
import Hummingbird

/// TEI's /embed, /embed_all and /similarity, and OpenAI's /v1/embeddings.
extension ServerState {
    /// Pooled vectors for `inputs`: cut to `dimensions` (when given), then normalized (when asked).
    func embeddings(_ inputs: [InputItem], model: ServedModel, truncate: Tokenization, normalize: Bool,
                    dimensions: Int?) async throws -> (vectors: [[Float]], answer: Answer) {
        let C = model.config.hiddenSize
        if let d = dimensions, !(1...C).contains(d) {
            throw APIError.validation("dimensions \(d) must be between 1 and \(C) for \(model.name)", param: "dimensions")
        }
        let answer = try await infer(count: inputs.count, model: model, work: .pooled) { try truncate.encode(inputs[$0], index: $0) }
        let vectors = answer.values.map { value -> [Float] in
            let v = dimensions.map { Array(value.vector.prefix($0)) } ?? value.vector
            return normalize ? Pooling.unitLength(v) : v
        }
        return (vectors, answer)
    }

    func embed(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(EmbedRequest.self, from: data)
        let model = try models.model(named: r.model, for: .embedding)
        let t = try Tokenization(model: model, request: r, autoTruncate: options.autoTruncate)
        let (vectors, answer) = try await embeddings(r.inputs.items, model: model, truncate: t, normalize: r.normalize ?? true, dimensions: r.dimensions?.value)
        return RouteResult(response: try JSONResponse.make(encoding: vectors), timings: answer.timings, tokens: answer.tokens, inputs: vectors.count)
    }

    func embedAll(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(EmbedRequest.self, from: data)
        let model = try models.model(named: r.model, for: .embedding)
        let t = try Tokenization(model: model, request: r, autoTruncate: options.autoTruncate)
        let items = r.inputs.items
        let answer = try await infer(count: items.count, model: model, work: .tokenStates) { try t.encode(items[$0], index: $0) }
        return RouteResult(response: try JSONResponse.make(encoding: answer.values.map(\.matrix)), timings: answer.timings,
                           tokens: answer.tokens, inputs: items.count)
    }

    /// Cosine similarity of `source_sentence` to each of `sentences`.
    func similarity(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(SimilarityRequest.self, from: data)
        guard !r.inputs.sentences.isEmpty else { throw APIError.empty("sentences is empty: send at least one") }
        let model = try models.model(named: r.model, for: .embedding)
        let t = try r.parameters.map { try Tokenization(model: model, request: $0, autoTruncate: options.autoTruncate) }
            ?? Tokenization(model: model, truncate: options.autoTruncate)
        let texts = [r.inputs.source_sentence] + r.inputs.sentences
        let (vectors, answer) = try await embeddings(texts.map { .text($0) }, model: model, truncate: t, normalize: true, dimensions: nil)
        let scores = vectors.dropFirst().map { SentenceEmbedder.cosine(vectors[0], $0) }
        return RouteResult(response: try JSONResponse.make(encoding: scores), timings: answer.timings, tokens: answer.tokens, inputs: texts.count)
    }

    /// OpenAI's embeddings: float arrays, or base64 of little-endian float32.
    func openAIEmbeddings(_ data: Data) async throws -> RouteResult {
        let r = try JSONResponse.decode(OpenAIEmbeddingsRequest.self, from: data)
        let format = r.encoding_format ?? "float"
        guard format == "float" || format == "base64" else {
            throw APIError.validation("encoding_format '\(format)' is not supported: use float or base64", param: "encoding_format")
        }
        let model = try models.model(named: r.model, for: .embedding)
        let t = Tokenization(model: model, truncate: options.autoTruncate)
        let (vectors, answer) = try await embeddings(r.input.items, model: model, truncate: t, normalize: true, dimensions: r.dimensions?.value)
        let body = OpenAIEmbeddings(
            data: vectors.enumerated().map { i, v in
                .init(index: i, embedding: format == "base64" ? .base64(Self.base64(v)) : .float(v))
            },
            model: model.name, usage: .init(prompt_tokens: answer.tokens, total_tokens: answer.tokens))
        return RouteResult(response: try JSONResponse.make(encoding: body), timings: answer.timings, tokens: answer.tokens, inputs: vectors.count)
    }

    static func base64(_ v: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(v.count * 4)
        for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}

/// OpenAI's embeddings response.
struct OpenAIEmbeddings: Encodable {
    struct Item: Encodable {
        enum Vector: Encodable {
            case float([Float])
            case base64(String)
            func encode(to encoder: any Swift.Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case .float(let v): try c.encode(v)
                case .base64(let s): try c.encode(s)
                }
            }
        }
        var object = "embedding"
        let index: Int
        let embedding: Vector
    }
    struct Usage: Encodable {
        let prompt_tokens: Int
        let total_tokens: Int
    }
    var object = "list"
    let data: [Item]
    let model: String
    let usage: Usage
}
