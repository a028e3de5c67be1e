/// The stages of a tokenizer.json pipeline, as Hugging Face `tokenizers` composes them:
/// added tokens are cut out of the raw text, the rest is normalized, split into words by the
/// pre-tokenizer, each word cut into tokens by the model, and the post-processor adds the
/// special tokens. `TokenizerJSON` holds one of each and runs them in `encode`.
///
/// Text travels as `NormalizedText`: scalars with, for each, the index of the original scalar
/// it came from, so every token reports offsets into the caller's text.

/// Rewrites text in place (lowercase, NFC, ...), keeping each scalar's origin.
protocol Normalizer: Sendable {
    func normalize(_ text: inout NormalizedText)
}

/// Cuts text into words (and may rewrite them, as ByteLevel maps bytes to printable scalars).
protocol PreTokenizer: Sendable {
    /// Replaces `words` by their pieces, in order; empty pieces may be left, they are dropped.
    func split(_ words: inout [NormalizedText])
}

/// One token as the model produced it: its id, its string and its offsets in the original text.
struct Token: Sendable, Equatable {
    var id: Int
    var value: String
    var offsets: Range<Int>
}

/// Turns one word into tokens (BPE, WordPiece, Unigram).
protocol TokenizerModel: Sendable {
    func tokenize(_ word: NormalizedText, into tokens: inout [Token]) throws
    /// The id of a token string, and the string of an id.
    func id(of token: String) -> Int?
    func token(of id: Int) -> String?
    /// One past the largest id.
    var size: Int { get }
}

/// One sequence of a (possibly pair) encoding on its way through the post-processor.
struct EncodingPart: Sendable {
    var ids: [Int] = []
    var tokens: [String] = []
    var offsets: [Range<Int>] = []
    var typeIds: [Int] = []
    var specialMask: [Int] = []

    var count: Int { ids.count }

    mutating func append(_ token: Token, typeId: Int, special: Int = 0) {
        ids.append(token.id)
        tokens.append(token.value)
        offsets.append(token.offsets)
        typeIds.append(typeId)
        specialMask.append(special)
    }

    mutating func appendSpecial(id: Int, token: String, typeId: Int) {
        append(Token(id: id, value: token, offsets: 0..<0), typeId: typeId, special: 1)
    }

    mutating func append(contentsOf other: EncodingPart) {
        ids += other.ids
        tokens += other.tokens
        offsets += other.offsets
        typeIds += other.typeIds
        specialMask += other.specialMask
    }

    mutating func truncate(to n: Int) {
        guard n < ids.count else { return }
        ids.removeSubrange(n...)
        tokens.removeSubrange(n...)
        offsets.removeSubrange(n...)
        typeIds.removeSubrange(n...)
        specialMask.removeSubrange(n...)
    }
}

/// Adds special tokens and adjusts offsets (RobertaProcessing, TemplateProcessing, ...).
protocol PostProcessor: Sendable {
    /// How many special tokens `process` adds to a single sequence or a pair.
    func addedTokens(pair: Bool) -> Int
    /// Every id `process` can add (checked against the vocabulary at load).
    var specialIds: [Int] { get }
    /// `parts` holds one or two sequences; the result is concatenated by the caller.
    func process(_ parts: [EncodingPart]) -> [EncodingPart]
}

/// Turns tokens back into text (ByteLevel, WordPiece, Metaspace, ...).
protocol Decoder: Sendable {
    /// Rewrites the token strings; the caller joins what is left.
    func decode(_ tokens: [String]) -> [String]
}

extension NormalizedText {
    init(_ scalars: ArraySlice<Unicode.Scalar>, origins: ArraySlice<Int>) {
        self.init()
        self.scalars = Array(scalars)
        self.origins = Array(origins)
    }

    /// The scalars `range` as a piece of their own.
    func slice(_ range: Range<Int>) -> NormalizedText {
        NormalizedText(scalars[range], origins: origins[range])
    }

    /// Offsets in the original text of the scalars `range` (non-empty).
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else {
            let at = range.lowerBound < origins.count ? origins[range.lowerBound] : (origins.last.map { $0 + 1 } ?? 0)
            return at..<at
        }
        return origins[range.lowerBound]..<(origins[range.upperBound - 1] + 1)
    }

    var string: String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return String(s)
    }
}

extension String {
    init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }
}

/// Unicode classes as Hugging Face's regexes see them.
enum UnicodeClass {
    /// `\p{L}`.
    static func isLetter(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// `\p{N}`.
    static func isNumber(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `\s`: the White_Space property.
    static func isWhitespace(_ u: Unicode.Scalar) -> Bool {
        if u.value < 0x80 { return u == " " || (u.value >= 0x09 && u.value <= 0x0D) }
        return u.properties.isWhitespace
    }

    /// Rust regex's `\w`: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
    static func isWord(_ u: Unicode.Scalar) -> Bool {
        let p = u.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
