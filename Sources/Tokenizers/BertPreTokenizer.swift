/// Hugging Face's BertPreTokenizer: words end at whitespace, which is dropped, and around
/// punctuation, each punctuation scalar being a word of its own.
enum BertPreTokenizer {
    /// Calls `body` with the range of each word of `scalars[range]` (all of it by default), in order.
    static func forEachWord(in scalars: [Unicode.Scalar], _ range: Range<Int>? = nil, _ body: (Range<Int>) -> Void) {
        let range = range ?? 0..<scalars.count
        var start = range.lowerBound
        for i in range {
            let u = scalars[i]
            if u.value > 0x20 && u.value < 0x7F && isWordCharacter[Int(u.value)] { continue }
            if BertUnicode.isWhitespace(u) {
                if start < i { body(start..<i) }
                start = i + 1
            } else if BertUnicode.isPunctuation(u) {
                if start < i { body(start..<i) }
                body(i..<(i + 1))
                start = i + 1
            }
        }
        if start < range.upperBound { body(start..<range.upperBound) }
    }

    /// ASCII letters and digits: the common case, answered by a table.
    private static let isWordCharacter: [Bool] = (0..<128).map { v in
        let u = Unicode.Scalar(UInt8(v))
        return !BertUnicode.isWhitespace(u) && !BertUnicode.isPunctuation(u)
    }
}
