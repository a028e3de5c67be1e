import BERT
import Foundation
import Tokenizers

/// One model the server answers with: its façade, what routes it serves, and its tokenizer.
final class ServedModel: Sendable {
    enum Kind: String, Sendable {
        /// A sentence embedder: /embed, /embed_all, /similarity, /v1/embeddings.
        case embedding
        /// A classifier of two or more labels: /predict.
        case classifier
        /// A one-output classifier, a cross-encoder: /rerank and /predict.
        case reranker
    }

    enum Facade: Sendable {
        case embedder(SentenceEmbedder)
        case classifier(TextClassifier)
    }

    /// The name clients send as `model`: the directory's last component.
    let name: String
    let kind: Kind
    let facade: Facade
    let directory: ModelDirectory
    let tokenizer: any Tokenizer
    /// The tokenizer's decoder, for /decode; nil when it has none (tokenizer.json).
    var decoder: (any TokenDecoding)? { tokenizer as? any TokenDecoding }

    var config: Config { directory.config }
    var maxLength: Int { config.maxLength }

    init(loading model: String, precision: Precision? = nil) throws {
        directory = try ModelDirectory(resolving: model)
        name = directory.url.standardizedFileURL.lastPathComponent
        let config = directory.config
        if config.runtime.classifier != nil || config.id2label != nil {
            let classifier = try TextClassifier(directory: directory, precision: precision)
            facade = .classifier(classifier)
            kind = classifier.labels.count == 1 ? .reranker : .classifier
            tokenizer = classifier.tokenizer
        } else {
            let embedder = try SentenceEmbedder(directory: directory, precision: precision)
            facade = .embedder(embedder)
            kind = .embedding
            tokenizer = embedder.tokenizer
        }
    }

    /// Whether this model can answer a route that needs `wanted`.
    func serves(_ wanted: Kind) -> Bool {
        wanted == kind || (wanted == .classifier && kind == .reranker)
    }

    var labels: [String] {
        if case .classifier(let c) = facade { return c.labels }
        return []
    }
}

/// The models of one server, in the order of the --model flags.
struct ModelSet: Sendable {
    let models: [ServedModel]

    /// The model named `name`, which must serve `kind`; without a name, the first that does.
    func model(named name: String?, for kind: ServedModel.Kind) throws -> ServedModel {
        if let name {
            guard let m = models.first(where: { $0.name == name }) else {
                throw APIError.validation("unknown model '\(name)'; served: \(models.map(\.name).joined(separator: ", "))", param: "model")
            }
            guard m.serves(kind) else {
                throw APIError.validation("model '\(name)' is a \(m.kind.rawValue) model and cannot answer a \(kind.rawValue) route", param: "model")
            }
            return m
        }
        guard let m = models.first(where: { $0.serves(kind) }) else {
            throw APIError.validation("no \(kind.rawValue) model is served here (served: \(models.map { "\($0.name) (\($0.kind.rawValue))" }.joined(separator: ", ")))")
        }
        return m
    }

    /// The model named `name` whatever its kind (tokenize, decode), else the first.
    func any(named name: String?) throws -> ServedModel {
        guard let name else { return models[0] }
        guard let m = models.first(where: { $0.name == name }) else {
            throw APIError.validation("unknown model '\(name)'; served: \(models.map(\.name).joined(separator: ", "))", param: "model")
        }
        return m
    }
}
