import Foundation
import Testing
@testable import BERT

extension FinetuneScratch {
    /// 40 rows whose score is the number of "cat"s (0–3), texts and text pairs.
    func regressionCSV(_ name: String = "scores.csv") throws -> URL {
        var rng = SplitMix64(seed: 11)
        var rows = ["text,text_pair,label"]
        for _ in 0..<40 {
            let cats = rng.below(4)
            let words = (0..<cats).map { _ in "cat" } + (0..<1 + rng.below(3)).map { _ in ["the", "sat", "mat", "dog"][rng.below(4)] }
            rows.append("\(words.joined(separator: " ")),the mat,\(Double(cats) + 0.5)")
        }
        return try file(name, rows.joined(separator: "\n") + "\n")
    }

    /// 40 JSON Lines rows labelled with the animals they mention (none, one or both).
    func multiLabelJSONL(_ name: String = "animals.jsonl") throws -> URL {
        var rng = SplitMix64(seed: 13)
        var rows: [String] = []
        for _ in 0..<40 {
            let has = [rng.below(2) == 1, rng.below(2) == 1]
            let words = (has[0] ? ["cat"] : []) + ["the", "sat", "on", "mat"].prefix(1 + rng.below(3)) + (has[1] ? ["dog"] : [])
            let labels = zip(["cat", "dog"], has).filter(\.1).map { "\"\($0.0)\"" }
            rows.append("{\"text\": \"\(words.joined(separator: " "))\", \"label\": [\(labels.joined(separator: ", "))]}")
        }
        return try file(name, rows.joined(separator: "\n") + "\n")
    }

    func options(_ task: FinetuneTask, freeze: Bool = false) -> FinetuneOptions {
        var o = options(freeze: freeze)
        o.task = task
        return o
    }
}

