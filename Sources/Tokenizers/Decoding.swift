import Foundation

/// Token ids back to text, as transformers' `tokenizer.decode` gives it: what fill-mask
/// shows as `token_str` and `sequence`.
public protocol TokenDecoding: Tokenizer {
    /// The mask token's id, when the vocabulary has one.
    var maskId: Int? { get }
    /// The vocabulary's token for `id` ("" outside the vocabulary).
    func token(for id: Int) -> String
    /// `ids` as text; `skipSpecialTokens` leaves out [CLS], [SEP], [PAD], [UNK], [MASK] (or
    /// the convention's own).
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    /// Tokens joined into text by the tokenizer's decoder (`convert_tokens_to_string`).
    func join(tokens: [String]) -> String
    /// Whether sub-words carry a continuation prefix ("##"): where the token-classification
    /// pipeline tells sub-words by their length, not by the spaces around them.
    var marksContinuations: Bool { get }
    /// Whether `id` is one of the special tokens.
    func isSpecial(_ id: Int) -> Bool
    /// The id of the unknown token.
    var unknownTokenId: Int { get }
    /// Ids run from 0 to this, exclusive.
    var vocabularySize: Int { get }
}

extension TokenDecoding {
    /// `ids` through the tokenizer's decoder alone, as the `tokenizers` library's decode
    /// gives them (what TEI's /decode answers): no transformers clean-up of the whole text.
    public func decodeWithoutCleanUp(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        join(tokens: ids.filter { !(skipSpecialTokens && isSpecial($0)) }.map(token(for:)))
    }
}

extension WordPieceTokenizer: TokenDecoding {
    public func token(for id: Int) -> String {
        id >= 0 && id < vocabulary.count ? vocabulary.tokens[id] : ""
    }

    /// tokenizers' WordPiece decoder (prefix "##", cleanup on): a token joins the text after a
    /// space, or glued without its "##" when it continues a word; each piece is cleaned up on
    /// its own (` .` → `.`, ` n't` → `n't`, …), then the whole text once more, as
    /// transformers' `clean_up_tokenization_spaces` does.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        Decoding.cleanUp(decodeWithoutCleanUp(ids, skipSpecialTokens: skipSpecialTokens))
    }

    public func join(tokens: [String]) -> String {
        var pieces: [String] = []
        for token in tokens {
            pieces.append(pieces.isEmpty ? token : token.hasPrefix("##") ? String(token.dropFirst(2)) : " " + token)
        }
        return pieces.map(WordPieceDecoder.cleanUp).joined()
    }

    public var marksContinuations: Bool { true }
    public func isSpecial(_ id: Int) -> Bool { specialIds.contains(id) }
}

extension SentencePieceTokenizer: TokenDecoding {
    /// tokenizers' Metaspace decoder: ▁ becomes a space, and the first token's leading
    /// space (the one the pre-tokenizer prepended) goes. No clean-up: AlbertTokenizer's
    /// and XLMRobertaTokenizer's clean_up_tokenization_spaces are off ("the mat ." stays).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        decodeWithoutCleanUp(ids, skipSpecialTokens: skipSpecialTokens)
    }

    public func join(tokens: [String]) -> String {
        var out = ""
        for (i, token) in tokens.enumerated() {
            var piece = token.replacingOccurrences(of: "\u{2581}", with: " ")
            if i == 0, piece.hasPrefix(" ") { piece.removeFirst() }
            out += piece
        }
        return out
    }

    public var marksContinuations: Bool { false }
    public var unknownTokenId: Int { convention == .xlmRoberta ? 3 : unknownId }
    public func isSpecial(_ id: Int) -> Bool { specialIds.contains(id) }
}

enum Decoding {
    /// transformers' `clean_up_tokenization`, on the whole decoded text (the WordPiece
    /// decoder's own `cleanup`, token by token, is `WordPieceDecoder.cleanUp`).
    static func cleanUp(_ s: String) -> String {
        var s = s
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        return s
    }
}
