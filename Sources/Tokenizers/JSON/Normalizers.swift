import Foundation

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

/// NFC (NFKC when `compatibility`): NFD (NFKD) aligned as tokenizers aligns it, then canonical composition. Alignment is by
/// position, as tokenizers' transform applies it: each output scalar takes the origin of the
/// next unused position of the NFD text, a composite using up one more position per scalar
/// it absorbed. Hangul syllables compose
/// algorithmically, every other pair as Foundation's NFC composes the two alone (which leaves
/// out the composition exclusions).
struct NFCNormalizer: Normalizer {
    var compatibility = false

    func normalize(_ text: inout NormalizedText) {
        // Below U+0300 nothing decomposes canonically or composes with what follows it; below
        // U+00A0 nothing has a compatibility decomposition either.
        guard text.scalars.contains(where: { $0.value >= (compatibility ? 0xA0 : 0x300) }) else { return }
        var nfd = NormalizedText()
        var decomposition = Decomposition()
        var piece: [Unicode.Scalar] = []
        Decomposition.strippingAccents(text, compatibility: compatibility, into: &nfd, decomposition: &decomposition,
                                       piece: &piece, isAccent: { _ in false })
        var pairs: [UInt64: Unicode.Scalar?] = [:]  // this call's memo of compositions
        var scalars: [Unicode.Scalar] = []
        var absorbed: [Int] = []
        var starter: Int?
        var lastClass: UInt8 = 0
        for u in nfd.scalars {
            let cc = BertUnicode.combiningClass(u)
            if let s = starter, lastClass < cc || (lastClass == 0 && scalars.count - 1 == s),
               let composite = Self.compose(scalars[s], u, memo: &pairs) {
                scalars[s] = composite
                absorbed[s] += 1
                continue
            }
            if cc == 0 { starter = scalars.count }
            lastClass = cc
            scalars.append(u)
            absorbed.append(0)
        }
        var out = NormalizedText()
        var position = 0
        for (u, n) in zip(scalars, absorbed) {
            out.append(u, from: nfd.origins[position])
            position += 1 + n
        }
        text = out
    }

    static func compose(_ a: Unicode.Scalar, _ b: Unicode.Scalar, memo: inout [UInt64: Unicode.Scalar?]) -> Unicode.Scalar? {
        let (x, y) = (a.value, b.value)
        if (0x1100...0x1112).contains(x), (0x1161...0x1175).contains(y) {
            return Unicode.Scalar(0xAC00 + ((x - 0x1100) * 21 + (y - 0x1161)) * 28)
        }
        if (0xAC00...0xD7A3).contains(x), (x - 0xAC00) % 28 == 0, (0x11A8...0x11C2).contains(y) {
            return Unicode.Scalar(x + (y - 0x11A7))
        }
        guard y > 0x7F else { return nil }  // nothing composes with an ASCII scalar
        let key = UInt64(x) << 32 | UInt64(y)
        if let known = memo[key] { return known }
        let pair = String(scalars: [a, b])
        let composed = Array(pair.precomposedStringWithCanonicalMapping.unicodeScalars)
        let result = composed.count == 1 ? composed[0] : nil
        memo[key] = result
        return result
    }
}

/// Replace with a literal pattern: each occurrence, left to right, becomes `content`, whose
/// scalars take the origin of the occurrence's last scalar (as tokenizers aligns the change).
struct ReplaceNormalizer: Normalizer {
    let pattern: [Unicode.Scalar]
    let content: [Unicode.Scalar]

    func normalize(_ text: inout NormalizedText) {
        let s = text.scalars
        guard !pattern.isEmpty, s.count >= pattern.count else { return }
        var out = NormalizedText()
        var i = 0
        while i < s.count {
            if s[i] == pattern[0], i + pattern.count <= s.count, s[i..<(i + pattern.count)].elementsEqual(pattern) {
                let origin = text.origins[i + pattern.count - 1]
                for u in content { out.append(u, from: origin) }
                i += pattern.count
            } else {
                out.append(s[i], from: text.origins[i])
                i += 1
            }
        }
        text = out
    }
}

/// Prepend: `prefix` before a non-empty text, with the origin of its first scalar.
struct PrependNormalizer: Normalizer {
    let prefix: [Unicode.Scalar]

    func normalize(_ text: inout NormalizedText) {
        guard let origin = text.origins.first else { return }
        text.scalars.insert(contentsOf: prefix, at: 0)
        text.origins.insert(contentsOf: [Int](repeating: origin, count: prefix.count), at: 0)
    }
}
