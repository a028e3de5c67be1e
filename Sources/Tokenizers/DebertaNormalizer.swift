import Foundation

/// The normalizers of transformers' DebertaV2Tokenizer (transformers 5): runs of two or more
/// whitespace characters and every tab, line feed or carriage return become one space, then
/// NFC, then the trailing whitespace goes. It does not apply the SentencePiece model's own
/// rules; tools/convert writes the model with identity rules so libsentencepiece does not
/// either. Words are then the runs between spaces (Metaspace splits at " " only).
///
/// Every scalar keeps the index of the original one it came from: a space replacing a run
/// comes from the run's first scalar, and the scalars NFC makes of a grapheme cluster from
/// the cluster's first.
struct DebertaNormalizer: Sendable {
    func normalize(_ text: [Unicode.Scalar], _ range: Range<Int>, into out: inout NormalizedText) {
        var spaced = NormalizedText()
        var i = range.lowerBound
        while i < range.upperBound {
            let u = text[i]
            guard u.properties.isWhitespace else {
                spaced.append(u, from: i)
                i += 1
                continue
            }
            var end = i + 1
            while end < range.upperBound, text[end].properties.isWhitespace { end += 1 }
            if end - i >= 2 || u == "\t" || u == "\n" || u == "\r" {
                spaced.append(" ", from: i)
            } else {
                spaced.append(u, from: i)
            }
            i = end
        }
        out.removeAll()
        // NFC cluster by cluster (composition never crosses a grapheme boundary).
        var k = 0
        let string = String(String.UnicodeScalarView(spaced.scalars))
        for character in string {
            let scalars = Array(character.unicodeScalars)
            let composed = Array(String(character).precomposedStringWithCanonicalMapping.unicodeScalars)
            if composed == scalars {
                for (j, u) in scalars.enumerated() { out.append(u, from: spaced.origins[k + j]) }
            } else {
                for u in composed { out.append(u, from: spaced.origins[k]) }
            }
            k += scalars.count
        }
        while let last = out.scalars.last, last.properties.isWhitespace {
            out.scalars.removeLast()
            out.origins.removeLast()
        }
    }
}
