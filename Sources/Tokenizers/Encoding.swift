/// What a tokenizer hands to a model: one row of ids with their type ids, attention
/// mask and character offsets. The only type the model shares with the tokenizers.
///
///     let e = try WordPieceTokenizer(vocabulary: url).encode("Hello world")
///     e.ids       // [101, 7592, 2088, 102]
///     e.offsets   // [0..<0, 0..<5, 6..<11, 0..<0]
public struct Encoding: Equatable, Sendable {
    /// Vocabulary ids, special tokens included.
    public var ids: [Int]
    /// The token strings, as the vocabulary spells them (`##ing`, `[CLS]`).
    public var tokens: [String]
    /// Segment ids: 0 for the first sequence (and its specials), 1 for the pair.
    public var typeIds: [Int]
    /// 1 for real tokens; padding is added later, by the batcher, as 0.
    public var attentionMask: [Int]
    /// Offsets in Unicode scalars into the original text, as Hugging Face reports them
    /// (Python string indices); special tokens get `0..<0`.
    public var offsets: [Range<Int>]

    /// 1 for the special tokens the tokenizer added around the text ([CLS], <s>, ...); filled
    /// by `TokenizerJSON`, empty from the other tokenizers.
    public var specialTokensMask: [Int]

    public init(ids: [Int], tokens: [String], typeIds: [Int], attentionMask: [Int], offsets: [Range<Int>],
                specialTokensMask: [Int] = []) {
        self.specialTokensMask = specialTokensMask
        self.ids = ids
        self.tokens = tokens
        self.typeIds = typeIds
        self.attentionMask = attentionMask
        self.offsets = offsets
    }

    public var count: Int { ids.count }
}

/// How to cut a pair that does not fit, as Hugging Face names the strategies.
public enum TruncationStrategy: String, Sendable, CaseIterable {
    case longestFirst = "longest_first"
    case onlyFirst = "only_first"
    case onlySecond = "only_second"
}

/// Turns text into an `Encoding`. Implementations: `WordPieceTokenizer`, `SentencePieceTokenizer`,
/// `TokenizerJSON`.
public protocol Tokenizer: Sendable {
    /// Encodes `text` (and `pair`, when given) with special tokens, truncated so that the
    /// whole encoding, specials included, holds at most `maxLength` tokens.
    func encode(_ text: String, pair: String?, maxLength: Int?, truncation: TruncationStrategy) throws -> Encoding
    /// The id used to pad batches.
    var padId: Int { get }
}

extension Tokenizer {
    public func encode(_ text: String, pair: String? = nil, maxLength: Int? = nil) throws -> Encoding {
        try encode(text, pair: pair, maxLength: maxLength, truncation: .longestFirst)
    }
}

/// Failures of tokenizer set-up and use; each says what to do.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case malformedVocabulary(path: String, reason: String)
    case missingSpecialToken(token: String, path: String)
    case sequenceTooShortForSpecials(maxLength: Int)
    /// `only_first` / `only_second` cannot remove enough tokens from their sequence.
    case sequenceTooShortToTruncate(strategy: TruncationStrategy, maxLength: Int)
    /// `only_second` must cut, but there is no second sequence.
    case pairRequiredForTruncation
    /// libsentencepiece cannot load the file as a SentencePiece model.
    case unreadableModel(path: String, reason: String)
    /// libsentencepiece failed to encode a text.
    case encodingFailed(path: String, reason: String)
    /// A tokenizer.json that is not valid JSON or not a tokenizer's.
    case malformedTokenizerJSON(path: String, reason: String)
    /// A tokenizer.json stage of a type this runtime does not implement (`component` is
    /// "normalizer", "pre_tokenizer", "model", "post_processor" or "decoder").
    case unsupportedComponent(path: String, component: String, type: String)

    /// One line even when the reason quotes a piece with a line break (escaped).
    public var description: String { message.oneLine }

    private var message: String {
        switch self {
        case .missingFile(let path):
            return "\(path): tokenizer file not found; re-run tools/convert to rebuild the model directory"
        case .malformedVocabulary(let path, let reason):
            return "\(path): malformed vocabulary (\(reason)); re-run tools/convert"
        case .missingSpecialToken(let token, let path):
            return "\(path): vocabulary has no \(token) token; re-run tools/convert with the model's own vocabulary"
        case .sequenceTooShortForSpecials(let maxLength):
            return "maximum length \(maxLength) leaves no room for the special tokens; use a larger --max-length"
        case .sequenceTooShortToTruncate(let strategy, let maxLength):
            let which = strategy == .onlySecond ? "second" : "first"
            return "truncation \(strategy.rawValue) cannot fit \(maxLength) tokens: the \(which) sequence is too short to cut; use longest_first or a larger --max-length"
        case .pairRequiredForTruncation:
            return "truncation only_second needs a second sequence; give a pair or use longest_first"
        case .unreadableModel(let path, let reason):
            return "\(path): not a usable SentencePiece model (\(reason)); re-run tools/convert to rebuild it"
        case .malformedTokenizerJSON(let path, let reason):
            return "\(path): not a usable tokenizer.json (\(reason)); re-run tools/convert with the model's own tokenizer.json"
        case .unsupportedComponent(let path, let component, let type):
            return "\(path): \(component) \(type) is not supported; use a model whose tokenizer.json has none, or its vocab.txt / SentencePiece model"
        case .encodingFailed(let path, let reason):
            return "\(path): SentencePiece could not encode the text (\(reason)); check that the input is valid UTF-8"
        }
    }
}
