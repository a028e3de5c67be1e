import Foundation
import Testing
@testable import BERT
import Tokenizers

/// The token ids tools/golden/mpnet.py wrote from sentence-transformers' all-mpnet-base-v2.
struct MPNetGolden: Decodable {
    let sentences: [String]
    let ids: [[Int]]
    let maxLength: Int

    static func load() throws -> MPNetGolden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Self.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("mpnet_golden.json")))
    }

    static let converted = Checkout.root.appendingPathComponent("models/all-mpnet-base-v2/config.json")
}

/// The tokenizer of the converted all-mpnet-base-v2, as `ModelDirectory.loadTokenizer` builds
/// it from config.json's runtime.tokenizer, against sentence-transformers' token ids: every
/// id of every golden sentence, at the model's max_length.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: MPNetGolden.converted.path),
                "models/all-mpnet-base-v2 is absent: tools/setup makes it once tools/convert knows MPNet"))
struct MPNetTokenizerParityTests {
    @Test func idsEqualSentenceTransformers() throws {
        let golden = try MPNetGolden.load()
        let directory = try Checkout.model("all-mpnet-base-v2")
        #expect(directory.config.maxLength == golden.maxLength)
        let tokenizer = try directory.loadTokenizer()
        #expect(tokenizer.padId == 1)
        #expect(golden.sentences.count == golden.ids.count && golden.ids.count > 20)
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            #expect(try tokenizer.encode(sentence, maxLength: directory.config.maxLength).ids == ids, "\(sentence)")
        }
    }
}

/// runtime.tokenizer's MPNet fields reach the tokenizer: a directory whose config.json carries
/// the block the golden script derived from all-mpnet-base-v2's tokenizer.json (specials,
/// template, normalized specials) tokenizes as sentence-transformers does. It runs before
/// tools/convert knows MPNet: the vocabulary is the one tools/setup unzips.
struct MPNetTokenizerSettingsTests {
    @Test func loadTokenizerFollowsTheSettings() throws {
        let vocabulary = Checkout.root.appendingPathComponent("data/download/all-mpnet-base-v2/vocab.txt")
        try #require(FileManager.default.fileExists(atPath: vocabulary.path), "\(vocabulary.path) is missing: run tools/setup")
        let goldenURL = Checkout.root.appendingPathComponent("Tests/TokenizersTests/Resources/mpnet_tokenizer_golden.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: goldenURL)) as? [String: Any])
        let settings = try #require(object["settings"] as? [String: Any])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mpnet-settings-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("vocab.txt"), withDestinationURL: vocabulary)
        // model_type bert: only the tokenizer is under test here, and its block is the same.
        let config: [String: Any] = ["model_type": "bert", "vocab_size": 30527, "max_position_embeddings": 514,
                                     "runtime": ["format_version": 1, "tokenizer": settings]]
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let directory = try ModelDirectory(url: dir)
        #expect(directory.config.runtime.tokenizer.template == "roberta")
        #expect(directory.config.runtime.tokenizer.specials?.cls == "<s>")
        #expect(directory.config.runtime.tokenizer.normalizedSpecials == ["<unk>"])
        let tokenizer = try directory.loadTokenizer()
        let golden = try MPNetGolden.load()
        for (sentence, ids) in zip(golden.sentences, golden.ids) {
            #expect(try tokenizer.encode(sentence, maxLength: golden.maxLength).ids == ids, "\(sentence)")
        }
        let pair = try tokenizer.encode("a <UNK> b", pair: "c")
        #expect(pair.tokens == ["<s>", "a", "<unk>", "b", "</s>", "</s>", "c", "</s>"])
        #expect(pair.typeIds == [Int](repeating: 0, count: 8))
    }

    @Test func anUnknownTemplateIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("template-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\n".utf8).write(to: dir.appendingPathComponent("vocab.txt"))
        let config: [String: Any] = ["model_type": "bert", "vocab_size": 4,
                                     "runtime": ["format_version": 1, "tokenizer": ["kind": "wordpiece", "template": "t5"]]]
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let error = #expect(throws: ModelError.self) { try ModelDirectory(url: dir).loadTokenizer() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("template 't5' is not supported (bert, roberta)"))
    }
}
