import Tokenizers

/// Encodings padded on the right into one (B, T) block, with each row's real length.
struct Batch {
    let ids: [Int]       // (B, T)
    let typeIds: [Int]  // (B, T)
    let lengths: [Int]  // (B)
    let size: Int       // B
    let length: Int     // T, the longest row

    var rows: Int { size * length }

    init(_ encodings: [Encoding], padId: Int) {
        size = encodings.count
        length = encodings.map(\.count).max() ?? 0
        lengths = encodings.map(\.count)
        var ids = [Int](repeating: padId, count: size * length)
        var typeIds = [Int](repeating: 0, count: size * length)
        for (b, e) in encodings.enumerated() {
            ids.replaceSubrange(b * length..<b * length + e.count, with: e.ids)
            typeIds.replaceSubrange(b * length..<b * length + e.count, with: e.typeIds)
        }
        self.ids = ids
        self.typeIds = typeIds
    }
}

/// What makes an encoding one a model cannot run. One check, which `Encoder.check` (for the
/// model's positions) and `Config.check` (for a server, at the model's max length) report
/// each in their own error.
enum EncodingProblem: Equatable {
    case empty
    case tooLong(tokens: Int)
    case idOutOfRange(Int)
    case typeIdOutOfRange(Int)

    /// The first encoding that would read outside the tables or run past `limit` tokens, and
    /// why: a token id at or above vocab_size, a type id at or above type_vocab_size (for
    /// architectures with token types; the others ignore type ids, as Hugging Face's do).
    static func first(in encodings: [Encoding], config: Config, limit: Int) -> (index: Int, problem: EncodingProblem)? {
        let (V, TV) = (config.vocabSize, config.typeVocabSize)
        for (i, e) in encodings.enumerated() {
            guard e.count > 0 else { return (i, .empty) }
            guard e.count <= limit else { return (i, .tooLong(tokens: e.count)) }
            if let bad = e.ids.first(where: { $0 < 0 || $0 >= V }) { return (i, .idOutOfRange(bad)) }
            if TV > 0, let bad = e.typeIds.first(where: { $0 < 0 || $0 >= TV }) { return (i, .typeIdOutOfRange(bad)) }
        }
        return nil
    }
}

extension Encoder {
    /// Refuses what would read or write outside the tables, or a sequence longer than the
    /// usable positions, or an empty one (`EncodingProblem`).
    func check(_ encodings: [Encoding]) throws {
        let (V, TV, P) = (config.vocabSize, config.typeVocabSize, config.maxPositions)
        guard let (i, problem) = EncodingProblem.first(in: encodings, config: config, limit: P) else { return }
        switch problem {
        case .empty: throw ModelError.invalidInput(index: i, reason: "it has no tokens")
        case .tooLong(let tokens): throw ModelError.inputTooLong(tokens: tokens, limit: P)
        case .idOutOfRange(let bad):
            throw ModelError.invalidInput(index: i, reason: "token id \(bad) is outside the vocabulary (vocab_size \(V))")
        case .typeIdOutOfRange(let bad):
            throw ModelError.invalidInput(
                index: i, reason: "token type \(bad) is outside type_vocab_size \(TV)\(TV == 1 ? " (this model takes no text pairs)" : "")")
        }
    }
}