/// The regression and multi-label objectives end to end: the directory they write, the
/// verbs that load it, resume, and bad rows.
@Suite(.serialized) struct FinetuneObjectiveTests {
    @Test(arguments: [false, true])
    func regressionWritesAScoringModel(freeze: Bool) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("scorer")
        let summary = try s.tuner(s.options(.regression, freeze: freeze)).run(train: s.regressionCSV(), output: output)
        #expect(summary.labels == ["LABEL_0"] && summary.epochs.count == 3)
        #expect(summary.epochs.allSatisfy { $0.figures.map(\.name) == ["Spearman", "Pearson"] && $0.validationLoss.isFinite })
        let directory = try ModelDirectory(url: output)
        #expect(directory.config.problemType == "regression" && directory.config.labels == ["LABEL_0"])
        let classifier = try TextClassifier(directory: directory)
        #expect(classifier.head.problem == .regression)
        let c = try classifier.classify(["cat cat the"], pairs: ["the mat"])[0]
        let raw = try classifier.logits(["cat cat the"], pairs: ["the mat"])[0][0]
        #expect(c.label == "LABEL_0" && c.score == raw, "classify prints the regressed value itself")
        let (count, m) = try classifier.evaluateRegression(Dataset(contentsOf: s.regressionCSV("all.csv")))
        #expect(count == 40 && m.mse > 0 && m.mse.isFinite && abs(m.pearson) <= 1 && abs(m.spearman) <= 1)
        #expect(throws: FinetuneError.self) { try classifier.evaluateMultiLabel(Dataset(contentsOf: s.regressionCSV("x.csv"))) }
    }

    @Test(arguments: [false, true])
    func multiLabelWritesASigmoidModel(freeze: Bool) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("tagger")
        var o = s.options(.multiLabel, freeze: freeze)
        o.learningRate = freeze ? 5e-2 : 3e-3
        o.epochs = 4
        let summary = try s.tuner(o).run(train: s.multiLabelJSONL(), output: output)
        #expect(summary.labels == ["cat", "dog"])
        #expect(summary.epochs.allSatisfy { $0.figures.map(\.name) == ["micro-F1", "macro-F1", "subset accuracy"] })
        let directory = try ModelDirectory(url: output)
        #expect(directory.config.problemType == "multi_label_classification")
        let classifier = try TextClassifier(directory: directory)
        let c = try classifier.classify(["cat the dog"])[0]
        let raw = try classifier.logits(["cat the dog"])[0]
        #expect(c.scores.map(\.score) == raw.map { 1 / (1 + Foundation.exp(-$0)) }, "a sigmoid per label")
        // The same rows as CSV, the labels joined by ';'.
        let jsonl = try Dataset(contentsOf: s.multiLabelJSONL("all.jsonl"))
        let csv = try s.file("all.csv", "text,label\n" + zip(jsonl.texts, jsonl.labelLists(separator: ","))
            .map { "\($0),\($1.joined(separator: ";"))" }.joined(separator: "\n") + "\n")
        let a = try classifier.evaluateMultiLabel(jsonl)
        let b = try classifier.evaluateMultiLabel(Dataset(contentsOf: csv, emptyLabels: true), separator: ";")
        #expect(a.metrics == b.metrics && a.count == 40 && a.loss == b.loss)
        #expect(a.metrics.microF1 > 0.6, "learns which animals a row mentions: \(a.metrics)")
    }

    /// Interrupted mid-epoch with two workers and resumed: the same weights and figures as one straight run.
    @Test(arguments: [FinetuneTask.regression, .multiLabel])
    func resumeEqualsUninterrupted(task: FinetuneTask) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = task == .regression ? try s.regressionCSV() : try s.multiLabelJSONL()
        let a = s.root.appendingPathComponent("a"), b = s.root.appendingPathComponent("b")
        let straight = try s.tuner(s.options(task))
        straight.workers = 2
        let full = try straight.run(train: train, output: a)
        let first = try s.tuner(s.options(task))
        first.workers = 2
        first.haltAfterSteps = 13
        #expect(try first.run(train: train, output: b).interrupted)
        let second = try s.tuner(s.options(task))
        let resumed = try second.run(train: train, output: b, resume: true)
        for (p, q) in zip(straight.finalParameters!.all, second.finalParameters!.all) {
            #expect(p.value.values == q.value.values && p.m.values == q.m.values, "\(p.name) differs after resuming")
        }
        #expect(full.epochs.map { [$0.trainLoss, $0.validationLoss] + $0.figures.map(\.value) }
                == resumed.epochs.map { [$0.trainLoss, $0.validationLoss] + $0.figures.map(\.value) })
        // Another task on the same state is another run.
        var other = s.options(task == .regression ? .multiLabel : .regression)
        other.epochs = 1
        #expect(throws: (any Error).self) { try s.tuner(other).run(train: train, output: s.root.appendingPathComponent("c"), resume: true) }
    }

    @Test func badRowsNameTheirFileAndLine() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let out = s.root.appendingPathComponent("out")
        let regression = try s.file("r.csv", "text,label\nthe cat,1.5\nthe dog,high\nthe mat,2\n")
        #expect(throws: DatasetError.badRow(path: regression.path, line: 3, reason: "the label 'high' is not a number within Float's range, which regression needs")) {
            try s.tuner(s.options(.regression)).run(train: regression, output: out)
        }
        let huge = try s.file("h.csv", "text,label\nthe cat,1.5\nthe dog,1e39\n")
        #expect(throws: DatasetError.badRow(path: huge.path, line: 3, reason: "the label '1e39' is not a number within Float's range, which regression needs")) {
            try s.tuner(s.options(.regression)).run(train: huge, output: out)
        }
        let infinite = try s.file("i.jsonl", "{\"text\": \"the cat\", \"label\": 1}\n{\"text\": \"the dog\", \"label\": [\"cat\"]}\n")
        #expect(throws: DatasetError.badRow(path: infinite.path, line: 2, reason: "the label '[cat]' is not a number within Float's range, which regression needs")) {
            try s.tuner(s.options(.regression)).run(train: infinite, output: out)
        }
        let list = try s.file("m.jsonl", "{\"text\": \"the cat\", \"label\": [\"cat\"]}\n{\"text\": \"the dog\", \"label\": [\"dog\", {}]}\n")
        #expect(throws: DatasetError.badRow(path: list.path, line: 2, reason: "a label list must hold non-empty strings or integers")) {
            try s.tuner(s.options(.multiLabel)).run(train: list, output: out)
        }
        let train = try s.multiLabelJSONL()
        let validation = try s.file("v.csv", "text,label\nthe cat,cat\nthe dog,\"dog,bird\"\n")
        #expect(throws: DatasetError.unknownLabel(path: validation.path, line: 3, label: "bird", known: ["cat", "dog"])) {
            try s.tuner(s.options(.multiLabel)).run(train: train, validation: validation, output: out)
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func correlationsAndMultiLabelFiguresByHand() {
        // Spearman on average ranks of ties: x ranks [1, 2.5, 2.5, 4], y ranks [1, 2, 3, 4].
        #expect(abs(Correlation.spearman([1, 2, 2, 3], [10, 20, 30, 40]) - 0.9486832980505138) < 1e-12)
        #expect(Correlation.pearson([1, 2, 3], [2, 4, 6]) == 1 && Correlation.pearson([1, 1, 1], [1, 2, 3]) == 0)
        // Rows (labels a, b): gold [a], [a, b], [] — predicted [a], [a], [b].
        let m = MultiLabelMetrics(predicted: [true, false, true, false, false, true], gold: [true, false, true, true, false, false], labels: 2)
        #expect(abs(m.microF1 - 2.0 * 2 / (2 * 2 + 1 + 1)) < 1e-12)      // TP 2, FP 1, FN 1
        #expect(abs(m.macroF1 - (1.0 + 0) / 2) < 1e-12)                    // a: F1 1; b: TP 0
        #expect(abs(m.subsetAccuracy - 1.0 / 3) < 1e-12)
    }
}
