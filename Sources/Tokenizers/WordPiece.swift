/// Token ids with their offsets in the original text's scalars, before special tokens.
struct Pieces {
    var ids: [Int] = []
    var offsets: [Range<Int>] = []

    var count: Int { ids.count }

    mutating func append(_ id: Int, _ offsets: Range<Int>) {
        ids.append(id)
        self.offsets.append(offsets)
    }

    mutating func truncate(to count: Int) {
        guard count < ids.count else { return }
        ids.removeSubrange(count...)
        offsets.removeSubrange(count...)
    }
}

/// Hugging Face's WordPiece model: greedy longest-match-first pieces, `##` before pieces
/// inside a word; a word with an unmatched rest, or longer than 100 scalars, is one [UNK].
struct WordPiece: Sendable {
    static let maxScalarsPerWord = 100
    let vocabulary: Vocabulary
    let unknownId: Int

    /// Appends the pieces of the word `text.scalars[word]` to `pieces`.
    func tokenize(_ word: Range<Int>, of text: NormalizedText, into pieces: inout Pieces) {
        let whole = text.origins[word.lowerBound]..<(text.origins[word.upperBound - 1] + 1)
        guard word.count <= Self.maxScalarsPerWord else {
            pieces.append(unknownId, whole)
            return
        }
        let firstPiece = pieces.count
        var start = word.lowerBound
        while start < word.upperBound {
            let continuing = start > word.lowerBound
            let longest = continuing ? vocabulary.longestContinuation : vocabulary.longestStart
            var end = min(word.upperBound, start + longest)
            var match: Int?
            while end > start {
                if let id = vocabulary.id(of: text.scalars[start..<end], continuing: continuing) {
                    match = id
                    break
                }
                end -= 1
            }
            guard let id = match else {
                pieces.truncate(to: firstPiece)
                pieces.append(unknownId, whole)
                return
            }
            pieces.append(id, text.origins[start]..<(text.origins[end - 1] + 1))
            start = end
        }
    }
}
