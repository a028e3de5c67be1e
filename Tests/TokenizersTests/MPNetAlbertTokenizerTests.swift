import Foundation
import Testing
@testable import Tokenizers

/// A record of tools/golden/tokenizers_mpnet_albert.py: one encoding by transformers.
struct ConventionRecord: Decodable {
    let text: String
    let pair: String?
    let maxLength: Int?
    let strategy: String
    let ids: [Int]?
    let tokens: [String]?
    let typeIds: [Int]?
    let offsets: [[Int]]?
    let error: String?
    /// ALBERT: the sentencepiece package's segmentation of the same words, where it differs.
    let sentencepieceIds: [Int]?
    /// ALBERT: sentencepiece 0.1.99's, where it differs from 0.2.3 by an exact tie.
    let sentencepiece01Ids: [Int]?

    var what: String {
        debug(text) + (pair.map { " + \(debug($0))" } ?? "") + (maxLength.map { " max \($0) \(strategy)" } ?? "")
    }

    /// Counts the <unk> pieces whose offsets end after combining marks that transformers' end before.
    final class UnknownTails {
        let id: Int
        var tails = 0
        init(id: Int) { self.id = id }
    }

    /// Compares `tokenizer`'s encoding with the record; returns a failure message, or nil.
    func check(_ tokenizer: any Tokenizer, unknown: UnknownTails? = nil) throws -> String? {
        let strategy = try #require(TruncationStrategy(rawValue: strategy))
        let result = Result { try tokenizer.encode(text, pair: pair, maxLength: maxLength, truncation: strategy) }
        if let error {
            if case .failure(let e as TokenizerError) = result, e.goldenName == error { return nil }
            return "\(what): expected error \(error), got \(result)"
        }
        guard case .success(let e) = result else { return "\(what): unexpected \(result)" }
        guard e.attentionMask.allSatisfy({ $0 == 1 }) && e.attentionMask.count == e.count else {
            return "\(what): attention mask \(e.attentionMask)"
        }
        if sentencepieceIds != nil || sentencepiece01Ids != nil {
            // transformers' Unigram and libsentencepiece segment this text differently (see the
            // golden script): ids from either, and the type ids, must hold.
            let accepted = [ids, sentencepieceIds, sentencepiece01Ids].compactMap { $0 }
            if !accepted.contains(e.ids) { return "\(what): expected one of \(accepted), got \(e.ids)" }
            return e.typeIds.allSatisfy { $0 == 0 } ? nil : "\(what): type ids \(e.typeIds) of a single text"
        }
        let expected = Row(ids: ids ?? [], tokens: tokens ?? [], typeIds: typeIds ?? [],
                           offsets: (offsets ?? []).map { $0[0]..<$0[1] })
        var offsets = e.offsets
        if let unknown, e.ids == expected.ids {
            // transformers' Precompiled normalizer aligns a character that it composes (e + U+0301
            // → é, in graphemes under 6 UTF-8 bytes) with the first of its sources; a piece gives
            // no such hint when it is <unk>, so ours ends after the marks (see SentencePieceTokenizer).
            let scalars = Array(text.unicodeScalars) + (pair.map { Array($0.unicodeScalars) } ?? [])
            let secondStart = (e.typeIds.firstIndex(of: 1) ?? e.count)
            for k in offsets.indices where e.ids[k] == unknown.id && k < expected.offsets.count {
                let (ours, theirs) = (offsets[k], expected.offsets[k])
                let base = k >= secondStart ? text.unicodeScalars.count : 0
                guard ours.lowerBound == theirs.lowerBound, ours.upperBound > theirs.upperBound,
                      (theirs.upperBound..<ours.upperBound).allSatisfy({ scalars[base + $0].properties.canonicalCombiningClass.rawValue != 0 })
                else { continue }
                offsets[k] = theirs
                unknown.tails += 1
            }
        }
        let actual = Row(ids: e.ids, tokens: e.tokens, typeIds: e.typeIds, offsets: offsets)
        if let position = actual.firstDifference(from: expected) {
            return "\(what): first difference at token \(position): expected \(expected.describe(position)), got \(actual.describe(position))"
        }
        return nil
    }
}

