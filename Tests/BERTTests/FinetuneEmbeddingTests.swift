import Foundation
import Testing
@testable import BERT

extension FinetuneScratch {
    /// 24 rows (anchor, positive[, negative]): an animal sentence and the same animal's other sentence.
    func pairsCSV(_ name: String = "pairs.csv", negatives: Bool = false) throws -> URL {
        var rng = SplitMix64(seed: 17)
        let animals = ["cat", "dog", "bird", "fish"]
        var rows = [negatives ? "anchor,positive,negative" : "anchor,positive"]
        for k in 0..<24 {
            let a = animals[k % 4], other = animals[(k + 1 + rng.below(3)) % 4]
            let row = ["the \(a) sat", "a \(a) on the mat", "the \(other) ran"]
            rows.append(row.prefix(negatives ? 3 : 2).joined(separator: ","))
        }
        return try file(name, rows.joined(separator: "\n") + "\n")
    }

    /// 24 rows (sentence1, sentence2, score 0–5): 5 for the same animal, less for others.
    func scoredTSV(_ name: String = "sts.tsv") throws -> URL {
        var rng = SplitMix64(seed: 19)
        let animals = ["cat", "dog", "bird", "fish"]
        var rows = ["sentence1\tsentence2\tscore"]
        for _ in 0..<24 {
            let (i, j) = (rng.below(4), rng.below(4))
            rows.append("the \(animals[i]) sat\ta \(animals[j]) on the mat\t\(i == j ? 5.0 : Double(rng.below(3)))")
        }
        return try file(name, rows.joined(separator: "\n") + "\n")
    }
}

/// `--task embedding` end to end on the tiny model: the losses train, the output is an
/// embedding model `SentenceEmbedder` loads, the validation figure, STS evaluation, bad input.
@Suite(.serialized) struct FinetuneEmbeddingTests {
    func options(_ s: FinetuneScratch, _ loss: EmbeddingLoss?) -> FinetuneOptions {
        var o = s.options(.embedding)
        o.loss = loss
        o.epochs = 2
        return o
    }

    @Test(arguments: [(EmbeddingLoss.multipleNegatives, false), (.multipleNegatives, true), (.cosent, false), (.cosine, false)])
    func trainsAnEmbeddingModel(loss: EmbeddingLoss, negatives: Bool) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("embedder")
        var o = options(s, loss)
        if loss == .cosine { o.scoreScale = 5 }
        let train = loss.scored ? try s.scoredTSV() : try s.pairsCSV(negatives: negatives)
        let summary = try s.tuner(o).run(train: train, validation: s.scoredTSV("validation.tsv"), output: output)
        #expect(summary.epochs.count == 2)
        #expect(summary.epochs.allSatisfy { $0.figures.map(\.name) == ["Spearman", "Pearson"] && $0.trainLoss.isFinite && $0.validationLoss.isFinite })
        // The output embeds, and differently from the source.
        let source = try SentenceEmbedder(directory: ModelDirectory(url: s.tiny.url))
        let tuned = try SentenceEmbedder(directory: ModelDirectory(url: output))
        #expect(tuned.pooling == source.pooling && tuned.normalize == source.normalize)
        let (a, b) = (try source.embed("the cat sat"), try tuned.embed("the cat sat"))
        #expect(a.count == b.count && a != b)
        // The validation figure is evaluateSTS's on the same rows (/100).
        let best = summary.best!
        let m = try tuned.evaluateSTS(EmbeddingDataset(contentsOf: s.scoredTSV("validation.tsv")))
        #expect(m.count == 24 && abs(m.spearman / 100 - best["Spearman"]!) < 1e-3, "\(m.spearman) vs \(best["Spearman"]!)")
    }

    /// A classifier checkpoint's encoder trains too; the output is an embedding model without its head.
    @Test func fromAClassifierTheOutputDropsTheHead() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let output = s.root.appendingPathComponent("e")
        let source = try ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))
        _ = try FineTuner(source: source, options: options(s, nil)).run(train: s.pairsCSV(), output: output)
        let directory = try ModelDirectory(url: output)
        #expect(directory.config.runtime.classifier == nil && directory.config.problemType == nil)
        #expect(try SentenceEmbedder(directory: directory).embed("the cat sat").count == 32)
    }

    @Test func withoutScoresTheFigureIsTheNegatedLoss() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let summary = try s.tuner(options(s, nil)).run(train: s.pairsCSV(), output: s.root.appendingPathComponent("e"))
        #expect(summary.epochs.allSatisfy { $0.figures.map(\.name) == ["negated loss"] && $0.score.value == -$0.validationLoss })
    }

    @Test func resumeReachesTheSameWeights() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let o = options(s, .multipleNegatives)
        let full = try s.tuner(o)
        _ = try full.run(train: s.pairsCSV(), output: s.root.appendingPathComponent("a"))
        let halted = try s.tuner(o)
        halted.haltAfterSteps = 5
        #expect(try halted.run(train: s.pairsCSV(), output: s.root.appendingPathComponent("b")).interrupted)
        let resumed = try s.tuner(o)
        _ = try resumed.run(train: s.pairsCSV(), output: s.root.appendingPathComponent("b"), resume: true)
        for p in full.finalParameters!.all {
            #expect(p.value.values == resumed.finalParameters![p.name]!.value.values, "\(p.name)")
        }
    }

    @Test func badInputIsATypedError() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let out = s.root.appendingPathComponent("x")
        #expect(throws: FinetuneError.self) { try s.tuner(options(s, nil)).run(train: s.scoredTSV(), output: out) }  // scored rows need cosent/cosine
        #expect(throws: FinetuneError.self) { try s.tuner(options(s, .cosine)).run(train: s.pairsCSV(), output: out) }
        let noColumns = try s.file("bad.csv", "text,label\nthe cat,1\n")
        #expect(throws: DatasetError.self) { try EmbeddingDataset(contentsOf: noColumns) }
        let badScore = try s.file("bad.tsv", "sentence1\tsentence2\tscore\na\tb\t1\nc\td\tfive\n")
        #expect(throws: DatasetError.badRow(path: badScore.path, line: 3, reason: "the score 'five' is not a number")) {
            try EmbeddingDataset(contentsOf: badScore)
        }
        let jsonl = try s.file("rows.jsonl", "{\"anchor\": \"the cat\", \"positive\": \"a cat\"}\n{\"anchor\": \"x\", \"positive\": 3}\n")
        #expect(throws: DatasetError.self) { try EmbeddingDataset(contentsOf: jsonl) }
    }
}
