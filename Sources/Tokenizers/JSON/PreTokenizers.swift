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
