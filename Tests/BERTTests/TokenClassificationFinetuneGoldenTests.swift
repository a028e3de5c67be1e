import Foundation
import Testing
import Tokenizers
@testable import BERT

/// What tools/golden/finetune_token_classification.py wrote from transformers.
struct TokenClassificationFinetuneGolden: Decodable {
    struct Row: Decodable { let tokens: [String], tags: [String] }
    let rows: [Row]
    let labels: [String]
    let seed: UInt64
    let batchSize: Int
    let maxLength: Int
    let steps: Int
    let totalSteps: Int
    let learningRate: Double
    let ids: [[Int]]
    let alignedLabels: [[Int]]
    let wordIds: [Int]
    let losses: [Double]
    let clipNormStep1: Double
    let headOnlyLosses: [Double]
}

/// Token classification against transformers' BertForTokenClassification computing its own
/// loss on the same tiny encoder, seeded head, words and order, dropout off: the words'
/// ids and aligned labels exactly, the first 10 losses, every gradient after step 1, the
/// clipped norm and the head after 10 steps within 1e-4 relative, with one worker and two.
@Suite(.serialized) struct TokenClassificationFinetuneGoldenTests {
    let golden: TokenClassificationFinetuneGolden
    let reference: SafetensorsFile
    let directory: ModelDirectory

    init() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        golden = try decoder.decode(TokenClassificationFinetuneGolden.self,
                                    from: Data(contentsOf: Checkout.resources.appendingPathComponent("token_classification_finetune_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("token_classification_finetune_golden.safetensors").path)
        directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))
    }

    func examples() throws -> [WordEncoding] {
        let tokenizer = try #require(try directory.loadTokenizer() as? any TokenDecoding)
        let labels = TokenTagSet.ordered(golden.rows.flatMap(\.tags))
        #expect(labels == golden.labels)
        return try golden.rows.map { row in
            try WordEncoding(words: row.tokens, tags: row.tags.map { labels.firstIndex(of: $0)! }, tokenizer: tokenizer, maxLength: golden.maxLength)
        }
    }

    @Test func wordsAlignAsTransformers() throws {
        let e = try examples()
        #expect(e.map(\.encoding.ids) == golden.ids)
        #expect(e.map(\.labels) == golden.alignedLabels)
    }

    @Test(arguments: [1, 2])
    func fullFineTuningMatchesTransformers(workers: Int) throws {
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let tokenizer = try directory.loadTokenizer()
        let model = try TokenClassifierTraining(config: directory.config, checkpoint: checkpoint, labels: golden.labels, seed: golden.seed,
                                                examples: try examples(), padId: tokenizer.padId, dropout: 0, workers: workers)
        let optimizer = Optimizer(model.parameters, learningRate: golden.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        let batches = stride(from: 0, to: golden.rows.count, by: golden.batchSize).map { Array($0..<$0 + golden.batchSize) }
        var losses: [Double] = []
        var rng: SplitMix64? = nil
        for step in 0..<golden.steps {
            let (loss, _) = model.run(batches[step % batches.count], training: true, rng: &rng)
            losses.append(Double(loss))
            if step == 0 { try checkGradients(model) }
            let clipNorm = optimizer.apply()
            if step == 0 { #expect(abs(clipNorm - golden.clipNormStep1) / golden.clipNormStep1 < 1e-4) }
        }
        for (k, (ours, theirs)) in zip(losses, golden.losses).enumerated() {
            #expect(abs(ours - theirs) / abs(theirs) < 1e-4, "loss \(k + 1): \(ours) vs \(theirs)")
        }
        for p in ["token_classifier.weight", "token_classifier.bias"] {
            let err = relativeError(model.parameters[p]!.value.values, try reference.tensor("after.\(p)").values)
            #expect(err < 1e-4, "\(p) after \(golden.steps) steps: \(err)")
        }
    }

    /// --freeze-encoder: the head on the cached hidden states against transformers with the
    /// encoder's parameters frozen (dropout off): the 10 losses and the head after them.
    @Test func headOnlyMatchesTransformers() throws {
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let tokenizer = try directory.loadTokenizer()
        let examples = try examples()
        let features = try TokenHeadTraining.features(of: examples, encoder: try directory.loadAll().encoder, padId: tokenizer.padId,
                                                      context: ExecutionContext())
        let model = TokenHeadTraining(features: features, examples: examples, labels: golden.labels, config: directory.config,
                                      checkpoint: checkpoint, seed: golden.seed, dropout: 0)
        #expect(model.parameters.all.map(\.name) == ["token_classifier.weight", "token_classifier.bias"])
        let optimizer = Optimizer(model.parameters, learningRate: golden.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        let batches = stride(from: 0, to: golden.rows.count, by: golden.batchSize).map { Array($0..<$0 + golden.batchSize) }
        var rng: SplitMix64? = nil
        for step in 0..<golden.steps {
            let (loss, _) = model.run(batches[step % batches.count], training: true, rng: &rng)
            let theirs = golden.headOnlyLosses[step]
            #expect(abs(Double(loss) - theirs) / theirs < 1e-4, "head-only loss \(step + 1): \(loss) vs \(theirs)")
            optimizer.apply()
        }
        for p in ["token_classifier.weight", "token_classifier.bias"] {
            let err = relativeError(model.parameters[p]!.value.values, try reference.tensor("head_only.after.\(p)").values)
            #expect(err < 1e-4, "\(p) after \(golden.steps) head-only steps: \(err)")
        }
    }

    func checkGradients(_ model: TokenClassifierTraining) throws {
        var compared = 0
        for p in model.parameters.all {
            var grad = p.grad.values
            var key = "grad.\(p.name)"
            if p.name == "embeddings.word_embeddings.weight" {
                let C = p.shape[1]
                grad = golden.wordIds.flatMap { id in grad[id * C..<(id + 1) * C] }
                key += "[ids]"
            }
            let theirs = try reference.tensor(key).values
            if p.name.hasSuffix("attention.self.key.bias") {  // zero in exact arithmetic: rounding noise on both sides
                #expect(norm(grad) < 1e-6 && norm(theirs) < 1e-6, "\(key)")
            } else {
                let err = relativeError(grad, theirs)
                #expect(err < 1e-4, "\(key): relative error \(err)")
            }
            compared += 1
        }
        #expect(compared == reference.names.filter { $0.hasPrefix("grad.") }.count, "every parameter compared")
        #expect(compared == 39)
    }
}
