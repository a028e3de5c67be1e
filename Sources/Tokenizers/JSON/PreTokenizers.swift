/// tokenizer.json pre-tokenizers besides ByteLevel.

/// BertPreTokenizer: the same code as WordPieceTokenizer's.
struct BertJSONPreTokenizer: PreTokenizer {
    func split(_ words: inout [NormalizedText]) {
        var out: [NormalizedText] = []
        for word in words {
            BertPreTokenizer.forEachWord(in: word.scalars) { out.append(word.slice($0)) }
        }
        words = out
    }
}

/// WhitespaceSplit: words end at whitespace, which is dropped.
struct WhitespaceSplitPreTokenizer: PreTokenizer {
    func split(_ words: inout [NormalizedText]) {
        var out: [NormalizedText] = []
        for word in words {
            var start = 0
            for (i, u) in word.scalars.enumerated() where UnicodeClass.isWhitespace(u) {
                if start < i { out.append(word.slice(start..<i)) }
                start = i + 1
            }
            if start < word.scalars.count { out.append(word.slice(start..<word.scalars.count)) }
        }
        words = out
    }
}

/// Whitespace: the regex `\w+|[^\w\s]+`; whitespace between matches is dropped.
struct WhitespacePreTokenizer: PreTokenizer {
    func split(_ words: inout [NormalizedText]) {
        var out: [NormalizedText] = []
        for word in words {
            let s = word.scalars
            var i = 0
            while i < s.count {
                if UnicodeClass.isWhitespace(s[i]) && !UnicodeClass.isWord(s[i]) { i += 1; continue }
                let isWord = UnicodeClass.isWord(s[i])
                var j = i + 1
                while j < s.count && UnicodeClass.isWord(s[j]) == isWord && (isWord || !UnicodeClass.isWhitespace(s[j])) { j += 1 }
                out.append(word.slice(i..<j))
                i = j
            }
        }
        words = out
    }
}

/// Metaspace: every space becomes `replacement` (▁), which is prepended to a word that does not
/// start with it (`always`, or `first`: only to the text's first word), and the words are
/// split before each replacement (`split`).
struct MetaspacePreTokenizer: PreTokenizer {
    enum Prepend: String { case always, first, never }
    let replacement: Unicode.Scalar
    let prepend: Prepend
    let split: Bool

    func split(_ words: inout [NormalizedText]) {
        var out: [NormalizedText] = []
        for var word in words where !word.scalars.isEmpty {
            for i in word.scalars.indices where word.scalars[i] == " " { word.scalars[i] = replacement }
            let atStart = word.origins[0] == 0
            if word.scalars[0] != replacement, prepend == .always || (prepend == .first && atStart) {
                word.scalars.insert(replacement, at: 0)
                word.origins.insert(word.origins[0], at: 0)
            }
            guard split else { out.append(word); continue }
            var start = 0
            for (i, u) in word.scalars.enumerated() where u == replacement && i > start {
                out.append(word.slice(start..<i))
                start = i
            }
            out.append(word.slice(start..<word.scalars.count))
        }
        words = out
    }
}

/// What a splitting pre-tokenizer does with the pieces that match (tokenizers'
/// SplitDelimiterBehavior): drops them, keeps each alone, glues each to the piece before or
/// after it, or keeps runs of them together.
enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"

    /// `spans` (covering a word in order, each marked a match or not) → the pieces to keep.
    func pieces(_ spans: [(Range<Int>, Bool)]) -> [Range<Int>] {
        var out: [(Range<Int>, remove: Bool)] = []
        var previousMatch = false
        switch self {
        case .removed:
            out = spans.map { ($0.0, $0.1) }
        case .isolated:
            out = spans.map { ($0.0, false) }
        case .contiguous:
            for (r, isMatch) in spans {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1].0 = last.0.lowerBound..<r.upperBound
                } else {
                    out.append((r, false))
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            for (r, isMatch) in spans {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1].0 = last.0.lowerBound..<r.upperBound
                } else {
                    out.append((r, false))
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            for (r, isMatch) in spans.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1].0 = r.lowerBound..<last.0.upperBound
                } else {
                    out.append((r, false))
                }
                previousMatch = isMatch
            }
            out.reverse()
        }
        return out.filter { !$0.remove && !$0.0.isEmpty }.map(\.0)
    }

    /// Spans of `s`: each scalar where `isMatch` holds a match of its own, the runs between them not.
    static func spans(_ s: [Unicode.Scalar], where isMatch: (Unicode.Scalar) -> Bool) -> [(Range<Int>, Bool)] {
        var spans: [(Range<Int>, Bool)] = []
        var last = 0
        for (i, u) in s.enumerated() where isMatch(u) {
            if last < i { spans.append((last..<i, false)) }
            spans.append((i..<(i + 1), true))
            last = i + 1
        }
        if last < s.count { spans.append((last..<s.count, false)) }
        return spans
    }

    /// Spans of `s`: each occurrence of `pattern`, left to right without overlap, a match.
    static func spans(_ s: [Unicode.Scalar], literal pattern: [Unicode.Scalar]) -> [(Range<Int>, Bool)] {
        guard !pattern.isEmpty else { return [(0..<s.count, false)] }
        var spans: [(Range<Int>, Bool)] = []
        var last = 0, i = 0
        while i + pattern.count <= s.count {
            if s[i] == pattern[0], s[i..<(i + pattern.count)].elementsEqual(pattern) {
                if last < i { spans.append((last..<i, false)) }
                spans.append((i..<(i + pattern.count), true))
                i += pattern.count
                last = i
            } else {
                i += 1
            }
        }
        if last < s.count { spans.append((last..<s.count, false)) }
        return spans
    }
}

/// Split on a literal pattern (a Regex one is refused at load), with a behaviour and `invert`.
struct SplitPreTokenizer: PreTokenizer {
    let pattern: [Unicode.Scalar]
    let behavior: SplitBehavior
    let invert: Bool

    func split(_ words: inout [NormalizedText]) {
        words = words.flatMap { word in
            let spans = SplitBehavior.spans(word.scalars, literal: pattern).map { ($0.0, $0.1 != invert) }
            return behavior.pieces(spans).map(word.slice)
        }
    }
}

/// Punctuation: splits at each punctuation scalar, as BertPreTokenizer tells them (ASCII
/// punctuation or a P* category of tokenizers' Unicode 8.0 tables).
struct PunctuationPreTokenizer: PreTokenizer {
    let behavior: SplitBehavior

    func split(_ words: inout [NormalizedText]) {
        words = words.flatMap { word in behavior.pieces(SplitBehavior.spans(word.scalars, where: BertUnicode.isPunctuation)).map(word.slice) }
    }
}

/// Digits: numeric scalars (Nd, Nl, No) split off, each alone (`individual`) or in runs.
struct DigitsPreTokenizer: PreTokenizer {
    let individual: Bool

    func split(_ words: inout [NormalizedText]) {
        let behavior: SplitBehavior = individual ? .isolated : .contiguous
        words = words.flatMap { word in behavior.pieces(SplitBehavior.spans(word.scalars, where: UnicodeClass.isNumber)).map(word.slice) }
    }
}
