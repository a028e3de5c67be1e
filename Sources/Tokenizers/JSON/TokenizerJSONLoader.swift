import Foundation

/// Reads the stages of a tokenizer.json; every stage type is named here, the one place that
/// decides what is supported. Anything else is refused with its type name.
struct TokenizerJSONLoader {
    let path: String

    /// The largest tokenizer.json accepted: real ones are a few MB, the largest tens of MB.
    static let maxBytes = 256 << 20

    func root(_ data: Data) throws -> [String: Any] {
        guard data.count <= Self.maxBytes else {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "\(data.count) bytes, more than any tokenizer's")
        }
        let value: Any
        do {
            value = try JSONReader.parse([UInt8](data))
        } catch {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "not valid JSON: \(error.reason)")
        }
        guard let object = value as? [String: Any] else { throw malformed("the top level is not a JSON object") }
        guard object["model"] is [String: Any] else { throw malformed("no \"model\" object") }
        return object
    }

    func malformed(_ reason: String) -> TokenizerError {
        .malformedTokenizerJSON(path: path, reason: reason)
    }

    func unsupported(_ component: String, _ type: String) -> TokenizerError {
        .unsupportedComponent(path: path, component: component, type: type)
    }

    // MARK: Field access

    func object(_ value: Any?, _ what: String) throws -> [String: Any]? {
        if value == nil || value is JSONReader.Null { return nil }
        guard let object = value as? [String: Any] else { throw malformed("\(what) is not an object") }
        return object
    }

    func type(_ object: [String: Any], _ what: String) throws -> String {
        guard let type = object["type"] as? String else { throw malformed("\(what) has no \"type\"") }
        return type
    }

    func string(_ object: [String: Any], _ key: String, _ what: String) throws -> String? {
        let value = object[key]
        if value == nil || value is JSONReader.Null { return nil }
        guard let s = value as? String else { throw malformed("\(what).\(key) is not a string") }
        return s
    }

    func bool(_ object: [String: Any], _ key: String, _ what: String, default d: Bool) throws -> Bool {
        let value = object[key]
        if value == nil || value is JSONReader.Null { return d }
        guard let b = value as? Bool else { throw malformed("\(what).\(key) is not true or false") }
        return b
    }

    func int(_ value: Any?, _ what: String) throws -> Int {
        guard let i = value as? Int, abs(i) < 1 << 40 else {
            throw malformed("\(what) is not an integer")
        }
        return i
    }

    func array(_ value: Any?, _ what: String) throws -> [Any] {
        guard let a = value as? [Any] else { throw malformed("\(what) is not an array") }
        return a
    }

    /// A `[token, id]` pair (RobertaProcessing's and BertProcessing's cls / sep).
    func tokenIdPair(_ value: Any?, _ what: String) throws -> (token: String, id: Int) {
        let a = try array(value, what)
        guard a.count == 2, let token = a[0] as? String else { throw malformed("\(what) is not [token, id]") }
        return (token, try int(a[1], what))
    }

    // MARK: Added tokens

    func addedTokens(_ value: Any?) throws -> [AddedToken] {
        if value == nil || value is JSONReader.Null { return [] }
        var tokens: [AddedToken] = []
        for (i, item) in try array(value, "added_tokens").enumerated() {
            let what = "added_tokens[\(i)]"
            guard let o = try object(item, what), let content = try string(o, "content", what) else {
                throw malformed("\(what) has no content")
            }
            let special = try bool(o, "special", what, default: false)
            tokens.append(AddedToken(content: content, id: try int(o["id"], "\(what).id"), special: special,
                                     singleWord: try bool(o, "single_word", what, default: false),
                                     lstrip: try bool(o, "lstrip", what, default: false),
                                     rstrip: try bool(o, "rstrip", what, default: false),
                                     normalized: try bool(o, "normalized", what, default: !special)))
        }
        return tokens
    }

    // MARK: Models

    func model(_ value: Any?) throws -> any TokenizerModel {
        guard let o = try object(value, "model") else { throw malformed("no \"model\" object") }
        // Old files name no type for BPE; tokenizers then tells the models apart by their fields.
        let type = (o["type"] as? String) ?? (o["merges"] != nil ? "BPE" : o["continuing_subword_prefix"] != nil ? "WordPiece" : "")
        switch type {
        case "BPE": return try bpe(o)
        case "WordPiece": return try wordPiece(o)
        case "Unigram": return try unigram(o)
        default: throw unsupported("model", type.isEmpty ? "(no type)" : type)
        }
    }

    func vocabEntries(_ value: Any?, _ what: String) throws -> [(String, Int)] {
        guard let dict = value as? [String: Any] else { throw malformed("\(what) is not an object of token ids") }
        return try dict.map { ($0.key, try int($0.value, "\(what)[\"\($0.key)\"]")) }
    }

    func bpe(_ o: [String: Any]) throws -> BPEModel {
        if let dropout = (o["dropout"] as? Double) ?? (o["dropout"] as? Int).map(Double.init), dropout > 0 {
            // Dropout draws random merges on every call: no fixed reference to match.
            throw malformed("BPE dropout \(dropout) makes tokenization random; set \"dropout\" to null")
        }
        let vocab = try TokenVocabulary(try vocabEntries(o["vocab"], "model.vocab"), path: path)
        var merges: [(String, String)] = []
        let items = o["merges"] == nil ? [] : try array(o["merges"], "model.merges")
        merges.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            if let line = item as? String {
                // The legacy form "a b": tokens cannot hold a space there.
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw malformed("model.merges[\(i)] \"\(line)\" is not two tokens split by one space") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = item as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append((a, b))
            } else {
                throw malformed("model.merges[\(i)] is neither \"a b\" nor [a, b]")
            }
        }
        return try BPEModel(vocab: vocab, merges: merges, unknown: try string(o, "unk_token", "model"),
                            fuseUnknown: try bool(o, "fuse_unk", "model", default: false),
                            byteFallback: try bool(o, "byte_fallback", "model", default: false),
                            ignoreMerges: try bool(o, "ignore_merges", "model", default: false),
                            prefix: try string(o, "continuing_subword_prefix", "model"),
                            suffix: try string(o, "end_of_word_suffix", "model"), path: path)
    }

    func wordPiece(_ o: [String: Any]) throws -> WordPieceJSONModel {
        let prefix = try string(o, "continuing_subword_prefix", "model") ?? "##"
        let longest = try int(o["max_input_chars_per_word"] ?? 100, "model.max_input_chars_per_word")
        guard prefix == "##", longest == WordPiece.maxScalarsPerWord else {
            throw unsupported("model", "WordPiece with continuing_subword_prefix \"\(prefix)\" and max_input_chars_per_word \(longest) (only \"##\" and 100)")
        }
        let entries = try vocabEntries(o["vocab"], "model.vocab")
        var tokens = [String?](repeating: nil, count: entries.count)
        for (token, id) in entries {
            guard id >= 0, id < tokens.count, tokens[id] == nil else {
                throw malformed("model.vocab ids are not 0..<\(entries.count), each once (\"\(token)\" has \(id))")
            }
            tokens[id] = token
        }
        return try WordPieceJSONModel(tokens: tokens.map { $0! }, unknown: try string(o, "unk_token", "model") ?? "[UNK]", path: path)
    }

    func unigram(_ o: [String: Any]) throws -> UnigramModel {
        let pieces: [(String, Double)] = try array(o["vocab"], "model.vocab").enumerated().map { i, item in
            guard let pair = item as? [Any], pair.count == 2, let piece = pair[0] as? String, let score = number(pair[1]) else {
                throw malformed("model.vocab[\(i)] is not [piece, score]")
            }
            return (piece, score)
        }
        let unknownId = o["unk_id"] is NSNull || o["unk_id"] == nil ? nil : try int(o["unk_id"], "model.unk_id")
        return try UnigramModel(pieces: pieces, unknownId: unknownId,
                                byteFallback: try bool(o, "byte_fallback", "model", default: false), path: path)
    }

    /// A JSON number as a Double (JSONSerialization gives an integer-valued one as Int).
    func number(_ value: Any?) -> Double? {
        if value is Bool { return nil }
        if let d = value as? Double { return d }
        return (value as? Int).map(Double.init)
    }

    /// A split's behaviour ("Isolated", …).
    func behavior(_ o: [String: Any], default d: SplitBehavior? = nil) throws -> SplitBehavior {
        guard let name = try string(o, "behavior", "pre_tokenizer") else {
            if let d { return d }
            throw malformed("pre_tokenizer has no behavior")
        }
        guard let b = SplitBehavior(rawValue: name) else {
            throw malformed("pre_tokenizer behavior \"\(name)\" is not Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous")
        }
        return b
    }

    /// The `{"String": s}` pattern of Replace or Split; a `{"Regex": r}` one is refused.
    func literalPattern(_ o: [String: Any], _ what: String, split: Bool = false) throws -> String {
        guard let pattern = o["pattern"] as? [String: Any], pattern.count == 1 else { throw malformed("\(what).pattern is not {\"String\": …}") }
        if pattern["Regex"] != nil { throw unsupported(what, "\(split ? "Split" : "Replace") with a Regex pattern") }
        guard let literal = pattern["String"] as? String, !literal.isEmpty else { throw malformed("\(what).pattern is not a non-empty {\"String\": …}") }
        return literal
    }

    /// Metaspace's one-scalar replacement and its prepend scheme (older files: add_prefix_space).
    func metaspace(_ o: [String: Any], _ what: String) throws -> (Unicode.Scalar, MetaspacePreTokenizer.Prepend) {
        let replacement = try string(o, "replacement", what) ?? "\u{2581}"
        guard replacement.unicodeScalars.count == 1, let r = replacement.unicodeScalars.first else {
            throw malformed("\(what).replacement \"\(replacement)\" is not one character")
        }
        if let scheme = try string(o, "prepend_scheme", what) {
            guard let p = MetaspacePreTokenizer.Prepend(rawValue: scheme) else { throw malformed("\(what).prepend_scheme \"\(scheme)\" is not always, first or never") }
            return (r, p)
        }
        return (r, try bool(o, "add_prefix_space", what, default: true) ? .always : .never)
    }

    // MARK: Normalizers

    func normalizer(_ value: Any?) throws -> (any Normalizer)? {
        guard let o = try object(value, "normalizer") else { return nil }
        let type = try type(o, "normalizer")
        let what = "normalizer"
        switch type {
        case "BertNormalizer":
            guard try bool(o, "clean_text", what, default: true) else { throw unsupported(what, "BertNormalizer with clean_text false") }
            let lowercase = try bool(o, "lowercase", what, default: true)
            return BertJSONNormalizer(bert: BertNormalizer(
                lowercase: lowercase, stripAccents: (o["strip_accents"] as? Bool) ?? lowercase,
                handleChineseCharacters: try bool(o, "handle_chinese_chars", what, default: true)))
        case "Lowercase": return LowercaseNormalizer()
        case "NFD": return DecomposingNormalizer(compatibility: false)
        case "NFC": return NFCNormalizer()
        case "NFKC": return NFCNormalizer(compatibility: true)
        case "Replace":
            return ReplaceNormalizer(pattern: Array(try literalPattern(o, what).unicodeScalars),
                                     content: Array((try string(o, "content", what) ?? "").unicodeScalars))
        case "Precompiled":
            guard let encoded = o["precompiled_charsmap"] as? String, let charsmap = Data(base64Encoded: encoded) else {
                throw malformed("normalizer Precompiled has no base64 precompiled_charsmap")
            }
            return try PrecompiledNormalizer(charsmap: charsmap, path: path)
        case "Prepend":
            return PrependNormalizer(prefix: Array((try string(o, "prepend", what) ?? "").unicodeScalars))
        case "NFKD": return DecomposingNormalizer(compatibility: true)
        case "StripAccents": return StripAccentsNormalizer()
        case "Strip":
            return StripNormalizer(left: try bool(o, "strip_left", what, default: true),
                                   right: try bool(o, "strip_right", what, default: true))
        case "Sequence":
            return SequenceNormalizer(stages: try array(o["normalizers"], "normalizer.normalizers").map {
                guard let stage = try normalizer($0) else { throw malformed("a null in normalizer.normalizers") }
                return stage
            })
        default: throw unsupported("normalizer", type)
        }
    }

    // MARK: Pre-tokenizers

    func preTokenizer(_ value: Any?) throws -> (any PreTokenizer)? {
        guard let o = try object(value, "pre_tokenizer") else { return nil }
        let type = try type(o, "pre_tokenizer")
        switch type {
        case "ByteLevel":
            return ByteLevelPreTokenizer(addPrefixSpace: try bool(o, "add_prefix_space", "pre_tokenizer", default: true),
                                         useRegex: try bool(o, "use_regex", "pre_tokenizer", default: true))
        case "BertPreTokenizer": return BertJSONPreTokenizer()
        case "WhitespaceSplit": return WhitespaceSplitPreTokenizer()
        case "Whitespace": return WhitespacePreTokenizer()
        case "Split":
            return SplitPreTokenizer(pattern: Array(try literalPattern(o, "pre_tokenizer", split: true).unicodeScalars),
                                     behavior: try behavior(o), invert: try bool(o, "invert", "pre_tokenizer", default: false))
        case "Punctuation": return PunctuationPreTokenizer(behavior: try behavior(o, default: .isolated))
        case "Digits": return DigitsPreTokenizer(individual: try bool(o, "individual_digits", "pre_tokenizer", default: false))
        case "Metaspace":
            let (replacement, prepend) = try metaspace(o, "pre_tokenizer")
            return MetaspacePreTokenizer(replacement: replacement, prepend: prepend, split: try bool(o, "split", "pre_tokenizer", default: true))
        case "Sequence":
            return SequencePreTokenizer(stages: try array(o["pretokenizers"], "pre_tokenizer.pretokenizers").map {
                guard let stage = try preTokenizer($0) else { throw malformed("a null in pre_tokenizer.pretokenizers") }
                return stage
            })
        default: throw unsupported("pre_tokenizer", type)
        }
    }

    // MARK: Post-processors

    func postProcessor(_ value: Any?) throws -> (any PostProcessor)? {
        guard let o = try object(value, "post_processor") else { return nil }
        let type = try type(o, "post_processor")
        let what = "post_processor"
        switch type {
        case "RobertaProcessing":
            return RobertaProcessor(cls: try tokenIdPair(o["cls"], "\(what).cls"), sep: try tokenIdPair(o["sep"], "\(what).sep"),
                                    trimOffsets: try bool(o, "trim_offsets", what, default: true),
                                    addPrefixSpace: try bool(o, "add_prefix_space", what, default: true))
        case "BertProcessing":
            return BertProcessor(cls: try tokenIdPair(o["cls"], "\(what).cls"), sep: try tokenIdPair(o["sep"], "\(what).sep"))
        case "ByteLevel":
            return ByteLevelProcessor(trimOffsets: try bool(o, "trim_offsets", what, default: true),
                                      addPrefixSpace: try bool(o, "add_prefix_space", what, default: true))
        case "TemplateProcessing":
            return try template(o)
        case "Sequence":
            return SequenceProcessor(processors: try array(o["processors"], "\(what).processors").map {
                guard let stage = try postProcessor($0) else { throw malformed("a null in post_processor.processors") }
                return stage
            })
        default: throw unsupported("post_processor", type)
        }
    }

    func template(_ o: [String: Any]) throws -> TemplateProcessor {
        let what = "post_processor"
        let specials = try object(o["special_tokens"], "\(what).special_tokens") ?? [:]
        func items(_ key: String) throws -> [TemplateProcessor.Item] {
            try array(o[key], "\(what).\(key)").map { item in
                guard let item = item as? [String: Any], item.count == 1, let (kind, body) = item.first,
                      let body = body as? [String: Any], let id = body["id"] as? String else {
                    throw malformed("\(what).\(key) has an item that is neither SpecialToken nor Sequence")
                }
                let typeId = try int(body["type_id"] ?? 0, "\(what).\(key) type_id")
                switch kind {
                case "Sequence":
                    guard id == "A" || id == "B" else { throw malformed("\(what).\(key) names sequence \(id), not A or B") }
                    return .sequence(index: id == "A" ? 0 : 1, typeId: typeId)
                case "SpecialToken":
                    guard let special = try object(specials[id], "\(what).special_tokens[\"\(id)\"]") else {
                        throw malformed("\(what).\(key) uses \(id), which special_tokens does not define")
                    }
                    let ids = try array(special["ids"], "special_tokens[\"\(id)\"].ids").map { try int($0, "special_tokens[\"\(id)\"].ids") }
                    guard let tokens = special["tokens"] as? [String], tokens.count == ids.count else {
                        throw malformed("special_tokens[\"\(id)\"] has not one token per id")
                    }
                    return .special(ids: ids, tokens: tokens, typeId: typeId)
                default:
                    throw malformed("\(what).\(key) has an item \(kind), not SpecialToken or Sequence")
                }
            }
        }
        return TemplateProcessor(single: try items("single"), pair: try items("pair"))
    }

    // MARK: Decoders

    func decoder(_ value: Any?) throws -> (any Decoder)? {
        guard let o = try object(value, "decoder") else { return nil }
        let type = try type(o, "decoder")
        switch type {
        case "ByteLevel": return ByteLevelDecoder()
        case "WordPiece":
            return WordPieceDecoder(prefix: try string(o, "prefix", "decoder") ?? "##",
                                    cleanup: try bool(o, "cleanup", "decoder", default: true))
        case "Metaspace":
            let (replacement, prepend) = try metaspace(o, "decoder")
            return MetaspaceDecoder(replacement: replacement, prepended: prepend != .never)
        case "Replace":
            return ReplaceDecoder(pattern: try literalPattern(o, "decoder"), content: try string(o, "content", "decoder") ?? "")
        case "ByteFallback": return ByteFallbackDecoder()
        case "Fuse": return FuseDecoder()
        case "Strip":
            let content = try string(o, "content", "decoder") ?? " "
            guard content.unicodeScalars.count == 1, let c = content.unicodeScalars.first else { throw malformed("decoder.content \"\(content)\" is not one character") }
            return StripDecoder(content: c, start: try int(o["start"] ?? 0, "decoder.start"), stop: try int(o["stop"] ?? 0, "decoder.stop"))
        case "Sequence":
            return SequenceDecoder(stages: try array(o["decoders"], "decoder.decoders").map {
                guard let stage = try decoder($0) else { throw malformed("a null in decoder.decoders") }
                return stage
            })
        default: throw unsupported("decoder", type)
        }
    }
}

/// Sequence: each pre-tokenizer splits the pieces of the one before.
struct SequencePreTokenizer: PreTokenizer {
    var stages: [any PreTokenizer]

    func split(_ words: inout [NormalizedText]) {
        for stage in stages { stage.split(&words) }
    }
}
