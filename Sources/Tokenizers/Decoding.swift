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
        var pieces: [String] = []
        for id in ids where !(skipSpecialTokens && specialIds.contains(id)) {
            let token = token(for: id)
            pieces.append(pieces.isEmpty ? token : token.hasPrefix("##") ? String(token.dropFirst(2)) : " " + token)
        }
        return Decoding.cleanUp(pieces.map(Decoding.cleanUp).joined())
    }
}

extension SentencePieceTokenizer: TokenDecoding {
    /// tokenizers' Metaspace decoder: ▁ becomes a space, and the first token's leading
    /// space (the one the pre-tokenizer prepended) goes. No clean-up: AlbertTokenizer's
    /// clean_up_tokenization_spaces is off ("the mat ." stays), checked for ALBERT only.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var out = ""
        var first = true
        for id in ids where !(skipSpecialTokens && specialIds.contains(id)) {
            var piece = token(for: id).replacingOccurrences(of: "\u{2581}", with: " ")
            if first, piece.hasPrefix(" ") { piece.removeFirst() }
            first = false
            out += piece
        }
        return out
    }
}

enum Decoding {
    /// transformers' `clean_up_tokenization` (and the WordPiece decoder's `cleanup`).
    static func cleanUp(_ s: String) -> String {
        var s = s
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        return s
    }
}
