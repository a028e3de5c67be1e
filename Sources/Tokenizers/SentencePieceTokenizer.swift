import CSentencePiece
import Foundation

/// A SentencePiece model (`.model`) run by libsentencepiece, behind the same protocol as
/// `WordPieceTokenizer`.
///
///     let xlmr = try SentencePieceTokenizer(model: dir.appending(path: "sentencepiece.bpe.model"),
///                                           convention: .xlmRoberta)
///     let e = try xlmr.encode("Hello world!")
///     e.tokens   // ["<s>", "▁Hello", "▁world", "!", "</s>"]
///     e.ids      // [0, 35378, 8999, 38, 2]
///
/// Three conventions:
/// - `.plain`: the model's own ids, exactly as the sentencepiece package's `encode(text)`:
///   no special tokens; a pair is the two sequences one after the other (type ids 0, then 1).
/// - `.xlmRoberta`: Hugging Face's XLM-R ids: `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, every
///   other piece shifted by one, `<mask>` last; `<s> A </s>` and `<s> A </s></s> B </s>`, all
///   type ids 0. Special tokens typed in the text are those tokens, and words are cut at
///   White_Space (but not at what the model's normalization removes) before SentencePiece
///   sees them, as transformers' XLMRobertaTokenizer does; offsets are transformers' too.
/// - `.albert`: transformers' AlbertTokenizer (the fast one that its pipelines load): the
///   model's own ids; `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`, type ids 0 then 1; `<pad>`
///   `<unk>` `[CLS]` `[SEP]` `[MASK]` typed in the text are those tokens; "``" and "''" become
///   `"`, accents are stripped (NFKD, combining marks dropped) unless `keepAccents`, the text is
///   lowercased when `lowercase`, then cut into words as for XLM-R. The slow AlbertTokenizer of
///   transformers 4 also re-split pieces ending in a digit and "," ("9," → "9" ","); the fast
///   one does not, and neither does this.
/// - `.deberta`: transformers' DebertaV2Tokenizer: the model's own ids (`[PAD]` `[CLS]` `[SEP]`
///   `[UNK]` are pieces, deberta-v3's 0-3; `[MASK]` a piece or the id after the last one),
///   ALBERT's template and type ids, the five typed in the text are those tokens; then
///   `DebertaNormalizer` (whitespace runs, NFC) and words cut at spaces. transformers 5 does
///   not apply the model's own normalization rules; tools/convert writes the model without
///   them, so libsentencepiece does not either (a model that keeps them gets them on top).
///
/// Where transformers' `tokenizers` and libsentencepiece segment a word differently (ties
/// between equally scored segmentations; characters that combine across 6+ UTF-8 bytes, which
/// `tokenizers` normalizes one by one), this follows libsentencepiece.
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    // @unchecked: libsentencepiece's encoding is const and safe to call from several threads.

    public enum Convention: String, Sendable {
        case plain
        case xlmRoberta = "xlm-roberta"
        case albert
        case deberta
    }

    public let convention: Convention
    /// The truncation length used when `encode` is given none; `nil`: no truncation.
    public let maxLength: Int?
    public let padId: Int
    /// Pieces in the model file.
    public let pieceCount: Int
    private let handle: OpaquePointer
    private let specials: SpecialTokenMatcher
    /// The ids of the special tokens (decoding may skip them) and of the mask token.
    let specialIds: Set<Int>
    public let maskId: Int?
    /// White_Space characters the model's normalization removes: transformers splits words
    /// after normalizing, so these do not end a word.
    private let removedWhiteSpace: Set<Unicode.Scalar>
    /// The id of the piece "▁", -1 when the model has none.
    private let metaspaceId: Int
    let unknownId: Int
    private let path: String
    /// The normalization before libsentencepiece's (`.albert` only).
    private let albertNormalizer: AlbertNormalizer?
    /// The normalization before libsentencepiece's (`.deberta` only).
    private let debertaNormalizer: DebertaNormalizer?
    /// `[MASK]`'s id when it is not a piece (DeBERTa-v3: the id after the last piece), else -1.
    private let addedMaskId: Int
    /// The ids of the first and separating special tokens: <s> </s> for XLM-R, [CLS] [SEP] for ALBERT and DeBERTa.
    private let clsId: Int
    private let sepId: Int

    /// Loads a `.model` file.
    /// - Parameters:
    ///   - lowercase, keepAccents: AlbertTokenizer's `do_lower_case` and `keep_accents`; only
    ///     the `.albert` convention reads them.
    /// - Throws: `TokenizerError.missingFile`, `.unreadableModel` when libsentencepiece refuses it,
    ///   `.missingSpecialToken` when an ALBERT model lacks [CLS] or [SEP].
    public init(model url: URL, convention: Convention = .plain, maxLength: Int? = nil,
                lowercase: Bool = true, keepAccents: Bool = false) throws {
        path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw TokenizerError.missingFile(path: path) }
        var error: UnsafeMutablePointer<CChar>?
        guard let handle = spm_load(path, &error) else {
            throw TokenizerError.unreadableModel(path: path, reason: Self.take(error) ?? "unknown error")
        }
        self.handle = handle
        self.convention = convention
        self.maxLength = maxLength
        pieceCount = Int(spm_piece_count(handle))
        unknownId = Int(spm_unk_id(handle))
        let metaspace = Int(spm_piece_to_id(handle, "\u{2581}", 3))
        metaspaceId = metaspace == unknownId ? -1 : metaspace
        albertNormalizer = convention == .albert ? AlbertNormalizer(lowercase: lowercase, keepAccents: keepAccents) : nil
        var addedMask = -1
        debertaNormalizer = convention == .deberta ? DebertaNormalizer() : nil
        switch convention {
        case .plain:
            let pad = Int(spm_pad_id(handle)), unk = Int(spm_unk_id(handle))
            padId = pad >= 0 ? pad : max(unk, 0)
            (clsId, sepId) = (-1, -1)
            specials = SpecialTokenMatcher(specials: [])
            (specialIds, maskId) = ([], nil)
            removedWhiteSpace = []
        case .albert, .deberta:
            // AlbertTokenizer's or DebertaV2Tokenizer's special tokens, by the model's own ids ([CLS] [SEP] required).
            let (pad, unk) = convention == .albert ? ("<pad>", "<unk>") : ("[PAD]", "[UNK]")
            var found: [String: Int] = [:]
            for token in [pad, unk, "[CLS]", "[SEP]", "[MASK]"] {
                let id = Int(spm_piece_to_id(handle, token, token.utf8.count))
                if id != unknownId || token == unk { found[token] = id }
            }
            if convention == .deberta, found["[MASK]"] == nil {
                addedMask = pieceCount
                found["[MASK]"] = pieceCount
            }
            guard let cls = found["[CLS]"], let sep = found["[SEP]"] else {
                spm_free(handle)
                throw TokenizerError.missingSpecialToken(token: found["[CLS]"] == nil ? "[CLS]" : "[SEP]", path: path)
            }
            (clsId, sepId) = (cls, sep)
            let padPiece = Int(spm_pad_id(handle))
            padId = found[pad] ?? (padPiece >= 0 ? padPiece : max(unknownId, 0))
            specials = SpecialTokenMatcher(specials: found.map { .init(scalars: Array($0.key.unicodeScalars), id: $0.value) })
            (specialIds, maskId) = (Set(found.values), found["[MASK]"])
            do {
                removedWhiteSpace = try Self.removedWhiteSpace(handle: handle, path: path)
            } catch {
                spm_free(handle)
                throw error
            }
        case .xlmRoberta:
            addedMask = -1
            padId = 1
            (clsId, sepId) = (0, 2)
            let tokens = ["<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": pieceCount + 1]
            specials = SpecialTokenMatcher(specials: tokens.map { .init(scalars: Array($0.key.unicodeScalars), id: $0.value) })
            (specialIds, maskId) = (Set(tokens.values), pieceCount + 1)
            guard spm_unk_id(handle) == 0, spm_bos_id(handle) == 1, spm_eos_id(handle) == 2 else {
                spm_free(handle)
                throw TokenizerError.unreadableModel(
                    path: path, reason: "not an XLM-R model: <unk> <s> </s> must be pieces 0, 1, 2")
            }
            do {
                removedWhiteSpace = try Self.removedWhiteSpace(handle: handle, path: path)
            } catch {
                spm_free(handle)
                throw error
            }
        }
        addedMaskId = addedMask
    }

    /// The White_Space characters the model's normalization removes ("a\u{200B}b" encodes as "ab").
    private static func removedWhiteSpace(handle: OpaquePointer, path: String) throws -> Set<Unicode.Scalar> {
        let ab = try encode(Array("ab".utf8), handle: handle, path: path).ids
        return try Set(whiteSpace.filter { c in
            try encode(Array("a\(Character(c))b".utf8), handle: handle, path: path).ids == ab
        })
    }

    /// Unicode's White_Space characters, where transformers' WhitespaceSplit cuts.
    static let whiteSpace: [Unicode.Scalar] = (UInt32(0)...0x3000).compactMap(Unicode.Scalar.init)
        .filter(\.properties.isWhitespace)

    deinit { spm_free(handle) }

    /// The number of ids: the model's pieces, plus `<pad>` and `<mask>` for XLM-R, `[MASK]` for a DeBERTa model without it.
    public var vocabularySize: Int { convention == .xlmRoberta ? pieceCount + 2 : addedMaskId >= 0 ? pieceCount + 1 : pieceCount }

    /// The token spelled by `id`, as `tokens` in an `Encoding` shows it.
    public func token(for id: Int) -> String {
        if convention == .xlmRoberta {
            switch id {
            case 0: return "<s>"
            case 1: return "<pad>"
            case 2: return "</s>"
            case 3: return "<unk>"
            case pieceCount + 1: return "<mask>"
            default: return piece(id - 1)
            }
        }
        if id == addedMaskId { return "[MASK]" }
        return piece(id)
    }

    private func piece(_ id: Int) -> String {
        guard id >= 0 && id < pieceCount else { return "" }
        var length = 0
        let p = spm_id_to_piece(handle, Int32(id), &length)!
        return String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self)
    }

    /// Encodes `text` (and `pair`) in the tokenizer's convention, truncated so that the whole
    /// encoding, special tokens included, holds at most `maxLength` tokens.
    /// - Throws: as `WordPieceTokenizer.encode`: `.sequenceTooShortForSpecials`,
    ///   `.sequenceTooShortToTruncate`, `.pairRequiredForTruncation`; `.encodingFailed`.
    public func encode(_ text: String, pair: String?, maxLength: Int?,
                       truncation: TruncationStrategy) throws -> Encoding {
        let limit = maxLength ?? self.maxLength
        let specialCount: Int
        switch convention {
        case .plain: specialCount = 0
        case .xlmRoberta: specialCount = pair == nil ? 2 : 4
        case .albert, .deberta: specialCount = pair == nil ? 2 : 3
        }
        if let limit, limit < max(specialCount, 1) {
            throw TokenizerError.sequenceTooShortForSpecials(maxLength: limit)
        }
        var first = try pieces(of: text)
        var second = try pair.map(pieces(of:))
        if let limit {
            try Truncation.apply(to: &first, &second, maxLength: limit, specialCount: specialCount, strategy: truncation)
        }
        return assemble(first, second)
    }

    /// The model's own ids for `text`, as the sentencepiece package's `encode(text)`.
    public func modelIds(_ text: String) throws -> [Int] {
        try encodeBytes(Array(text.utf8)).ids
    }

    private func pieces(of text: String) throws -> Pieces {
        let scalars = Array(text.unicodeScalars)
        var out = Pieces()
        switch convention {
        case .plain:
            try append(scalars, 0..<scalars.count, origins: nil, to: &out)
        case .xlmRoberta, .albert, .deberta:
            var failure: Error?
            var normalized = NormalizedText()
            var scratch = NormalizerScratch()
            specials.forEachSegment(in: scalars) { segment in
                guard failure == nil else { return }
                switch segment {
                case .special(let id, let range):
                    out.append(id, range)
                case .text(let range):
                    if let albertNormalizer {
                        albertNormalizer.normalize(scalars, range, into: &normalized, scratch: &scratch)
                        failure = Self.catching {
                            try appendWords(normalized.scalars, 0..<normalized.scalars.count, origins: normalized.origins, to: &out)
                        }
                    } else if let debertaNormalizer {
                        debertaNormalizer.normalize(scalars, range, into: &normalized)
                        failure = Self.catching {
                            try appendWords(normalized.scalars, 0..<normalized.scalars.count, origins: normalized.origins,
                                            spacesOnly: true, to: &out)
                        }
                    } else {
                        failure = Self.catching { try appendWords(scalars, range, origins: nil, to: &out) }
                    }
                }
            }
            if let failure { throw failure }
        }
        return out
    }

    /// Cuts `scalars[range]` into words at White_Space (but not at what the model's
    /// normalization removes) and appends each word's pieces; `origins` maps `scalars` to the
    /// original text when they are a normalized copy of it.
    /// `spacesOnly`: cut at " " alone (DeBERTa's Metaspace split).
    private func appendWords(_ scalars: [Unicode.Scalar], _ range: Range<Int>, origins: [Int]?, spacesOnly: Bool = false,
                             to out: inout Pieces) throws {
        var start = range.lowerBound
        for i in range where spacesOnly ? scalars[i] == " " : scalars[i].properties.isWhitespace && !removedWhiteSpace.contains(scalars[i]) {
            if start < i { try append(scalars, start..<i, origins: origins, to: &out) }
            start = i + 1
        }
        if start < range.upperBound { try append(scalars, start..<range.upperBound, origins: origins, to: &out) }
    }

    private static func catching(_ body: () throws -> Void) -> Error? {
        do { try body(); return nil } catch { return error }
    }

    /// Encodes scalars[range] and appends its pieces with offsets into the whole text (through
    /// `origins`, when `scalars` is a normalized copy of it).
    private func append(_ scalars: [Unicode.Scalar], _ range: Range<Int>, origins: [Int]?, to out: inout Pieces) throws {
        var bytes: [UInt8] = []
        // byteToScalar[b]: the scalar index (in the whole text) that starts at byte b of the slice.
        var byteToScalar: [Int] = []
        bytes.reserveCapacity(range.count)
        byteToScalar.reserveCapacity(range.count + 1)
        for i in range {
            let before = bytes.count
            UTF8.encode(scalars[i]) { bytes.append($0) }
            for _ in before..<bytes.count { byteToScalar.append(i) }
        }
        byteToScalar.append(range.upperBound)
        let encoded = try encodeBytes(bytes)
        for k in 0..<encoded.ids.count {
            let id = encoded.ids[k]
            let begin = byteToScalar[min(encoded.begins[k], bytes.count)]
            let end = byteToScalar[min(encoded.ends[k], bytes.count)]
            switch convention {
            case .plain:
                out.append(id, begin..<end)
            case .xlmRoberta:
                out.append(id == 0 ? 3 : id + 1, transformersOffsets(begin, end, piece: id, index: k, word: range))
            case .albert, .deberta:
                let offsets = transformersOffsets(begin, end, piece: id, index: k, word: range)
                out.append(id, origins.map { Self.original(offsets, origins: $0) } ?? offsets)
            }
        }
    }

    /// transformers' offsets for the `k`th piece of `word`, which libsentencepiece places at
    /// [begin, end). transformers drops whitespace, prepends "▁" to each word aligned with its
    /// first character, aligns every character a normalization produces with the first of the
    /// characters it came from, and aligns nothing with a removed character; libsentencepiece
    /// spans whole normalization groups, and gives zero width to the pieces before the last
    /// one a character expands into (and to the "▁" it prepends).
    private func transformersOffsets(_ begin: Int, _ end: Int, piece id: Int, index k: Int, word: Range<Int>) -> Range<Int> {
        if begin == end {  // the prepended "▁", or a piece from a character that expands
            return begin..<min(begin + 1, word.upperBound)
        }
        if id == metaspaceId {  // a "▁" from a character that normalizes to a space: the next character
            return min(end, word.upperBound - 1)..<min(end + 1, word.upperBound)
        }
        var (start, characters) = (begin, pieceLength(id))
        if k > 0, characters.metaspace {  // its "▁" came from a character mapped to a space
            start = min(begin + 1, end)
        }
        if id != unknownId, characters.rest < end - start {  // characters composed or removed
            return start..<max(start + characters.rest, start)
        }
        return start..<end
    }

    /// The range of original scalars that the normalized scalars `range` came from.
    private static func original(_ range: Range<Int>, origins: [Int]) -> Range<Int> {
        guard !range.isEmpty else {
            let at = range.lowerBound < origins.count ? origins[range.lowerBound] : (origins.last.map { $0 + 1 } ?? 0)
            return at..<at
        }
        return origins[range.lowerBound]..<(origins[range.upperBound - 1] + 1)
    }

    /// The scalars of a piece: whether it starts with "▁", and how many follow.
    private func pieceLength(_ id: Int) -> (metaspace: Bool, rest: Int) {
        var length = 0
        guard id >= 0 && id < pieceCount, let p = spm_id_to_piece(handle, Int32(id), &length) else { return (false, 0) }
        let bytes = UnsafeRawBufferPointer(start: p, count: length)
        var scalars = 0
        for byte in bytes where byte & 0xC0 != 0x80 { scalars += 1 }
        let metaspace = length >= 3 && bytes[0] == 0xE2 && bytes[1] == 0x96 && bytes[2] == 0x81
        return (metaspace, metaspace ? scalars - 1 : scalars)
    }

    private func encodeBytes(_ bytes: [UInt8]) throws -> (ids: [Int], begins: [Int], ends: [Int]) {
        try Self.encode(bytes, handle: handle, path: path)
    }

    private static func encode(_ bytes: [UInt8], handle: OpaquePointer, path: String) throws -> (ids: [Int], begins: [Int], ends: [Int]) {
        var result = spm_encoding()
        var error: UnsafeMutablePointer<CChar>?
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                spm_encode(handle, chars.baseAddress, chars.count, &result, &error)
            }
        }
        guard status == 0 else {
            throw TokenizerError.encodingFailed(path: path, reason: take(error) ?? "unknown error")
        }
        defer { spm_encoding_free(&result) }
        let n = result.count
        return ((0..<n).map { Int(result.ids[$0]) }, (0..<n).map { Int(result.begins[$0]) },
                (0..<n).map { Int(result.ends[$0]) })
    }

    private func assemble(_ first: Pieces, _ second: Pieces?) -> Encoding {
        var ids: [Int], offsets: [Range<Int>], typeIds: [Int]
        switch convention {
        case .plain:
            ids = first.ids + (second?.ids ?? [])
            offsets = first.offsets + (second?.offsets ?? [])
            typeIds = [Int](repeating: 0, count: first.count) + [Int](repeating: 1, count: second?.count ?? 0)
        case .xlmRoberta:
            ids = [0] + first.ids + [2]
            offsets = [0..<0] + first.offsets + [0..<0]
            if let second {
                ids += [2] + second.ids + [2]
                offsets += [0..<0] + second.offsets + [0..<0]
            }
            typeIds = [Int](repeating: 0, count: ids.count)
        case .albert, .deberta:
            ids = [clsId] + first.ids + [sepId]
            offsets = [0..<0] + first.offsets + [0..<0]
            typeIds = [Int](repeating: 0, count: ids.count)
            if let second {
                ids += second.ids + [sepId]
                offsets += second.offsets + [0..<0]
                typeIds += [Int](repeating: 1, count: second.count + 1)
            }
        }
        return Encoding(ids: ids, tokens: ids.map(token(for:)), typeIds: typeIds,
                        attentionMask: [Int](repeating: 1, count: ids.count), offsets: offsets)
    }

    private static func take(_ message: UnsafeMutablePointer<CChar>?) -> String? {
        guard let message else { return nil }
        defer { spm_string_free(message) }
        return String(cString: message)
    }
}
