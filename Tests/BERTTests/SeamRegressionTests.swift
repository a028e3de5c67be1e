import Foundation
import Testing
@testable import BERT
import Tokenizers

/// Defects of the two layer stacks that the single one fixes, each shown on a case that
/// failed before: training and inference disagreeing on XLM-R's positions, fine-tuning
/// past the usable positions, type ids beyond the table, fine-tuned output labelled BERT
/// whatever the source, and concurrent calls changing each other's arithmetic.
@Suite struct SeamRegressionTests {
    static let sentences = ["the cat sat on the mat .", "a dog ran by the river", "the quick brown fox", "birds sang in the old tree"]

    /// The training forward (dropout off) gives inference's logits: same layers, same positions.
    @Test(arguments: ["heads/xlmr", "arch/mpnet-classifier", "arch/electra-classifier", "arch/distilbert-classifier", "arch/albert-classifier",
                      "arch/deberta-v3-classifier", "arch/deberta-v2-classifier", "arch/modernbert-classifier",
                      "arch/modernbert-biased-classifier"])
    func trainingForwardEqualsInference(path: String) throws {
        let directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent(path))
        let classifier = try TextClassifier(directory: directory)
        let encodings = try Self.sentences.map { try classifier.tokenizer.encode($0, maxLength: directory.config.maxLength) }
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let training = try SequenceClassifierTraining(config: directory.config, checkpoint: checkpoint, head: .checkpoint,
                                                      encodings: encodings, padId: classifier.tokenizer.padId, dropout: 0)
        var none: SplitMix64? = nil
        let ours = training.run(Array(encodings.indices), labels: encodings.map { _ in 0 }, training: false, rng: &none).logits
        let inference = try classifier.logits(encodings: encodings, batchSize: 4).flatMap { $0 }
        #expect(maxAbsDifference(ours, inference) < 1e-5, "\(path)")
    }

    /// tiny-xlmr has 40 position rows from row 2: at most 38 tokens. Fine-tuning with
    /// --max-length 64 on long rows must cut them at 38, not at 40 (rows 40 and 41 do not exist).
    @Test func fineTuningCapsLengthAtTheUsablePositions() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("positions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let long = String(repeating: "the old tree by the river sang a song of birds and foxes ", count: 6)
        let rows = (0..<12).map { "\(long) \($0),\($0 % 2 == 0 ? "a" : "b")" }
        let train = root.appendingPathComponent("train.csv")
        try (["text,label"] + rows).joined(separator: "\n").write(to: train, atomically: true, encoding: .utf8)
        var options = FinetuneOptions()
        options.epochs = 1
        options.batchSize = 4
        options.maxLength = 64
        let source = try ModelDirectory(url: Checkout.resources.appendingPathComponent("tiny-xlmr"))
        #expect(source.config.maxPositions == 38 && source.config.maxPositionEmbeddings == 40)
        let output = root.appendingPathComponent("out")
        let summary = try FineTuner(source: source, options: options).run(train: train, output: output)
        #expect(summary.epochs.count == 1)
        let tuned = try ModelDirectory(url: output)
        #expect((tuned.config.runtime.classifier?.features) == .roberta)
        #expect(try TextClassifier(directory: tuned).classify([long])[0].scores.count == 2)
    }

    /// A model with one token type given a pair (type ids 1): an error, at inference and in training.
    @Test func typeIdsBeyondTheTableAreRefused() throws {
        var tiny = try TinyModel()
        defer { tiny.remove() }
        tiny.config["type_vocab_size"] = 1
        tiny.tensors["embeddings.token_type_embeddings.weight"] = Tensor(zeros: [1, 8])
        try tiny.write()
        let embedder = try SentenceEmbedder(directory: ModelDirectory(url: tiny.url))
        let pair = try embedder.tokenizer.encode("the cat", pair: "the dog", maxLength: 12, truncation: .longestFirst)
        #expect(pair.typeIds.contains(1))
        #expect(throws: ModelError.self) {
            try embedder.encoder.run([pair], batchSize: 1, padId: 0, context: embedder.context) { _, _, _ in }
        }
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        try "text,text_pair,label\nthe cat,the dog,a\nthe mat,the cat,b\nthe dog,the mat,a\nthe cat,the mat,b\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        var options = FinetuneOptions()
        options.epochs = 1
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("pairs-out-\(UUID().uuidString)")
        #expect(throws: ModelError.self) {
            _ = try FineTuner(source: ModelDirectory(url: tiny.url), options: options).run(train: csv, output: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    /// The output of fine-tuning ELECTRA, DistilBERT, DeBERTa-v3 or ModernBERT is a classifier of that architecture.
    @Test(arguments: [("arch/electra", "ElectraForSequenceClassification", "electra"),
                      ("arch/distilbert", "DistilBertForSequenceClassification", "distilbert"),
                      ("arch/deberta-v3", "DebertaV2ForSequenceClassification", "deberta"),
                      ("arch/modernbert-biased", "ModernBertForSequenceClassification", "modernbert")])
    func fineTunedOutputKeepsTheSourceArchitecture(path: String, architecture: String, features: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("arch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let rows = (0..<16).map { k in k % 2 == 0 ? "the cat sat on the mat,cat" : "a dog ran by the river,dog" }
        let train = root.appendingPathComponent("train.csv")
        try (["text,label"] + rows).joined(separator: "\n").write(to: train, atomically: true, encoding: .utf8)
        var options = FinetuneOptions()
        options.epochs = 1
        options.batchSize = 4
        let output = root.appendingPathComponent("out")
        _ = try FineTuner(source: ModelDirectory(url: Checkout.resources.appendingPathComponent(path)), options: options)
            .run(train: train, output: output)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("config.json"))) as! [String: Any]
        #expect(json["architectures"] as? [String] == [architecture])
        let tuned = try ModelDirectory(url: output)
        #expect(tuned.config.runtime.classifier?.features.rawValue == features)
        #expect(try TextClassifier(directory: tuned).classify(["the cat sat"])[0].scores.count == 2)
    }

    /// Eight tasks at once on one embedder (and one classifier) get, bit for bit, what each
    /// call gets alone: lone sentences and a call of several batches.
    @Test func concurrentCallsAreBitIdenticalToCallsAlone() async throws {
        let embedder = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"))
        let classifier = try TextClassifier(directory: Checkout.model("clinc-intent"))
        let (golden, _) = try MiniLMGolden.load()
        let calls: [[String]] = golden.sentences.prefix(7).map { [$0] } + [Array(golden.sentences.prefix(12))]
        let alone = try calls.map { try embedder.embed($0, batchSize: 4) }
        let aloneScores = try calls.map { try classifier.classify($0, batchSize: 4).map { $0.scores.map(\.score) } }
        for _ in 0..<2 {
            try await withThrowingTaskGroup(of: (Int, [[Float]], [[Float]]).self) { group in
                for (k, texts) in calls.enumerated() {
                    group.addTask {
                        (k, try embedder.embed(texts, batchSize: 4), try classifier.classify(texts, batchSize: 4).map { $0.scores.map(\.score) })
                    }
                }
                for try await (k, vectors, scores) in group {
                    #expect(vectors == alone[k], "embed call \(k)")
                    #expect(scores == aloneScores[k], "classify call \(k)")
                }
            }
        }
    }
}
