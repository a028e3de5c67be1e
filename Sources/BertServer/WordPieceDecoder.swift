import Foundation

/// Token ids back to text for WordPiece vocabularies, as Hugging Face's WordPiece decoder
/// (prefix "##", cleanup on): every token after the first joins the text with a space, or
/// without one (and without its "##") when it is a continuation; each piece is then cleaned
/// on its own, which drops the space before . ? ! , (the cleanup sees one token at a time).
enum WordPieceDecoder {
    /// vocab.txt, one token per line, line n holding id n.
    static func vocabulary(_ url: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw APIError(kind: .backend, message: "\(url.path): cannot read the vocabulary; re-run tools/convert")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static let specials: Set<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    static func decode(_ ids: [Int], vocabulary: [String], skipSpecialTokens: Bool) throws -> String {
        var out = ""
        var kept = 0
        for (i, id) in ids.enumerated() {
            guard id >= 0, id < vocabulary.count else {
                throw APIError.validation("token id \(id) at position \(i) is outside the vocabulary (0..<\(vocabulary.count))", param: "ids")
            }
            let token = vocabulary[id]
            if skipSpecialTokens, specials.contains(token) { continue }
            var piece = token
            if kept > 0 { piece = token.hasPrefix("##") ? String(token.dropFirst(2)) : " " + token }
            out += cleanUp(piece)
            kept += 1
        }
        return out
    }

    /// Hugging Face's WordPiece `cleanup`, applied to one piece.
    static func cleanUp(_ s: String) -> String {
        var s = s
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        return s
    }
}
