/// tokenizer.json normalizers. Each keeps every scalar's origin, aligned as `tokenizers`
/// aligns it (a scalar expanded into several gives each of them its origin).

/// BertNormalizer: the same code as WordPieceTokenizer's (clean_text on).
struct BertJSONNormalizer: Normalizer {
    let bert: BertNormalizer

    func normalize(_ text: inout NormalizedText) {
        var out = NormalizedText()
        var scratch = NormalizerScratch()
        bert.normalize(text.scalars, 0..<text.scalars.count, into: &out, scratch: &scratch)
        for i in out.origins.indices { out.origins[i] = text.origins[out.origins[i]] }
        text = out
    }
}

/// Lowercase: Unicode lowercase mapping, scalar by scalar (İ becomes i and U+0307).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: inout NormalizedText) {
        var out = NormalizedText()
        for (u, origin) in zip(text.scalars, text.origins) {
            BertUnicode.forEachLowercase(of: u) { out.append($0, from: origin) }
        }
        text = out
    }
}

/// NFD, or NFKD when `compatibility`.
struct DecomposingNormalizer: Normalizer {
    let compatibility: Bool

    func normalize(_ text: inout NormalizedText) {
        var out = NormalizedText()
        var decomposition = Decomposition()
        var piece: [Unicode.Scalar] = []
        Decomposition.strippingAccents(text, compatibility: compatibility, into: &out, decomposition: &decomposition,
                                       piece: &piece, isAccent: { _ in false })
        text = out
    }
}

/// StripAccents: drops combining marks (Mn, Mc, Me); meant to follow NFD or NFKD.
struct StripAccentsNormalizer: Normalizer {
    func normalize(_ text: inout NormalizedText) {
        var out = NormalizedText()
        for (u, origin) in zip(text.scalars, text.origins) where !BertUnicode.isCombiningMark(u) {
            out.append(u, from: origin)
        }
        text = out
    }
}

/// Strip: whitespace removed from the left and / or right end.
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: inout NormalizedText) {
        var start = 0, end = text.scalars.count
        if left { while start < end && UnicodeClass.isWhitespace(text.scalars[start]) { start += 1 } }
        if right { while end > start && UnicodeClass.isWhitespace(text.scalars[end - 1]) { end -= 1 } }
        text = text.slice(start..<end)
    }
}

/// Sequence: each normalizer in turn.
struct SequenceNormalizer: Normalizer {
    let stages: [any Normalizer]

    func normalize(_ text: inout NormalizedText) {
        for stage in stages { stage.normalize(&text) }
    }
}
