import Foundation

/// A tokenizer assembled from a Hugging Face `tokenizer.json`, giving the ids, tokens, type
/// ids, offsets and special-token masks that the `tokenizers` library gives for that file.
///
///     let tokenizer = try TokenizerJSON(contentsOf: dir.appending(path: "tokenizer.json"))
///     let e = try tokenizer.encode("Hello world", pair: "again", maxLength: 128, truncation: .longestFirst)
///     tokenizer.decode(e.ids, skipSpecialTokens: true)   // "Hello worldagain"
///
/// The stages run in `tokenizers`' order: added tokens are cut out of the raw text (those with
/// `normalized: false`), the rest is normalized and cut again at the normalized added tokens,
/// pre-tokenized into words, each word tokenized by the model; truncation then cuts the
/// sequences and the post-processor adds the special tokens. A stage this runtime does not
/// implement is refused when the file is loaded (`TokenizerError.unsupportedComponent`), never
/// replaced by an approximation. The file's own `truncation` and `padding` are ignored, as
/// transformers ignores them: the caller's `maxLength` decides.
public struct TokenizerJSON: Tokenizer {
    /// The truncation length used when `encode` is given none; `nil`: no truncation.
    public let maxLength: Int?
    public let padId: Int
    let normalizer: (any Normalizer)?
    let preTokenizer: (any PreTokenizer)?
    let model: any TokenizerModel
    let postProcessor: (any PostProcessor)?
    let decoder: (any Decoder)?
    let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher

    /// Loads `url` (a tokenizer.json). `padToken` names the padding token when the file does
    /// not (its `padding` block); absent from both, the id is 0.
    ///
    /// - Throws: `TokenizerError.missingFile`, `.malformedTokenizerJSON` (not JSON, a missing
    ///   field, a merge naming a token the vocabulary lacks, ...), `.unsupportedComponent`.
    public init(contentsOf url: URL, maxLength: Int? = nil, padToken: String? = nil) throws {
        let path = url.path
        guard let data = FileContents.read(path) else { throw TokenizerError.missingFile(path: path) }
        try self.init(data: data, path: path, maxLength: maxLength, padToken: padToken)
    }

