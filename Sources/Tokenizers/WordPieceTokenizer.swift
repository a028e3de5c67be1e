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
    let vocabulary: Vocabulary
    /// The ids of the special roles present in the vocabulary, which decoding may skip.
    let specialIds: Set<Int>
    /// The mask token's id, when the vocabulary has it.
    public let maskId: Int?
    /// The unknown token's id.
    public let unknownTokenId: Int
    private let normalizer: BertNormalizer
    private let wordPiece: WordPiece
    private let specials: SpecialTokenMatcher
    private let normalizedSpecials: SpecialTokenMatcher
    private let template: WordPieceTemplate
    private let clsId: Int
    private let sepId: Int

    /// Loads `vocab.txt` (one token per line; the id is the line index).
    ///
    ///     let cased = try WordPieceTokenizer(vocabulary: url, lowercase: false)
    ///     let mpnet = try WordPieceTokenizer(vocabulary: url, specials: .mpnet, template: .roberta,
    ///                                        normalizedSpecials: ["<unk>"])
    ///
    /// - Parameters:
    ///   - lowercase: Hugging Face's `do_lower_case`.
    ///   - stripAccents: remove accents; `nil` (the default) strips them when lowercasing.
    ///   - tokenizeChineseChars: make each CJK ideograph a word of its own.
    ///   - maxLength: the default truncation length, special tokens included.
    ///   - specials: the tokens playing the special roles; each typed in the text is that token.
    ///   - template: where the specials go around a text or a pair, and the type ids.
    ///   - normalizedSpecials: more special tokens, found in the normalized text (an added token
    ///     with `"normalized": true` in tokenizer.json: all-mpnet-base-v2's `<unk>` also matches
    ///     "<UNK>"); those absent from the vocabulary are ignored.
    /// - Throws: `TokenizerError.missingFile`, `.malformedVocabulary` (empty, duplicate token,
    ///   not UTF-8), `.missingSpecialToken` when the cls, sep, unk or pad token is absent.
    public init(vocabulary url: URL, lowercase: Bool = true, stripAccents: Bool? = nil,
                tokenizeChineseChars: Bool = true, maxLength: Int? = nil,
                specials roles: WordPieceSpecials = .bert, template: WordPieceTemplate = .bert,
                normalizedSpecials: [String] = []) throws {
        let vocabulary = try Vocabulary(contentsOf: url)
        func id(_ token: String) throws -> Int {
            guard let id = vocabulary.id(of: token) else {
                throw TokenizerError.missingSpecialToken(token: token, path: url.path)
            }
            return id
        }
        clsId = try id(roles.cls)
        sepId = try id(roles.sep)
        padId = try id(roles.pad)
        let unknownId = try id(roles.unk)
        unknownTokenId = unknownId
        self.vocabulary = vocabulary
        self.maxLength = maxLength
        self.template = template
        normalizer = BertNormalizer(lowercase: lowercase, stripAccents: stripAccents ?? lowercase,
                                    handleChineseCharacters: tokenizeChineseChars)
        wordPiece = WordPiece(vocabulary: vocabulary, unknownId: unknownId)
        func matcher(_ tokens: [String]) -> SpecialTokenMatcher {
            SpecialTokenMatcher(specials: tokens.compactMap { token in
                vocabulary.id(of: token).map { .init(scalars: Array(token.unicodeScalars), id: $0) }
            })
        }
        // The mask token of RoBERTa-style tokenizers also takes the whitespace before it
        // (`lstrip`), which BertPreTokenizer drops anyway: no token or offset shows it.
        specials = matcher([roles.pad, roles.unk, roles.cls, roles.sep, roles.mask])
        specialIds = Set([roles.pad, roles.unk, roles.cls, roles.sep, roles.mask].compactMap { vocabulary.id(of: $0) })
        maskId = vocabulary.id(of: roles.mask)
        self.normalizedSpecials = matcher(normalizedSpecials)
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// Encodes `text`, or the pair `text`, `pair`, as the template says: `bert`, `[CLS] text [SEP]`
    /// or `[CLS] text [SEP] pair [SEP]` (type ids 0 up to the first [SEP], 1 after it);
    /// `roberta`, `<s> text </s>` or `<s> text </s></s> pair </s>` (type ids all 0).
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
        let specialCount = pair == nil ? 2 : (template == .bert ? 3 : 4)
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
                normalizedSpecials.forEachSegment(in: normalized.scalars) { part in
                    switch part {
                    case .special(let id, let range):
                        pieces.append(id, normalized.origins[range.lowerBound]..<(normalized.origins[range.upperBound - 1] + 1))
                    case .text(let range):
                        BertPreTokenizer.forEachWord(in: normalized.scalars, range) { word in
                            wordPiece.tokenize(word, of: normalized, into: &pieces)
                        }
                    }
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
            let lead = template == .roberta ? [sepId] : []
            ids += lead + second.ids + [sepId]
            offsets += lead.map { _ in 0..<0 } + second.offsets + [0..<0]
            typeIds += [Int](repeating: template == .roberta ? 0 : 1, count: lead.count + second.count + 1)
        }
        return Encoding(ids: ids, tokens: ids.map { vocabulary.tokens[$0] }, typeIds: typeIds,
                        attentionMask: [Int](repeating: 1, count: ids.count), offsets: offsets)
    }
}

/// The tokens that play the special roles of a WordPiece vocabulary.
public struct WordPieceSpecials: Sendable, Equatable {
    public var cls: String
    public var sep: String
    public var pad: String
    public var unk: String
    public var mask: String

    public init(cls: String, sep: String, pad: String, unk: String, mask: String) {
        (self.cls, self.sep, self.pad, self.unk, self.mask) = (cls, sep, pad, unk, mask)
    }

    /// BERT's: [CLS] [SEP] [PAD] [UNK] [MASK].
    public static let bert = WordPieceSpecials(cls: "[CLS]", sep: "[SEP]", pad: "[PAD]", unk: "[UNK]", mask: "[MASK]")
    /// MPNet's: <s> </s> <pad> [UNK] <mask>.
    public static let mpnet = WordPieceSpecials(cls: "<s>", sep: "</s>", pad: "<pad>", unk: "[UNK]", mask: "<mask>")
}

/// Where the special tokens go, and the type ids.
public enum WordPieceTemplate: String, Sendable, CaseIterable {
    /// `cls A sep` and `cls A sep B sep`; type ids 0 through the first sep, 1 after.
    case bert
    /// `cls A sep` and `cls A sep sep B sep`; type ids all 0 (RoBERTa's and MPNet's).
    case roberta
}
