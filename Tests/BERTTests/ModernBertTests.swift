import Foundation
import Testing
@testable import BERT

/// ModernBERT's config rules: a converted directory whose ModernBERT fields are inconsistent
/// is refused at load with one typed line naming config.json and the field, never a trap
/// (layer_types indexes the layers; the head size must split in rotary pairs).
@Suite struct ModernBertConfigTests {
    static let source = Checkout.resources.appendingPathComponent("arch/modernbert-classifier")

    @Test(arguments: [
        ("layer_types", "[\"full_attention\"]", "layer_types lists 1 layers"),
        ("layer_types", "[\"full_attention\", \"global\", \"full_attention\"]", "layer_types entry 'global'"),
        ("classifier_pooling", "\"max\"", "classifier_pooling 'max'"),
        ("classifier_activation", "\"tanh\"", "classifier_activation 'tanh'"),
        ("local_rope_theta", "0.5", "local_rope_theta 0.5"),
        ("local_attention", "-2", "local_attention -2"),
        ("type_vocab_size", "2", "type_vocab_size must be 0 for modernbert"),
        ("num_attention_heads", "32", "must be even for rotary positions"),
    ])
    func inconsistentFieldIsRefused(key: String, json: String, says: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("modernbert-config-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.source, to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config[key] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        do {
            _ = try TextClassifier(directory: ModelDirectory(url: dir))
            Issue.record("\(key) \(json) was accepted")
        } catch let error as ModelError {
            guard case .invalidConfig = error else { Issue.record("expected invalidConfig, got \(error)"); return }
            let text = "\(error)"
            #expect(text.contains(says), "\(text)")
            #expect(text.contains(url.path) && !text.contains("\n"), "\(text)")
        }
    }
}

/// Fine-tuning the tiny ModernBERT (no biases, cls pooling) in full and head-only: a new
/// ModernBertPredictionHead without a dense bias (classifier_bias false) and with its LayerNorm,
/// or a linear head on the mean-pooled embedding; each output loads and classifies.
@Suite struct ModernBertFinetuneTests {
    @Test(arguments: [false, true])
    func fineTunesAndClassifies(freeze: Bool) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("modernbert-ft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let rows = (0..<24).map { k in k % 2 == 0 ? "the cat sat on the mat by the old tree,cat" : "a dog ran to the river and the bird sang,dog" }
        let train = root.appendingPathComponent("train.csv")
        try (["text,label"] + rows).joined(separator: "\n").write(to: train, atomically: true, encoding: .utf8)
        var options = FinetuneOptions()
        options.epochs = 2
        options.batchSize = 4
        options.freezeEncoder = freeze
        let output = root.appendingPathComponent("out")
        _ = try FineTuner(source: ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/modernbert")), options: options)
            .run(train: train, output: output)
        let tuned = try ModelDirectory(url: output)
        #expect(tuned.config.runtime.classifier?.features == (freeze ? .embedding : .modernbert))
        let names = try SafetensorsFile(path: output.appendingPathComponent("model.safetensors").path).names
        if !freeze {
            #expect(names.contains("classifier.LayerNorm.weight") && names.contains("classifier.dense.weight"))
            #expect(!names.contains("classifier.dense.bias") && !names.contains("classifier.LayerNorm.bias"))
        }
        let results = try TextClassifier(directory: tuned).classify(["the cat sat on the mat", "a dog ran to the river"])
        #expect(results.count == 2 && results.allSatisfy { $0.scores.count == 2 })
    }
}

/// The banded blocks of a sliding-window layer: every query row in exactly one block, each block's
/// keys covering its rows' windows and nothing beyond them, one full block when the window covers
/// the sequence; at ModernBERT-base's 8,192 tokens and radius 64, a head's scores take 2.3% of L².
@Suite struct ScoreBlocksTests {
    @Test(arguments: [(47, 4), (40, 3), (24, 4), (25, 4), (300, 64), (1, 0), (100, 0)])
    func blocksCoverEveryWindow(length L: Int, radius r: Int) {
        let blocks = ScoreBlocks(length: L, radius: r)
        #expect(blocks.blocks.flatMap { Array($0.queries) } == Array(0..<L))
        for (queries, keys) in blocks.blocks {
            for i in queries { #expect(keys.contains(max(i - r, 0)) && keys.contains(min(i + r, L - 1))) }
            if blocks.blocks.count > 1 {
                #expect(keys == max(queries.lowerBound - r, 0)..<min(queries.upperBound + r, L))
            }
        }
        #expect(blocks.size == blocks.blocks.reduce(0) { $0 + $1.queries.count * $1.keys.count })
        #expect(ScoreBlocks(length: L, radius: nil).size == L * L)
    }

    @Test func longInputsStayBanded() {
        let (L, r) = (8192, 64)
        let size = ScoreBlocks(length: L, radius: r).size
        #expect(size <= L * (max(r, 16) + 2 * r))
        #expect(Double(size) / Double(L * L) < 0.024)
    }
}
