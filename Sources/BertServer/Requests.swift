/// The JSON bodies the routes accept, as TEI, OpenAI, Cohere and Jina define them.

/// One input: text, or token ids the client tokenized itself.
enum InputItem: Decodable, Sendable {
    case text(String)
    case ids([Int])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s); return }
        if let ids = try? c.decode(TokenIDs.self) { self = .ids(ids.ids); return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
            debugDescription: "expected a string or a list of token ids"))
    }
}

/// `inputs` / `input`: a string, a list of token ids, or a list of either.
struct Inputs: Decodable, Sendable {
    var items: [InputItem]
    /// The client sent one input, not a list: TEI then still answers a list of one.
    var single: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { (items, single) = ([.text(s)], true); return }
        if let ids = try? c.decode(TokenIDs.self), !ids.ids.isEmpty { (items, single) = ([.ids(ids.ids)], true); return }
        if let list = try? c.decode([InputItem].self) { (items, single) = (list, false); return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
            debugDescription: "expected a string, a list of strings, a list of token ids or a list of lists of token ids"))
    }
}

/// Options every text route shares.
protocol TruncatingRequest {
    var truncate: Bool? { get }
    var truncation_direction: String? { get }
    var prompt_name: String? { get }
}

struct EmbedRequest: Decodable, TruncatingRequest {
    var inputs: Inputs
    var truncate: Bool?
    var truncation_direction: String?
    var prompt_name: String?
    var normalize: Bool?
    var dimensions: JSONInteger?
    var model: String?
}

/// /predict's `inputs`: a text, a pair `[a, b]`, or a batch `[[a], [a, b], …]`.
struct PredictInputs: Decodable, Sendable {
    var items: [(String, String?)]
    var single: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        func sequence(_ list: [String]) throws -> (String, String?) {
            guard list.count == 1 || list.count == 2 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "each input is [text] or [text, pair], not \(list.count) strings"))
            }
            return (list[0], list.count == 2 ? list[1] : nil)
        }
        if let s = try? c.decode(String.self) { (items, single) = ([(s, nil)], true); return }
        if let list = try? c.decode([String].self), !list.isEmpty { (items, single) = ([try sequence(list)], true); return }
        if let batch = try? c.decode([[String]].self) { (items, single) = (try batch.map(sequence), false); return }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
            debugDescription: "expected a string, a pair [string, string], or a batch [[string], [string, string], …]"))
    }
}

struct PredictRequest: Decodable, TruncatingRequest {
    var inputs: PredictInputs
    var truncate: Bool?
    var truncation_direction: String?
    var prompt_name: String? { nil }
    var raw_scores: Bool?
    var model: String?
}

struct RerankRequest: Decodable, TruncatingRequest {
    var query: String
    var texts: [String]
    var truncate: Bool?
    var truncation_direction: String?
    var prompt_name: String? { nil }
    var raw_scores: Bool?
    var return_text: Bool?
    var model: String?
}

/// Cohere's and Jina's rerank: documents as strings or `{"text": …}`.
struct CohereRerankRequest: Decodable {
    struct Document: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            if let s = try? decoder.singleValueContainer().decode(String.self) { text = s; return }
            enum Keys: String, CodingKey { case text }
            text = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .text)
        }
    }
    var query: String
    var documents: [Document]
    var top_n: JSONInteger?
    var return_documents: Bool?
    var model: String?
}

struct SimilarityRequest: Decodable {
    struct Sentences: Decodable {
        var source_sentence: String
        var sentences: [String]
    }
    struct Parameters: Decodable, TruncatingRequest {
        var truncate: Bool?
        var truncation_direction: String?
        var prompt_name: String?
    }
    var inputs: Sentences
    var parameters: Parameters?
    var model: String?
}

struct TokenizeRequest: Decodable {
    /// A string or a list of strings.
    struct Texts: Decodable {
        var texts: [String]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { texts = [s]; return }
            texts = try c.decode([String].self)
        }
    }
    var inputs: Texts
    var add_special_tokens: Bool?
    var prompt_name: String?
    var model: String?
}

struct DecodeRequest: Decodable {
    /// A list of ids or a list of lists.
    struct IDs: Decodable {
        var rows: [[Int]]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let one = try? c.decode(TokenIDs.self) { rows = [one.ids]; return }
            rows = try c.decode([TokenIDs].self).map(\.ids)
        }
    }
    var ids: IDs
    var skip_special_tokens: Bool?
    var model: String?
}

struct OpenAIEmbeddingsRequest: Decodable {
    var input: Inputs
    var model: String?
    var encoding_format: String?
    var dimensions: JSONInteger?
    var user: String?
}
