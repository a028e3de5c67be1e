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
