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

extension Encoder {
    /// Refuses what would read or write outside the tables: a token id at or above
    /// vocab_size, a type id at or above type_vocab_size (for architectures with token
    /// types; the others ignore type ids, as Hugging Face's do), a sequence longer than the
    /// usable positions, or an empty one.
    func check(_ encodings: [Encoding]) throws {
        let (V, TV, P) = (config.vocabSize, config.typeVocabSize, config.maxPositions)
        for (i, e) in encodings.enumerated() {
            guard e.count > 0 else { throw ModelError.invalidInput(index: i, reason: "it has no tokens") }
            guard e.count <= P else { throw ModelError.inputTooLong(tokens: e.count, limit: P) }
            if let bad = e.ids.first(where: { $0 < 0 || $0 >= V }) {
                throw ModelError.invalidInput(index: i, reason: "token id \(bad) is outside the vocabulary (vocab_size \(V))")
            }
            if TV > 0, let bad = e.typeIds.first(where: { $0 < 0 || $0 >= TV }) {
                throw ModelError.invalidInput(
                    index: i, reason: "token type \(bad) is outside type_vocab_size \(TV)\(TV == 1 ? " (this model takes no text pairs)" : "")")
            }
        }
    }
}
