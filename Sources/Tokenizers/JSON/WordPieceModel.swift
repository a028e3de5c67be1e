/// A tokenizer.json WordPiece model: the same code as WordPieceTokenizer's (`##` pieces, a
/// word past 100 scalars or with an unmatched rest one unknown token).
struct WordPieceJSONModel: TokenizerModel {
    let vocabulary: Vocabulary
    let wordPiece: WordPiece

    init(tokens: [String], unknown: String, path: String) throws {
        vocabulary = try Vocabulary(tokens: tokens, path: path)
        guard let unknownId = vocabulary.id(of: unknown) else {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the WordPiece unk_token \"\(unknown)\" is not in the vocabulary")
        }
        wordPiece = WordPiece(vocabulary: vocabulary, unknownId: unknownId)
    }

    var size: Int { vocabulary.count }
    func id(of token: String) -> Int? { vocabulary.id(of: token) }
    func token(of id: Int) -> String? { id >= 0 && id < vocabulary.count ? vocabulary.tokens[id] : nil }

    func tokenize(_ word: NormalizedText, into tokens: inout [Token]) throws {
        var pieces = Pieces()
        wordPiece.tokenize(0..<word.scalars.count, of: word, into: &pieces)
        for (id, offsets) in zip(pieces.ids, pieces.offsets) {
            tokens.append(Token(id: id, value: vocabulary.tokens[id], offsets: offsets))
        }
    }
}

/// The WordPiece decoder: pieces after the first lose their prefix or gain a space before
/// them; `cleanup` then undoes the spaces tokenization put before punctuation and
/// contractions, token by token, as `tokenizers` does.
struct WordPieceDecoder: Decoder {
    let prefix: String
    let cleanup: Bool

    func decode(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            var t = token
            if i != 0 {
                if t.unicodeScalars.starts(with: prefix.unicodeScalars) {
                    t = String(scalars: t.unicodeScalars.dropFirst(prefix.unicodeScalars.count))
                } else {
                    t = " " + t
                }
            }
            return cleanup ? Self.cleanUp(t) : t
        }
    }

    static func cleanUp(_ s: String) -> String {
        var s = s
        for (dirty, clean) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                               (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingScalars(dirty, with: clean)
        }
        return s
    }
}

extension String {
    /// Every occurrence of `pattern` replaced, comparing scalars (not canonical equivalence).
    func replacingScalars(_ pattern: String, with replacement: String) -> String {
        let p = Array(pattern.unicodeScalars)
        let s = Array(unicodeScalars)
        guard !p.isEmpty, s.count >= p.count else { return self }
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if i + p.count <= s.count && s[i..<(i + p.count)].elementsEqual(p) {
                out.append(contentsOf: replacement.unicodeScalars)
                i += p.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }
}
