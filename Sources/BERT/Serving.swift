import Tokenizers

/// Entry points for a server that tokenizes on its own threads and runs the encoder on
/// one inference thread: they take encodings, not text, and check every id so that no
/// request can index outside the model's tables.

/// An encoding a model cannot run.
public enum ServingError: Error, Equatable, CustomStringConvertible {
    case idOutOfRange(input: Int, id: Int, vocabularySize: Int)
    case typeIdOutOfRange(input: Int, typeId: Int, typeVocabularySize: Int)
    case tooLong(input: Int, tokens: Int, limit: Int)
    case empty(input: Int)

    public var description: String {
        switch self {
        case .idOutOfRange(let input, let id, let size):
            return "input \(input): token id \(id) is outside the vocabulary (0..<\(size)); send ids the model's tokenizer made"
        case .typeIdOutOfRange(let input, let typeId, let size):
            return "input \(input): token type id \(typeId) is outside 0..<\(size)"
        case .tooLong(let input, let tokens, let limit):
            return "input \(input): \(tokens) tokens is more than the model's limit of \(limit); shorten it or truncate"
        case .empty(let input):
            return "input \(input): no tokens"
        }
    }
}

extension Config {
    /// Throws unless every encoding is one this model can run: 1...maxLength tokens,
    /// ids inside the vocabulary, type ids inside the type vocabulary.
    public func check(_ encodings: [Encoding]) throws {
        guard let (i, problem) = EncodingProblem.first(in: encodings, config: self, limit: maxLength) else { return }
        switch problem {
        case .empty: throw ServingError.empty(input: i)
        case .tooLong(let tokens): throw ServingError.tooLong(input: i, tokens: tokens, limit: maxLength)
        case .idOutOfRange(let bad): throw ServingError.idOutOfRange(input: i, id: bad, vocabularySize: vocabSize)
        case .typeIdOutOfRange(let bad): throw ServingError.typeIdOutOfRange(input: i, typeId: bad, typeVocabularySize: typeVocabSize)
        }
    }
}

extension Pooling {
    /// v / max(‖v‖, 1e-12): the scaling `SentenceEmbedder.embed` applies when it normalizes.
    public static func unitLength(_ v: [Float]) -> [Float] { normalize(v) }
}

extension SentenceEmbedder {
    /// Pooled vectors (B, C), never normalized (the caller may cut dimensions first).
    public func pooled(encodings: [Encoding], batchSize: Int = 32) throws -> [[Float]] {
        try config.check(encodings)
        var vectors = [[Float]](repeating: [], count: encodings.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            for (i, v) in zip(indices, pooling(hidden, lengths: batch.lengths)) { vectors[i] = v }
        }
        return vectors
    }

    /// Pooled vectors as `embed` returns them (normalized when the model says so).
    public func embed(checked encodings: [Encoding], batchSize: Int = 32) throws -> [[Float]] {
        try config.check(encodings)
        return try embed(encodings: encodings, batchSize: batchSize)
    }

    /// Last hidden states per encoding: (T, C) as T rows, padding removed.
    public func tokenStates(encodings: [Encoding], batchSize: Int = 32) throws -> [[[Float]]] {
        try config.check(encodings)
        let C = config.hiddenSize
        var out = [[[Float]]](repeating: [], count: encodings.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            let T = batch.length
            for (b, i) in indices.enumerated() {
                out[i] = (0..<batch.lengths[b]).map { t in
                    Array(UnsafeBufferPointer(start: hidden.pointer + (b * T + t) * C, count: C))
                }
            }
        }
        return out
    }
}

extension TextClassifier {
    /// Raw logits (B, L) of already-tokenized inputs.
    public func logits(checked encodings: [Encoding], batchSize: Int = 32) throws -> [[Float]] {
        try config.check(encodings)
        return try logits(encodings: encodings, batchSize: batchSize)
    }
}

extension ClassifierHead {
    /// logits (L) → what `classify` reports: softmax, sigmoid or the raw value, as the problem type says.
    public func scores(forLogits logits: [Float]) -> [Float] { scores(logits) }
}
