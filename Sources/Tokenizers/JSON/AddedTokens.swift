/// tokenizer.json's `added_tokens`, found in the text before the model sees it, as
/// `tokenizers`' AddedVocabulary finds them: leftmost match first, then the longest; a
/// `single_word` token only between non-word scalars; `lstrip` / `rstrip` take the whitespace
/// before / after it into the token. Tokens with `normalized: false` are found in the raw text,
/// the others in the normalized text (their content normalized too).
struct AddedToken: Sendable {
    var content: String
    var id: Int
    var special: Bool
    var singleWord: Bool
    var lstrip: Bool
    var rstrip: Bool
    var normalized: Bool
}

struct AddedTokenMatcher: Sendable {
    /// A trie over scalars: `children[node][scalar]` → node; `terminal[node]` → token index.
    private var children: [[Unicode.Scalar: Int]] = [[:]]
    private var terminal: [Int?] = [nil]
    private let tokens: [AddedToken]

    /// `patterns[i]` is what `tokens[i]` is found as.
    init(_ tokens: [AddedToken], patterns: [[Unicode.Scalar]]) {
        self.tokens = tokens
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            var node = 0
            for u in pattern {
                if let child = children[node][u] {
                    node = child
                } else {
                    children.append([:])
                    terminal.append(nil)
                    children[node][u] = children.count - 1
                    node = children.count - 1
                }
            }
            if terminal[node] == nil { terminal[node] = index }
        }
    }

    var isEmpty: Bool { children[0].isEmpty }

    enum Segment {
        case text(Range<Int>)
        case token(AddedToken, Range<Int>)
    }

    /// The segments of `s`, in order, covering it (an empty text is one empty text segment).
    func segments(of s: [Unicode.Scalar]) -> [Segment] {
        guard !s.isEmpty, !isEmpty else { return [.text(0..<s.count)] }
        var out: [Segment] = []
        var textStart = 0
        var i = 0
        while i < s.count {
            var node = 0, j = i
            var best: (index: Int, end: Int)?
            while j < s.count, let child = children[node][s[j]] {
                node = child
                j += 1
                if let t = terminal[node] { best = (t, j) }
            }
            guard let (index, end) = best else { i += 1; continue }
            let token = tokens[index]
            var start = i, stop = end
            i = end
            if token.singleWord {
                let startSpace = start == 0 || !UnicodeClass.isWord(s[start - 1])
                let stopSpace = stop == s.count || !UnicodeClass.isWord(s[stop])
                if !startSpace || !stopSpace { continue }
            }
            if start < textStart { continue }  // inside the whitespace a previous rstrip took
            if token.lstrip {
                var k = start
                while k > 0 && UnicodeClass.isWhitespace(s[k - 1]) { k -= 1 }
                start = max(k, textStart)
            }
            if token.rstrip {
                while stop < s.count && UnicodeClass.isWhitespace(s[stop]) { stop += 1 }
            }
            if textStart < start { out.append(.text(textStart..<start)) }
            out.append(.token(token, start..<stop))
            textStart = stop
            i = max(i, stop)
        }
        if textStart < s.count { out.append(.text(textStart..<s.count)) }
        return out
    }
}
