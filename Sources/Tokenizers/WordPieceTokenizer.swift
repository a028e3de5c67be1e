import Foundation

/// BERT's WordPiece tokenizer, token for token the same as Hugging Face's `BertTokenizerFast`:
/// the same ids, tokens, type ids and offsets.
///
///     let tokenizer = try WordPieceTokenizer(vocabulary: modelDirectory.appending(path: "vocab.txt"))
///     let e = try tokenizer.encode("Hello, world!")
///     e.tokens   // ["[CLS]", "hello", ",", "world", "!", "[SEP]"]
///     e.offsets  // [0..<0, 0..<5, 5..<6, 7..<12, 12..<13, 0..<0]
///
/// The text goes through Hugging Face's pipeline: special tokens typed in the text are found
/// first ("[SEP]" in the text is the token [SEP]); the rest is normalized (control characters
/// dropped, CJK ideographs spaced out, accents stripped, lowercased), split into words at
/// whitespace and punctuation, and each word into the longest vocabulary pieces.
public struct WordPieceTokenizer: Tokenizer {
    /// The truncation length used when `encode` is given none; `nil`: no truncation.
    public let maxLength: Int?
    public let padId: Int
    private let vocabulary: Vocabulary
    private let normalizer: BertNormalizer
    private let wordPiece: WordPiece
    private let specials: SpecialTokenMatcher
    private let clsId: Int
    private let sepId: Int

    /// Loads `vocab.txt` (one token per line; the id is the line index).
    ///
    ///     let cased = try WordPieceTokenizer(vocabulary: url, lowercase: false)
    ///
    /// - Parameters:
    ///   - lowercase: Hugging Face's `do_lower_case`.
    ///   - stripAccents: remove accents; `nil` (the default) strips them when lowercasing.
    ///   - tokenizeChineseChars: make each CJK ideograph a word of its own.
    ///   - maxLength: the default truncation length, special tokens included.
    /// - Throws: `TokenizerError.missingFile`, `.malformedVocabulary` (empty, duplicate token,
    ///   not UTF-8), `.missingSpecialToken` when [CLS], [SEP], [UNK] or [PAD] is absent.
    public init(vocabulary url: URL, lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseChars: Bool = true, maxLength: Int? = nil) throws {
        let vocabulary = try Vocabulary(contentsOf: url)
        func id(_ token: String) throws -> Int {
            guard let id = vocabulary.id(of: token) else {
                throw TokenizerError.missingSpecialToken(token: token, path: url.path)
            }
            return id
        }
        clsId = try id("[CLS]")
        sepId = try id("[SEP]")
        padId = try id("[PAD]")
        let unknownId = try id("[UNK]")
        self.vocabulary = vocabulary
        self.maxLength = maxLength
        normalizer = BertNormalizer(lowercase: lowercase, stripAccents: stripAccents ?? lowercase,
                                    handleChineseCharacters: tokenizeChineseChars)
        wordPiece = WordPiece(vocabulary: vocabulary, unknownId: unknownId)
        let specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        specials = SpecialTokenMatcher(specials: specialTokens.compactMap { token in
            vocabulary.id(of: token).map { .init(scalars: Array(token.unicodeScalars), id: $0) }
        })
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// Encodes `text`, or the pair `text`, `pair`, as `[CLS] text [SEP]` or
    /// `[CLS] text [SEP] pair [SEP]` (type ids 0 up to the first [SEP], 1 after it).
    ///
    ///     let e = try tokenizer.encode("a question", pair: "a passage", maxLength: 128, truncation: .onlySecond)
    ///
    /// An empty `pair` is an empty second sequence (`[CLS] text [SEP] [SEP]`), as in
    /// `tokenizers` and in transformers' batch calls (a single transformers call drops it).
    /// - Throws: `TokenizerError.sequenceTooShortForSpecials` when `maxLength` cannot hold the
    ///   special tokens (Hugging Face then silently skips truncation);
    ///   `.sequenceTooShortToTruncate` and `.pairRequiredForTruncation` when `onlyFirst` or
    ///   `onlySecond` cannot cut enough, as Hugging Face does.
    public func encode(_ text: String, pair: String?, maxLength: Int?,
                       truncation: TruncationStrategy) throws -> Encoding {
        let limit = maxLength ?? self.maxLength
        let specialCount = pair == nil ? 2 : 3
        if let limit, limit < specialCount {
            throw TokenizerError.sequenceTooShortForSpecials(maxLength: limit)
        }
        var first = pieces(of: text)
        var second = pair.map(pieces(of:))
        if let limit {
            try Truncation.apply(to: &first, &second, maxLength: limit, specialCount: specialCount, strategy: truncation)
        }
        return assemble(first, second)
    }

    /// The pieces of `text`, special tokens typed in it included, without [CLS] and [SEP].
    private func pieces(of text: String) -> Pieces {
        let scalars = Array(text.unicodeScalars)
        var pieces = Pieces()
        var normalized = NormalizedText()
        var scratch = NormalizerScratch()
        specials.forEachSegment(in: scalars) { segment in
            switch segment {
            case .special(let id, let range):
                pieces.append(id, range)
            case .text(let range):
                normalizer.normalize(scalars, range, into: &normalized, scratch: &scratch)
                BertPreTokenizer.forEachWord(in: normalized.scalars) { word in
                    wordPiece.tokenize(word, of: normalized, into: &pieces)
                }
            }
        }
        return pieces
    }

    private func assemble(_ first: Pieces, _ second: Pieces?) -> Encoding {
        var ids = [clsId] + first.ids + [sepId]
        var offsets = [0..<0] + first.offsets + [0..<0]
        var typeIds = [Int](repeating: 0, count: ids.count)
        if let second {
            ids += second.ids + [sepId]
            offsets += second.offsets + [0..<0]
            typeIds += [Int](repeating: 1, count: second.count + 1)
        }
        return Encoding(ids: ids, tokens: ids.map { vocabulary.tokens[$0] }, typeIds: typeIds,
                        attentionMask: [Int](repeating: 1, count: ids.count), offsets: offsets)
    }
}
