import Foundation
@testable import BERT

/// A tiny random BERT written to a temporary directory, for shapes and failure cases.
/// Real numbers are checked on the real model in GoldenParityTests.
struct TinyModel {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", ".", "##s", "dog"]
    let url: URL
    var config: [String: Any]
    var tensors: [String: Tensor]

    init(hidden: Int = 8, heads: Int = 2, layers: Int = 2, intermediate: Int = 12, positions: Int = 16, seed: UInt64 = 1) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        config = [
            "model_type": "bert", "vocab_size": Self.vocabulary.count, "hidden_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "max_position_embeddings": positions,
            "type_vocab_size": 2, "pad_token_id": 0,
            "runtime": ["format_version": 1, "pooling": "mean", "normalize": true,
                        "tokenizer": ["kind": "wordpiece", "file": "vocab.txt", "do_lower_case": true]],
        ]
        var rng = SeededRandom(seed: seed)
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in rng.nextFloat() - 0.5 })
        }
        let (C, I) = (hidden, intermediate)
        tensors = [
            "embeddings.word_embeddings.weight": random([Self.vocabulary.count, C]),
            "embeddings.position_embeddings.weight": random([positions, C]),
            "embeddings.token_type_embeddings.weight": random([2, C]),
            "embeddings.LayerNorm.weight": random([C]), "embeddings.LayerNorm.bias": random([C]),
            "pooler.dense.weight": random([C, C]), "pooler.dense.bias": random([C]),
        ]
        for l in 0..<layers {
            let p = "encoder.layer.\(l)"
            for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                tensors["\(p).\(name).weight"] = random([C, C])
                tensors["\(p).\(name).bias"] = random([C])
            }
            for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
                tensors["\(p).\(name).weight"] = random([C])
                tensors["\(p).\(name).bias"] = random([C])
            }
            tensors["\(p).intermediate.dense.weight"] = random([I, C])
            tensors["\(p).intermediate.dense.bias"] = random([I])
            tensors["\(p).output.dense.weight"] = random([C, I])
            tensors["\(p).output.dense.bias"] = random([C])
        }
        try write()
    }

    var checkpointURL: URL { url.appendingPathComponent("model.safetensors") }
    var configURL: URL { url.appendingPathComponent("config.json") }
    var vocabularyURL: URL { url.appendingPathComponent("vocab.txt") }

    func write() throws {
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: configURL)
        try (Self.vocabulary.joined(separator: "\n") + "\n").write(to: vocabularyURL, atomically: true, encoding: .utf8)
        try SafetensorsWriter.write(tensors, to: checkpointURL)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }
}