    /// Loads tokenizer.json text; `path` names it in errors.
    public init(data: Data, path: String, maxLength: Int? = nil, padToken: String? = nil) throws {
        let loader = TokenizerJSONLoader(path: path)
        let root = try loader.root(data)
        model = try loader.model(root["model"])
        addedTokens = try loader.addedTokens(root["added_tokens"])
        normalizer = try loader.normalizer(root["normalizer"])
        preTokenizer = try loader.preTokenizer(root["pre_tokenizer"])
        postProcessor = try loader.postProcessor(root["post_processor"])
        decoder = try loader.decoder(root["decoder"])
        self.maxLength = maxLength
        let raw = addedTokens.filter { !$0.normalized }
        rawMatcher = AddedTokenMatcher(raw, patterns: raw.map { Array($0.content.unicodeScalars) })
        let normalized = addedTokens.filter(\.normalized)
        let normalizer = self.normalizer
        normalizedMatcher = AddedTokenMatcher(normalized, patterns: normalized.map { token in
            var text = NormalizedText(ArraySlice(token.content.unicodeScalars), origins: ArraySlice(0..<token.content.unicodeScalars.count))
            normalizer?.normalize(&text)
            return text.scalars
        })
        let size = max(model.size, (addedTokens.map(\.id).max() ?? -1) + 1)
        if let bad = (postProcessor?.specialIds ?? []).first(where: { $0 < 0 || $0 >= size }) {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the post-processor adds id \(bad), outside the vocabulary's 0..<\(size)")
        }
        if let bad = addedTokens.first(where: { $0.id < 0 }) {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "added token \"\(bad.content)\" has id \(bad.id)")
        }
        let padding = root["padding"] as? [String: Any]
        let padName = (padding?["pad_token"] as? String) ?? padToken
        if let padding, let id = padding["pad_id"] as? Int {
            padId = id
        } else if let padName {
            padId = addedTokens.first { $0.content == padName }?.id ?? model.id(of: padName) ?? 0
        } else {
            padId = 0
        }
        guard padId >= 0 && padId < size else {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the padding id \(padId) is outside the vocabulary's 0..<\(size)")
        }
    }

    /// One past the largest id, added tokens included (what the model's embedding must hold).
    public var vocabularySize: Int { max(model.size, (addedTokens.map(\.id).max() ?? -1) + 1) }

    /// The string of an id (an added token's content or the model's token).
    public func token(of id: Int) -> String? {
        addedTokens.first { $0.id == id }?.content ?? model.token(of: id)
    }

    /// The id of a token string (an added token or one of the model's).
    public func id(of token: String) -> Int? {
        addedTokens.first { $0.content == token }?.id ?? model.id(of: token)
    }

    /// Encodes `text`, or the pair, with the post-processor's special tokens, truncated to
    /// `maxLength` tokens (special tokens included) as `truncation` says.
    /// - Throws: `TokenizerError.sequenceTooShortForSpecials`, `.sequenceTooShortToTruncate`,
    ///   `.pairRequiredForTruncation`, as WordPieceTokenizer does.
    public func encode(_ text: String, pair: String?, maxLength: Int?,
                       truncation: TruncationStrategy) throws -> Encoding {
        let limit = maxLength ?? self.maxLength
        let specialCount = postProcessor?.addedTokens(pair: pair != nil) ?? 0
        if let limit, limit < specialCount {
            throw TokenizerError.sequenceTooShortForSpecials(maxLength: limit)
        }
        var first = try part(of: text, typeId: 0)
        var second = try pair.map { try part(of: $0, typeId: 1) }
        if let limit {
            let (keepFirst, keepSecond) = try Truncation.keep(first: first.count, second: second?.count, budget: limit - specialCount,
                                                              strategy: truncation, maxLength: limit)
            first.truncate(to: keepFirst)
            if let keepSecond { second?.truncate(to: keepSecond) }
        }
        var parts = [first] + (second.map { [$0] } ?? [])
        if let postProcessor { parts = postProcessor.process(parts) }
        var all = EncodingPart()
        for p in parts { all.append(contentsOf: p) }
        return Encoding(ids: all.ids, tokens: all.tokens, typeIds: all.typeIds,
                        attentionMask: [Int](repeating: 1, count: all.count), offsets: all.offsets,
                        specialTokensMask: all.specialMask)
    }

    /// The tokens of one sequence, before truncation and special tokens.
    func part(of text: String, typeId: Int) throws -> EncodingPart {
        let scalars = Array(text.unicodeScalars)
        var part = EncodingPart()
        var tokens: [Token] = []
        for segment in rawMatcher.segments(of: scalars) {
            switch segment {
            case .token(let token, let range):
                part.append(Token(id: token.id, value: String(scalars: scalars[range]), offsets: range), typeId: typeId)
            case .text(let range):
                var normalized = NormalizedText(scalars[range], origins: ArraySlice(range))
                normalizer?.normalize(&normalized)
                for inner in normalizedMatcher.segments(of: normalized.scalars) {
                    switch inner {
                    case .token(let token, let r):
                        part.append(Token(id: token.id, value: String(scalars: normalized.scalars[r]),
                                          offsets: normalized.originalRange(r)), typeId: typeId)
                    case .text(let r):
                        guard !r.isEmpty else { continue }
                        var words = [normalized.slice(r)]
                        preTokenizer?.split(&words)
                        for word in words where !word.scalars.isEmpty {
                            tokens.removeAll(keepingCapacity: true)
                            try model.tokenize(word, into: &tokens)
                            for t in tokens { part.append(t, typeId: typeId) }
                        }
                    }
                }
            }
        }
        return part
    }

    /// tokenizers' word ids (`Encoding.word_ids`) of the tokens of one sequence of `text`, given
    /// by their offsets in order (special tokens left out): a token's word is the last of
    /// `wordRanges(in:)` starting at or before it, except that a token whose offsets are empty
    /// (a space trimmed away, as ByteLevel trims offsets) stays with the word ending there.
    public func wordIndices(offsets: [Range<Int>], in text: String) -> [Int] {
        let words = wordRanges(in: text)
        var word = 0
        return offsets.map { r in
            while word + 1 < words.count, words[word + 1].lowerBound <= r.lowerBound,
                  !(r.isEmpty && words[word].upperBound == r.lowerBound && words[word + 1].lowerBound == r.lowerBound) {
                word += 1
            }
            return word
        }
    }

    /// The words of `text` as tokenizers numbers them: each added token, and each piece the
    /// pre-tokenizer cuts the rest into, as a range of Unicode scalars of `text`, in order. A
    /// token lies inside its word's range.
    public func wordRanges(in text: String) -> [Range<Int>] {
        let scalars = Array(text.unicodeScalars)
        var out: [Range<Int>] = []
        for segment in rawMatcher.segments(of: scalars) {
            switch segment {
            case .token(_, let range):
                out.append(range)
            case .text(let range):
                var normalized = NormalizedText(scalars[range], origins: ArraySlice(range))
                normalizer?.normalize(&normalized)
                for inner in normalizedMatcher.segments(of: normalized.scalars) {
                    switch inner {
                    case .token(_, let r):
                        out.append(normalized.originalRange(r))
                    case .text(let r):
                        guard !r.isEmpty else { continue }
                        var words = [normalized.slice(r)]
                        preTokenizer?.split(&words)
                        for word in words where !word.scalars.isEmpty {
                            out.append(word.origins.min()!..<(word.origins.max()! + 1))
                        }
                    }
                }
            }
        }
        return out
    }

    /// The text of `ids`, through the file's decoder (tokens joined by spaces when it has none).
    /// `skipSpecialTokens` leaves out the added tokens marked special; unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        for id in ids {
            if let added = addedTokens.first(where: { $0.id == id }) {
                if skipSpecialTokens && added.special { continue }
                tokens.append(added.content)
            } else if let token = model.token(of: id) {
                tokens.append(token)
            }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens).joined()
    }
}
