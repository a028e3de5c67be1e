/// The normalizers of transformers' AlbertTokenizer (the fast one) that come before the
/// model's own rules: "``" and "''" become `"`, then NFKD with combining marks dropped
/// (unless `keepAccents`), then lowercasing (when `lowercase`). The last of its normalizers,
/// the model's precompiled character map, is libsentencepiece's own normalization, which runs
/// when the words reach it.
///
/// Every scalar keeps the index of the original one it came from, aligned as `tokenizers`
/// aligns them: a `"` replacing two quotes comes from the second.
struct AlbertNormalizer: Sendable {
    var lowercase: Bool
    var keepAccents: Bool

    /// Normalizes `text[range]` into `out` (origins are indices into `text`).
    func normalize(_ text: [Unicode.Scalar], _ range: Range<Int>,
                   into out: inout NormalizedText, scratch: inout NormalizerScratch) {
        // One pass serves both replacements: their patterns share no scalar with each other
        // or with the `"` they produce, so neither can create or hide a match of the other.
        scratch.cleaned.removeAll()
        var i = range.lowerBound
        while i < range.upperBound {
            let u = text[i]
            if u == "`" || u == "'", i + 1 < range.upperBound, text[i + 1] == u {
                scratch.cleaned.append("\"", from: i + 1)
                i += 2
            } else {
                scratch.cleaned.append(u, from: i)
                i += 1
            }
        }
        if !keepAccents {
            Decomposition.strippingAccents(scratch.cleaned, compatibility: true, into: &scratch.stripped,
                                           decomposition: &scratch.decomposition, piece: &scratch.piece,
                                           isAccent: BertUnicode.isCombiningMark)
            swap(&scratch.cleaned, &scratch.stripped)
        }
        out.removeAll()
        for (u, origin) in zip(scratch.cleaned.scalars, scratch.cleaned.origins) {
            if lowercase {
                BertUnicode.forEachLowercase(of: u) { out.append($0, from: origin) }
            } else {
                out.append(u, from: origin)
            }
        }
    }
}
