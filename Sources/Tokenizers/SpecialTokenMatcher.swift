/// Finds special tokens typed in the raw text, as Hugging Face does before normalizing:
/// "[CLS]" in the text is the token [CLS], exactly spelled (case-sensitive), anywhere, even
/// inside a word; the leftmost match wins, then the longest.
struct SpecialTokenMatcher: Sendable {
    struct Special: Sendable {
        let scalars: [Unicode.Scalar]
        let id: Int
    }

    enum Segment {
        case text(Range<Int>)
        case special(id: Int, range: Range<Int>)
    }

    let specials: [Special]
    /// The scalars a special token starts with ("[" for BERT's): elsewhere, none can match.
    private let firstScalars: [Unicode.Scalar]

    init(specials: [Special]) {
        self.specials = specials
        var firsts: [Unicode.Scalar] = []
        for special in specials {
            if let first = special.scalars.first, !firsts.contains(first) { firsts.append(first) }
        }
        firstScalars = firsts
    }

    /// Calls `body` with the text between special tokens and with each special token, in order.
    func forEachSegment(in text: [Unicode.Scalar], _ body: (Segment) -> Void) {
        var textStart = 0
        var i = 0
        while i < text.count {
            guard firstScalars.contains(text[i]), let special = longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            if textStart < i { body(.text(textStart..<i)) }
            body(.special(id: special.id, range: i..<(i + special.scalars.count)))
            i += special.scalars.count
            textStart = i
        }
        if textStart < text.count { body(.text(textStart..<text.count)) }
    }

    private func longestMatch(in text: [Unicode.Scalar], at i: Int) -> Special? {
        var best: Special?
        for special in specials where special.scalars.count > (best?.scalars.count ?? 0) {
            let end = i + special.scalars.count
            if end <= text.count && text[i..<end].elementsEqual(special.scalars) { best = special }
        }
        return best
    }
}
