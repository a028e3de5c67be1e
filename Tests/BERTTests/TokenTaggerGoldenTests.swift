import Foundation
import Testing
@testable import BERT

/// One entity of transformers' token-classification pipeline.
struct PipelineEntity: Decodable {
    let entity: String?
    let entityGroup: String?
    let score: Double
    let index: Int?
    let word: String
    let start: Int
    let end: Int
}

/// What tools/golden/token_classification.py wrote for one tiny random *ForTokenClassification.
struct TokenClassificationGolden: Decodable {
    struct Head: Decodable { let rows: Int; let labels: [Int]; let loss: Double }
    let model: String
    let texts: [String]
    let pipeline: [String: [[PipelineEntity]]]
    let head: Head

    static func load() throws -> [String: TokenClassificationGolden] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([String: Self].self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("ner/token_classification_golden.json")))
    }
}

@Suite struct TokenTaggerGoldenTests {
    static let types = ["bert", "distilbert", "albert", "electra", "mpnet"]

    /// Every aggregation strategy against the pipeline: scores within 1e-5; labels, words,
    /// indices, offsets and order exact.
    @Test(arguments: types) func pipelineParity(_ type: String) throws {
        let golden = try #require(try TokenClassificationGolden.load()[type])
        let tagger = try TokenTagger(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        for strategy in TokenTagger.Aggregation.allCases {
            let expected = try #require(golden.pipeline[strategy.rawValue])
            let ours = try tagger.tag(golden.texts, aggregation: strategy)
            for (k, (o, g)) in zip(ours, expected).enumerated() {
                let label = "\(type) \(strategy) text \(k)"
                #expect(o.map(\.label) == g.map { $0.entity ?? $0.entityGroup ?? "" }, "\(label)")
                #expect(o.map(\.word) == g.map(\.word), "\(label)")
                #expect(o.map(\.start) == g.map(\.start) && o.map(\.end) == g.map(\.end), "\(label)")
                #expect(o.map(\.index) == g.map(\.index), "\(label)")
                if o.count == g.count {
                    for (a, b) in zip(o, g) { #expect(abs(Double(a.score) - b.score) < 1e-5, "\(label): \(a.score) vs \(b.score)") }
                }
            }
        }
    }

    /// The head's forward and backward against PyTorch (dropout off): logits 1e-5, gradients 1e-4 relative.
    @Test(arguments: types) func headGradients(_ type: String) throws {
        let golden = try #require(try TokenClassificationGolden.load()[type])
        let dir = try ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model))
        let reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("ner/\(type)_head.safetensors").path)
        let weights = Weights(try SafetensorsFile(path: dir.url.appendingPathComponent("model.safetensors").path), parameters: ParameterSet(.training))
        let head = try TokenClassifierHead(weights.scope(""), config: dir.config)
        let (N, L, C) = (golden.head.rows, head.labels.count, dir.config.hiddenSize)
        var logits = [Float](repeating: 0, count: N * L)
        var rng: SplitMix64? = nil
        let saved = head.forward(try reference.tensor("input").pointer, rows: N, rng: &rng, into: &logits)
        #expect(maxAbsDifference(logits, try reference.tensor("logits").values) < 1e-5)
        var dLogits = logits
        for r in 0..<N {
            let p = TokenTagger.softmax(Array(logits[r * L..<(r + 1) * L]))
            for l in 0..<L { dLogits[r * L + l] = Float((p[l] - (l == golden.head.labels[r] ? 1 : 0)) / Double(N)) }
        }
        var dx = [Float](repeating: 0, count: N * C)
        head.backward(dLogits, saved: saved, rows: N, into: &dx)
        func relative(_ a: [Float], _ b: [Float]) -> Double {
            let d = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            return d / max(b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), 1e-30)
        }
        #expect(relative(dx, try reference.tensor("dinput").values) < 1e-4)
        for name in ["token_classifier.weight", "token_classifier.bias"] {
            let p = try #require(weights.parameters[name])
            #expect(relative(p.grad.values, try reference.tensor("grad." + name).values) < 1e-4, "\(type) \(name)")
        }
    }

    @Test func missingHead() throws {
        do {
            _ = try TokenTagger(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("mlm/bert")))
            Issue.record("a masked LM was accepted as a token classifier")
        } catch {
            #expect("\(error)".contains("no token-classification head") && "\(error)".contains("masked-LM head")
                    && "\(error)".contains("BertForTokenClassification"), "\(error)")
        }
        // and the other way round: fill-mask on a token classifier names its head
        do {
            _ = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("ner/bert")))
            Issue.record("a token classifier was accepted for fill-mask")
        } catch {
            #expect("\(error)".contains("token-classification head (9 labels)"), "\(error)")
        }
    }
}
