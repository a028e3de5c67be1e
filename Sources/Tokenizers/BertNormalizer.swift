/// Text on its way through the normalizer. Each scalar remembers the original scalar it came
/// from, so tokens can report offsets into the text the caller gave.
struct NormalizedText {
    var scalars: [Unicode.Scalar] = []
    /// `origins[i]`: index, in the original text's scalars, of the scalar `scalars[i]` came from.
    var origins: [Int] = []

    mutating func append(_ u: Unicode.Scalar, from origin: Int) {
        scalars.append(u)
        origins.append(origin)
    }

    mutating func removeAll() {
        scalars.removeAll(keepingCapacity: true)
        origins.removeAll(keepingCapacity: true)
    }
}

/// Storage the normalizer reuses from one call to the next.
struct NormalizerScratch {
    var cleaned = NormalizedText()
    var stripped = NormalizedText()
    var decomposition = Decomposition()
    var piece: [Unicode.Scalar] = []
}

/// Hugging Face's BertNormalizer (clean_text on): drop control characters, turn whitespace
/// into spaces, space out CJK ideographs, strip accents, lowercase — in that order.
struct BertNormalizer: Sendable {
    var lowercase: Bool
    var stripAccents: Bool
    var handleChineseCharacters: Bool

    /// Normalizes `text[range]` into `out`.
    ///
    /// ASCII scalars take a short cut: each is a starter with no decomposition, so nothing
    /// crosses it, and the runs between them go through the stages one after the other.
    /// A removed control character is no boundary: dropping it joins its neighbours.
    func normalize(_ text: [Unicode.Scalar], _ range: Range<Int>,
                   into out: inout NormalizedText, scratch: inout NormalizerScratch) {
        out.removeAll()
        var runStart = range.lowerBound
        for i in range {
            let v = text[i].value
            guard v < 0x80 else { continue }
            if v < 0x20 || v == 0x7F {
                if v != 0x09 && v != 0x0A && v != 0x0D {  // removed by cleaning
                    if runStart == i { runStart = i + 1 }
                    continue
                }
            }
            if runStart < i { normalizeRun(text, runStart..<i, appendingTo: &out, scratch: &scratch) }
            runStart = i + 1
            if v <= 0x20 {
                out.append(" ", from: i)
            } else if lowercase && v >= 0x41 && v <= 0x5A {
                out.append(Unicode.Scalar(UInt8(v + 0x20)), from: i)
            } else {
                out.append(text[i], from: i)
            }
        }
        if runStart < range.upperBound {
            normalizeRun(text, runStart..<range.upperBound, appendingTo: &out, scratch: &scratch)
        }
    }

    private func normalizeRun(_ text: [Unicode.Scalar], _ range: Range<Int>,
                              appendingTo out: inout NormalizedText, scratch: inout NormalizerScratch) {
        clean(text, range, into: &scratch.cleaned)
        if stripAccents {
            removeAccents(scratch.cleaned, into: &scratch.stripped,
                          decomposition: &scratch.decomposition, piece: &scratch.piece)
            finish(scratch.stripped, appendingTo: &out)
        } else {
            finish(scratch.cleaned, appendingTo: &out)
        }
    }

    private func clean(_ text: [Unicode.Scalar], _ range: Range<Int>, into out: inout NormalizedText) {
        out.removeAll()
        for i in range {
            let u = text[i]
            if BertUnicode.isRemovedByCleaning(u) { continue }
            if BertUnicode.isWhitespace(u) {
                out.append(" ", from: i)
            } else if handleChineseCharacters && BertUnicode.isChineseCharacter(u) {
                out.append(" ", from: i)
                out.append(u, from: i)
                out.append(" ", from: i)
            } else {
                out.append(u, from: i)
            }
        }
    }

    private func removeAccents(_ input: NormalizedText, into out: inout NormalizedText,
                               decomposition: inout Decomposition, piece: inout [Unicode.Scalar]) {
        Decomposition.strippingAccents(input, compatibility: false, into: &out, decomposition: &decomposition, piece: &piece,
                                       isAccent: BertUnicode.isNonspacingMark)
    }

    /// Lowercases, when asked, while appending.
    private func finish(_ input: NormalizedText, appendingTo out: inout NormalizedText) {
        guard lowercase else {
            out.scalars += input.scalars
            out.origins += input.origins
            return
        }
        for (u, origin) in zip(input.scalars, input.origins) {
            BertUnicode.forEachLowercase(of: u) { out.append($0, from: origin) }
        }
    }
}

/// Decomposed scalars in canonical order: each run of non-starters is stably sorted by
/// combining class once the next starter (or the end) closes it.
struct Decomposition {
    var scalars: [Unicode.Scalar] = []
    /// Whether the scalar is the first of its source scalar's decomposition.
    var firsts: [Bool] = []
    private var classes: [UInt8] = []
    private var runStart = 0

    mutating func removeAll() {
        scalars.removeAll(keepingCapacity: true)
        firsts.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        runStart = 0
    }

    mutating func push(_ u: Unicode.Scalar, first: Bool, combiningClass: UInt8) {
        if combiningClass == 0 {
            sortRun()
            runStart = scalars.count + 1
        }
        scalars.append(u)
        firsts.append(first)
        classes.append(combiningClass)
    }

    mutating func finish() {
        sortRun()
    }

    /// Insertion sort: stable, and runs of marks are short.
    private mutating func sortRun() {
        guard scalars.count - runStart > 1 else { return }
        for i in (runStart + 1)..<scalars.count {
            var j = i
            while j > runStart && classes[j - 1] > classes[j] {
                scalars.swapAt(j - 1, j)
                firsts.swapAt(j - 1, j)
                classes.swapAt(j - 1, j)
                j -= 1
            }
        }
    }
}

extension Decomposition {
    /// NFD (NFKD when `compatibility`), then drop the scalars `isAccent` says: BertNormalizer's
    /// strip_accents (nonspacing marks), or NFKD then the StripAccents normalizer (every
    /// combining mark). Alignment follows `tokenizers`: after canonical reordering, the
    /// first scalar of each decomposition takes the next input scalar's origin and the others
    /// share the origin before it — by position, not by which scalar moved where.
    static func strippingAccents(_ input: NormalizedText, compatibility: Bool, into out: inout NormalizedText,
                                 decomposition: inout Decomposition, piece: inout [Unicode.Scalar],
                                 isAccent: (Unicode.Scalar) -> Bool) {
        decomposition.removeAll()
        for u in input.scalars {
            if u.value < 0xA0 {  // no decomposition below U+00A0, canonical or compatibility
                decomposition.push(u, first: true, combiningClass: 0)
                continue
            }
            piece.removeAll(keepingCapacity: true)
            if compatibility {
                BertUnicode.appendCompatibilityDecomposition(of: u, to: &piece)
            } else {
                BertUnicode.appendDecomposition(of: u, to: &piece)
            }
            for (k, d) in piece.enumerated() {
                decomposition.push(d, first: k == 0, combiningClass: BertUnicode.combiningClass(d))
            }
        }
        decomposition.finish()
        out.removeAll()
        var consumed = 0
        for (u, first) in zip(decomposition.scalars, decomposition.firsts) {
            if first { consumed += 1 }
            if !isAccent(u) {
                out.append(u, from: input.origins[max(consumed - 1, 0)])
            }
        }
    }
}
