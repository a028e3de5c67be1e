import Foundation
import Testing
@testable import BERT

/// `bert finetune --task token-classification` end to end on the tiny encoder: the output
/// loads in TokenTagger with the training file's tags as id2label and the trained head;
/// bad rows are errors naming file and line.
@Suite(.serialized) struct TokenClassificationFinetuneTests {
    let directory = try! ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokcls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func rows() throws -> String {
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: Checkout.resources.appendingPathComponent("token_classification_finetune_golden.json"))) as! [String: Any]
        let rows = golden["rows"] as! [[String: Any]]
        return rows.map { String(data: try! JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), encoding: .utf8)! }.joined(separator: "\n") + "\n"
    }

    @Test func outputLoadsInTokenTagger() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = dir.appendingPathComponent("train.jsonl")
        try rows().write(to: train, atomically: true, encoding: .utf8)
        var o = FinetuneOptions()
        o.task = .tokenClassification
        o.epochs = 1
        o.batchSize = 4
        o.maxLength = 16
        o.learningRate = 5e-3
        let tuner = FineTuner(source: directory, options: o)
        let output = dir.appendingPathComponent("tagger")
        let summary = try tuner.run(train: train, output: output)
        #expect(summary.labels == ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"])
        #expect(summary.epochs.count == 1 && summary.epochs[0].figures.map(\.name) == ["entity F1", "precision", "recall", "token accuracy"])
        #expect(summary.epochs.allSatisfy { $0.trainLoss.isFinite && $0.validationLoss.isFinite })
        let tagger = try TokenTagger(directory: ModelDirectory(url: output))
        #expect(tagger.labels == summary.labels)
        let tagged = try tagger.tag(["John lives in Berlin ."])
        #expect(tagged.count == 1 && tagged[0].allSatisfy { summary.labels.contains($0.label) })
        // The saved head is the trained one (one epoch: the best).
        do {
            let saved = try SafetensorsFile(path: output.appendingPathComponent("model.safetensors").path)
            #expect(try saved.tensor("token_classifier.weight").values == tuner.finalParameters!["token_classifier.weight"]!.value.values)
            #expect(!saved.names.contains { $0.hasPrefix("pooler.") || $0.hasPrefix("classifier.") })
        }
        #expect(!FileManager.default.fileExists(atPath: FineTuner.checkpointURL(for: output).path))
    }

    @Test(arguments: [
        ("{\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\"]}", "2 tokens but 1 tags"),
        ("{\"tokens\": [\"a\"], \"tags\": [3]}", "every tag must be a non-empty string"),
        ("{\"tokens\": [], \"tags\": []}", "\"tokens\" is empty"),
        ("{\"text\": \"a b\", \"label\": \"O\"}", "no \"tokens\" list"),
    ])
    func badRowNamesFileAndLine(row: String, reason: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = dir.appendingPathComponent("train.jsonl")
        try ("{\"tokens\": [\"John\"], \"tags\": [\"B-PER\"]}\n\n" + row + "\n").write(to: train, atomically: true, encoding: .utf8)
        do {
            _ = try TaggedWords(contentsOf: train)
            Issue.record("no error")
        } catch let e as DatasetError {
            #expect(e.description.hasPrefix("\(train.path):3: "), "\(e)")
            #expect(e.description.contains(reason), "\(e)")
        }
    }

    /// tools/prepare_tagging's articles and negations from real sentences (96 training rows,
    /// 32 validation): 8 epochs on the tiny random encoder, lr 5e-3, dropout 0.1. The train loss
    /// falls to under half its first epoch's and validation entity F1 rises from 0 above 0.5
    /// (0.625 measured); the output's `TokenTagger.evaluate` gives the best epoch's figures.
    @Test func learnsTaggingFromRealSentences() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = FinetuneOptions()
        o.task = .tokenClassification
        o.epochs = 8
        o.batchSize = 16
        o.maxLength = 64  // the tiny model's limit, which TokenTagger.evaluate cuts at too
        o.learningRate = 5e-3
        let data = Checkout.resources.appendingPathComponent("tagging")
        let summary = try FineTuner(source: directory, options: o)
            .run(train: data.appendingPathComponent("train.jsonl"), validation: data.appendingPathComponent("validation.jsonl"),
                 output: dir.appendingPathComponent("det"))
        // bert evaluate's figures on the written (best) epoch are the ones that picked it.
        let tagger = try TokenTagger(directory: ModelDirectory(url: dir.appendingPathComponent("det")))
        let (rows, m) = try tagger.evaluate(try TaggedWords(contentsOf: data.appendingPathComponent("validation.jsonl")))
        #expect(rows == 32)
        #expect(abs(m.f1 - summary.best!["entity F1"]!) < 1e-9 && abs(m.accuracy - summary.best!["token accuracy"]!) < 1e-9)
        #expect(summary.labels == ["B-DET", "B-NEG", "O"])
        #expect(summary.epochs.last!.trainLoss < summary.epochs[0].trainLoss / 2)
        #expect(summary.epochs[0]["entity F1"]! < 0.1)
        #expect(summary.best!["entity F1"]! > 0.5, "best entity F1 \(summary.best!["entity F1"]!)")
    }

    /// --freeze-encoder: the head alone learns on the cached hidden states; the output's
    /// encoder tensors are the source's, bit for bit, and TokenTagger gives the figures that
    /// picked the best epoch.
    @Test func headOnlyKeepsTheEncoder() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = FinetuneOptions()
        o.task = .tokenClassification
        o.freezeEncoder = true
        o.epochs = 4
        o.batchSize = 16
        o.maxLength = 64
        let data = Checkout.resources.appendingPathComponent("tagging")
        let output = dir.appendingPathComponent("det")
        let summary = try FineTuner(source: directory, options: o)
            .run(train: data.appendingPathComponent("train.jsonl"), validation: data.appendingPathComponent("validation.jsonl"), output: output)
        #expect(summary.epochs.last!.trainLoss < summary.epochs[0].trainLoss)
        let saved = try SafetensorsFile(path: output.appendingPathComponent("model.safetensors").path)
        let source = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        for name in source.names where !name.hasPrefix("classifier.") && !name.hasPrefix("pooler.") {
            #expect(try saved.tensor(name).values == source.tensor(name).values, "\(name) untouched")
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("config.json"))) as! [String: Any]
        #expect(((config["runtime"] as! [String: Any])["finetune"] as! [String: Any])["freeze_encoder"] as? Bool == true)
        let (_, m) = try TokenTagger(directory: ModelDirectory(url: output)).evaluate(try TaggedWords(contentsOf: data.appendingPathComponent("validation.jsonl")))
        #expect(abs(m.f1 - summary.best!["entity F1"]!) < 1e-9)
    }

    /// Interrupted after 5 steps and resumed, the run ends at the weights of an uninterrupted one.
    @Test func resumeReachesTheSameWeights() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = dir.appendingPathComponent("train.jsonl")
        try rows().write(to: train, atomically: true, encoding: .utf8)
        var o = FinetuneOptions()
        o.task = .tokenClassification
        o.epochs = 2
        o.batchSize = 4
        o.maxLength = 16
        o.learningRate = 5e-3
        let whole = FineTuner(source: directory, options: o)
        _ = try whole.run(train: train, output: dir.appendingPathComponent("a"))
        let first = FineTuner(source: directory, options: o)
        first.haltAfterSteps = 5
        #expect(try first.run(train: train, output: dir.appendingPathComponent("b")).interrupted)
        let second = FineTuner(source: directory, options: o)
        let resumed = try second.run(train: train, output: dir.appendingPathComponent("b"), resume: true)
        #expect(!resumed.interrupted && resumed.epochs.count == 2)
        for p in whole.finalParameters!.all {
            #expect(p.value.values == second.finalParameters![p.name]!.value.values, "\(p.name)")
        }
    }
}