struct MPNetTokenizerGolden: Decodable {
    struct Settings: Decodable {
        struct Specials: Decodable { let cls, sep, pad, unk, mask: String }
        let doLowerCase: Bool
        let stripAccents: Bool?
        let tokenizeChineseChars: Bool
        let specials: Specials
        let template: String
        let normalizedSpecials: [String]
    }

    let vocabulary: String
    let vocabularyFallback: String
    let vocabularySize: Int
    let settings: Settings
    let records: [ConventionRecord]
}

/// all-mpnet-base-v2's tokenizer (WordPiece, MPNet's specials, RoBERTa's template, `<unk>`
/// matched after normalization) against transformers' MPNetTokenizer on its own tokenizer.json:
/// every id, token, type id and offset of the WordPiece corpus, pairs and truncation included.
struct MPNetTokenizerGoldenTests {
    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let url = SentencePieceGolden.root.appending(path: "Tests/TokenizersTests/Resources/\(name)")
        return try decoder.decode(T.self, from: Data(contentsOf: url))
    }

    @Test func matchesTransformersOnEveryRecord() throws {
        let golden = try Self.load("mpnet_tokenizer_golden.json", as: MPNetTokenizerGolden.self)
        // The converted model's copy when there is one, else the file tools/setup unzips.
        let url = [golden.vocabulary, golden.vocabularyFallback].map { SentencePieceGolden.root.appending(path: $0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
        let vocabulary = try #require(url, "\(golden.vocabularyFallback) is missing: run tools/setup")
        let s = golden.settings
        let tokenizer = try WordPieceTokenizer(
            vocabulary: vocabulary, lowercase: s.doLowerCase, stripAccents: s.stripAccents,
            tokenizeChineseChars: s.tokenizeChineseChars,
            specials: WordPieceSpecials(cls: s.specials.cls, sep: s.specials.sep, pad: s.specials.pad,
                                        unk: s.specials.unk, mask: s.specials.mask),
            template: try #require(WordPieceTemplate(rawValue: s.template)), normalizedSpecials: s.normalizedSpecials)
        try #require(tokenizer.vocabularySize == golden.vocabularySize, "\(vocabulary.path) is not all-mpnet-base-v2's vocabulary")
        #expect(golden.records.count > 1000)
        #expect(tokenizer.padId == 1)
        var failures = 0
        for r in golden.records where failures < 20 {
            if let message = try r.check(tokenizer) {
                Issue.record(Comment(rawValue: message))
                failures += 1
            }
        }
    }
}

struct AlbertGolden: Decodable {
    struct Config: Decodable {
        struct Settings: Decodable {
            let doLowerCase: Bool
            let keepAccents: Bool
        }
        let settings: Settings
        let records: [ConventionRecord]
        let sentencepieceDisagreements: [String]
    }

    struct Model: Decodable {
        let model: String
        let pieceCount: Int
        let configs: [String: Config]
    }

    let models: [String: Model]
}

/// The ALBERT convention against transformers' AlbertTokenizer on ALBERT-shaped copies of two
/// real unigram models: ids, tokens, type ids and offsets, lowercased without accents and cased
/// with them, pairs and truncation included. Where transformers' Unigram and libsentencepiece
/// segment a text differently (ties, the ▁ typed in the text, `<unk>` spelled inside a word),
/// the ids of libsentencepiece's segmentation are accepted instead.
struct AlbertTokenizerGoldenTests {
    @Test(arguments: ["botchan_en_unigram_1000", "kyoto_ja_unigram_8000"])
    func matchesTransformersOnEveryRecord(model name: String) throws {
        let golden = try MPNetTokenizerGoldenTests.load("albert_golden.json", as: AlbertGolden.self)
        let model = try #require(golden.models[name])
        let url = SentencePieceGolden.root.appending(path: model.model)
        #expect(model.configs.count == 2)
        for (configName, config) in model.configs {
            let tokenizer = try SentencePieceTokenizer(model: url, convention: .albert, lowercase: config.settings.doLowerCase,
                                                       keepAccents: config.settings.keepAccents)
            #expect(tokenizer.vocabularySize == model.pieceCount)
            #expect(tokenizer.padId == 0)
            #expect(config.records.count > 400)
            // Segmentation differences are few and named by the golden file.
            let different = config.records.filter { $0.sentencepieceIds != nil }.count
            #expect(different == config.sentencepieceDisagreements.count && different <= 12, "\(configName): \(different)")
            var failures = 0
            let unknown = ConventionRecord.UnknownTails(id: 1)
            for r in config.records where failures < 20 {
                if let message = try r.check(tokenizer, unknown: unknown) {
                    Issue.record(Comment(rawValue: "\(name) \(configName) \(message)"))
                    failures += 1
                }
            }
            // Only where accents are kept do marks reach the model's normalization to be composed.
            #expect(config.settings.keepAccents ? unknown.tails <= 12 : unknown.tails == 0, "\(configName): \(unknown.tails) <unk> offsets end after marks")
        }
    }

    @Test func aModelWithoutClsIsRefused() throws {
        let url = SentencePieceUnitTests.unigram
        #expect(throws: TokenizerError.missingSpecialToken(token: "[CLS]", path: url.path)) {
            try SentencePieceTokenizer(model: url, convention: .albert)
        }
    }
}

/// The roberta template and configurable specials on a small vocabulary written for the test.
struct WordPieceTemplateTests {
    static let tokens = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>", "hello", "world", "<unk>"]

    static func tokenizer(_ tokens: [String] = tokens, normalizedSpecials: [String] = []) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: WordPieceUnitTests.vocabulary(tokens, file: "roberta\(tokens.count)"),
                               specials: .mpnet, template: .roberta, normalizedSpecials: normalizedSpecials)
    }

    @Test func pairsGetTwoSeparatorsAndTypeZero() throws {
        let e = try Self.tokenizer().encode("Hello", pair: "world")
        #expect(e.tokens == ["<s>", "hello", "</s>", "</s>", "world", "</s>"])
        #expect(e.ids == [0, 5, 2, 2, 6, 2])
        #expect(e.typeIds == [0, 0, 0, 0, 0, 0])
        #expect(e.offsets == [0..<0, 0..<5, 0..<0, 0..<0, 0..<5, 0..<0])
        #expect(try Self.tokenizer().padId == 1)
    }

    @Test func truncationCountsFourSpecialsForAPair() throws {
        let tokenizer = try Self.tokenizer()
        #expect(throws: TokenizerError.sequenceTooShortForSpecials(maxLength: 3)) {
            try tokenizer.encode("hello", pair: "world", maxLength: 3)
        }
        #expect(try tokenizer.encode("hello hello", pair: "world world", maxLength: 6).tokens
                == ["<s>", "hello", "</s>", "</s>", "world", "</s>"])
    }

    @Test func specialsAreTheConfiguredOnes() throws {
        // BERT's [CLS] is plain text here; <mask> typed in the text is the mask token.
        let e = try Self.tokenizer().encode("[CLS] <mask>hello")
        #expect(e.tokens == ["<s>", "[UNK]", "[UNK]", "[UNK]", "<mask>", "hello", "</s>"])
        #expect(e.offsets[4] == 6..<12)
    }

    @Test func normalizedSpecialsMatchAfterLowercasing() throws {
        let plain = try Self.tokenizer().encode("<UNK>")
        #expect(plain.tokens == ["<s>", "[UNK]", "[UNK]", "[UNK]", "</s>"])
        let e = try Self.tokenizer(normalizedSpecials: ["<unk>", "<absent>"]).encode("a<UNK>b")
        #expect(e.tokens == ["<s>", "[UNK]", "<unk>", "[UNK]", "</s>"])
        #expect(e.offsets == [0..<0, 0..<1, 1..<6, 6..<7, 0..<0])
    }

    @Test func aMissingRoleTokenIsAnError() throws {
        let url = try WordPieceUnitTests.vocabulary(Self.tokens.filter { $0 != "</s>" }, file: "nosep")
        #expect(throws: TokenizerError.missingSpecialToken(token: "</s>", path: url.path)) {
            try WordPieceTokenizer(vocabulary: url, specials: .mpnet, template: .roberta)
        }
    }
}
