import Foundation

/// Token ids back to text for WordPiece vocabularies, as Hugging Face's WordPiece decoder
/// with `cleanup`: continuation pieces (`##ing`) join the previous word, every other
/// token starts a new one, and the spaces before punctuation and English contractions go.
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
        for (i, id) in ids.enumerated() {
            guard id >= 0, id < vocabulary.count else {
                throw APIError.validation("token id \(id) at position \(i) is outside the vocabulary (0..<\(vocabulary.count))", param: "ids")
            }
            let token = vocabulary[id]
            if skipSpecialTokens, specials.contains(token) { continue }
            if token.hasPrefix("##") {
                out += token.dropFirst(2)
            } else {
                if !out.isEmpty { out += " " }
                out += token
            }
        }
        return cleanUp(out)
    }

    /// Hugging Face's `clean_up_tokenization`.
    static func cleanUp(_ s: String) -> String {
        var s = s
        for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                           (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            s = s.replacingOccurrences(of: from, with: to)
        }
        return s
    }
}
