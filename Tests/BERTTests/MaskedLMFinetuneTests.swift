import Foundation
import Testing
import Tokenizers
@testable import BERT

/// `bert finetune --task mlm` and its masking: BERT's proportions, specials never chosen,
/// whole words together, masks reproducible per (seed, epoch, example); end to end on the tiny
/// masked LM and on an encoder without a head; resume; `bert evaluate --task mlm`; bad input.
@Suite(.serialized) struct MaskedLMFinetuneTests {
    let masked = try! ModelDirectory(url: Checkout.resources.appendingPathComponent("mlm/bert"))
    let headless = try! ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The real sentences of Tests/BERTTests/Resources/tagging (Rotten Tomatoes snippets), one per line.
    func sentences(_ file: String) throws -> [String] {
        try TaggedWords(contentsOf: Checkout.resources.appendingPathComponent("tagging/\(file).jsonl")).words.map { $0.joined(separator: " ") }
    }

    func tinyTexts() throws -> [String] {
        let g = try JSONSerialization.jsonObject(with: Data(contentsOf: Checkout.resources.appendingPathComponent("mlm_finetune_golden.json"))) as! [String: Any]
        return ((g["cases"] as! [String: Any])["head"] as! [String: Any])["texts"] as! [String]
    }

    @Test func maskingHasBERTsProportions() throws {
        let tokenizer = try #require(try headless.loadTokenizer() as? any TokenDecoding)
        let texts = try (sentences("train") + sentences("validation")).map { MaskableText(try tokenizer.encode($0, maxLength: 64), tokenizer: tokenizer) }
        let masking = TokenMasking(maskId: tokenizer.maskId!, vocabularySize: tokenizer.vocabularySize)
        var (tokens, chosen, toMask, kept) = (0, 0, 0, 0)
        for epoch in 0..<20 as Range<UInt64> {
            for (k, text) in texts.enumerated() {
                var rng = TokenMasking.generator(seed: 42, epoch: epoch, example: k)
                let m = masking(text, rng: &rng)
                for t in 0..<text.encoding.count {
                    if text.words[t] == nil {
                        #expect(m.labels[t] == WordEncoding.ignored && m.encoding.ids[t] == text.encoding.ids[t], "a special token is never chosen")
                        continue
                    }
                    tokens += 1
                    guard m.labels[t] != WordEncoding.ignored else {
                        #expect(m.encoding.ids[t] == text.encoding.ids[t])
                        continue
                    }
                    #expect(m.labels[t] == text.encoding.ids[t])
                    chosen += 1
                    if m.encoding.ids[t] == masking.maskId { toMask += 1 } else if m.encoding.ids[t] == text.encoding.ids[t] { kept += 1 }
                }
            }
        }
        let share = Double(chosen) / Double(tokens), maskShare = Double(toMask) / Double(chosen), keptShare = Double(kept) / Double(chosen)
        #expect(tokens > 30_000)
        #expect(abs(share - 0.15) < 0.006, "chosen \(share)")
        #expect(abs(maskShare - 0.8) < 0.015, "[MASK] \(maskShare)")
        #expect(abs(keptShare - 0.1) < 0.012, "kept \(keptShare)")  // and about 10% random: the rest
        #expect(abs(1 - maskShare - keptShare - 0.1) < 0.012)
    }

    @Test func masksDependOnSeedEpochAndExampleOnly() throws {
        let tokenizer = try #require(try headless.loadTokenizer() as? any TokenDecoding)
        let text = MaskableText(try tokenizer.encode(try sentences("train")[2], maxLength: 64), tokenizer: tokenizer)
        let masking = TokenMasking(maskId: tokenizer.maskId!, vocabularySize: tokenizer.vocabularySize)
        func labels(_ seed: UInt64, _ epoch: UInt64, _ example: Int) -> [Int] {
            var rng = TokenMasking.generator(seed: seed, epoch: epoch, example: example)
            return masking(text, rng: &rng).labels
        }
        #expect(labels(42, 0, 3) == labels(42, 0, 3))
        let others = [labels(42, 1, 3), labels(42, 0, 4), labels(43, 0, 3), labels(42, MaskedLMTraining.heldOutEpoch, 3)]
        #expect(others.allSatisfy { $0 != labels(42, 0, 3) }, "another epoch, example or seed draws other masks")
    }

    @Test func wholeWordMaskingTakesEveryPiece() throws {
        let tokenizer = try #require(try headless.loadTokenizer() as? any TokenDecoding)
        let text = MaskableText(try tokenizer.encode("unflinchingly bleak stupidities, and Zürich's moviegoers", maxLength: 64), tokenizer: tokenizer)
        let e = text.encoding
        let pieces = Dictionary(grouping: (0..<e.count).filter { text.words[$0] != nil }, by: { text.words[$0]! })
        #expect(pieces.values.contains { $0.count > 1 }, "some word has sub-words: \(e.tokens)")
        for group in pieces.values { #expect(group.dropFirst().allSatisfy { e.tokens[$0].hasPrefix("##") }, "\(group.map { e.tokens[$0] })") }
        let masking = TokenMasking(maskId: tokenizer.maskId!, vocabularySize: tokenizer.vocabularySize, probability: 0.5, wholeWords: true)
        var split = 0
        for k in 0..<200 {
            var rng = TokenMasking.generator(seed: 7, epoch: 0, example: k)
            let m = masking(text, rng: &rng)
            for group in pieces.values where Set(group.map { m.labels[$0] == WordEncoding.ignored }).count > 1 { split += 1 }
        }
        #expect(split == 0, "a word is chosen with all its pieces or not at all")
    }

    /// The tiny masked LM on the golden script's sentences: the output keeps the head and
    /// loads in MaskFiller; `MaskedLMMetrics` on the validation file gives the loss that picked
    /// the best epoch (the same masks); the training state is gone at the end.
    @Test func outputFillsMasksAndEvaluatesAsValidated() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let texts = try tinyTexts()
        let (train, validation) = (dir.appendingPathComponent("train.txt"), dir.appendingPathComponent("validation.txt"))
        try (texts.joined(separator: "\n") + "\n").write(to: train, atomically: true, encoding: .utf8)
        try (texts.reversed().joined(separator: "\n\n")).write(to: validation, atomically: true, encoding: .utf8)
        var o = FinetuneOptions()
        o.task = .mlm
        o.epochs = 2
        o.batchSize = 8
        o.maxLength = 16
        o.learningRate = 5e-3
        let tuner = FineTuner(source: masked, options: o)
        let output = dir.appendingPathComponent("adapted")
        let summary = try tuner.run(train: train, validation: validation, output: output)
        #expect(summary.validationRows == 16 && summary.trainRows == 16)
        #expect(summary.epochs.map { $0.figures.map(\.name) } == [["negated loss", "perplexity"], ["negated loss", "perplexity"]])
        let best = try #require(summary.best)
        #expect(abs(best["perplexity"]! - Foundation.exp(best.validationLoss)) < 1e-9)
        let out = try ModelDirectory(url: output)
        #expect(out.config.runtime.maskedLM == masked.config.runtime.maskedLM)
        let filled = try MaskFiller(directory: out).fill(["the cat sat on the [MASK]."])
        #expect(filled[0][0].count == 5)
        let m = try MaskedLMMetrics(directory: out, data: try TextLines(contentsOf: validation), seed: o.seed, maxLength: o.maxLength)
        #expect(m.maskedTokens > 0)
        #expect(abs(m.loss - best.validationLoss) / best.validationLoss < 1e-5, "evaluate \(m.loss) vs validation \(best.validationLoss)")
        #expect(!FileManager.default.fileExists(atPath: FineTuner.checkpointURL(for: output).path))
    }

    /// An encoder without a head (the all-MiniLM-L6-v2 case) gets a new one, and the output is
    /// a masked LM that fill-mask loads and a later classifier fine-tuning starts from. On the
    /// real sentences, 4 epochs lower the held-out masked-token loss below the first epoch's.
    @Test func newHeadOnAnEncoderWithout() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (train, validation) = (dir.appendingPathComponent("train.txt"), dir.appendingPathComponent("validation.txt"))
        try sentences("train").joined(separator: "\n").write(to: train, atomically: true, encoding: .utf8)
        try sentences("validation").joined(separator: "\n").write(to: validation, atomically: true, encoding: .utf8)
        var o = FinetuneOptions()
        o.task = .mlm
        o.epochs = 4
        o.batchSize = 16
        o.maxLength = 64
        o.learningRate = 5e-3
        var statuses: [String] = []
        let tuner = FineTuner(source: headless, options: o)
        tuner.onStatus = { statuses.append($0) }
        let output = dir.appendingPathComponent("adapted")
        let summary = try tuner.run(train: train, validation: validation, output: output)
        #expect(statuses.contains { $0.contains("has no masked-LM head: training a new one") }, "\(statuses)")
        #expect(summary.best!.validationLoss < summary.epochs[0].validationLoss, "\(summary.epochs.map(\.validationLoss))")
        let out = try ModelDirectory(url: output)
        #expect(out.config.runtime.maskedLM == MaskedLMHead.newSettings(for: headless.config))
        #expect(out.config.runtime.classifier == nil && out.config.id2label == nil)
        let saved = try SafetensorsFile(path: output.appendingPathComponent("model.safetensors").path)
        #expect(saved.names.contains("mlm.dense.weight") && !saved.names.contains { $0.hasPrefix("classifier.") })
        _ = try MaskFiller(directory: out).fill(["a gorgeous [MASK] ."])
        // A classifier fine-tuned from the adapted encoder.
        let rows = dir.appendingPathComponent("rows.csv")
        try ("text,label\n" + (0..<24).map { "\(["a gorgeous film", "a dreary movie"][$0 % 2]) \($0),\(["pos", "neg"][$0 % 2])" }.joined(separator: "\n"))
            .write(to: rows, atomically: true, encoding: .utf8)
        var c = FinetuneOptions()
        c.epochs = 1
        c.batchSize = 8
        c.maxLength = 16
        let classifier = dir.appendingPathComponent("classifier")
        _ = try FineTuner(source: out, options: c).run(train: rows, output: classifier)
        #expect(try TextClassifier(directory: ModelDirectory(url: classifier)).labels == ["neg", "pos"])
    }

    /// Interrupted after 3 steps and resumed, dropout on, the run ends at the uninterrupted run's weights.
    @Test func resumeReachesTheSameWeights() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = dir.appendingPathComponent("train.txt")
        try try tinyTexts().joined(separator: "\n").write(to: train, atomically: true, encoding: .utf8)
        var o = FinetuneOptions()
        o.task = .mlm
        o.epochs = 2
        o.batchSize = 4
        o.maxLength = 16
        o.learningRate = 5e-3
        o.wholeWordMask = true
        let whole = FineTuner(source: masked, options: o)
        _ = try whole.run(train: train, output: dir.appendingPathComponent("a"))
        let first = FineTuner(source: masked, options: o)
        first.haltAfterSteps = 3
        #expect(try first.run(train: train, output: dir.appendingPathComponent("b")).interrupted)
        let second = FineTuner(source: masked, options: o)
        let resumed = try second.run(train: train, output: dir.appendingPathComponent("b"), resume: true)
        #expect(!resumed.interrupted && resumed.epochs.count == 2)
        for p in whole.finalParameters!.all {
            #expect(p.value.values == second.finalParameters![p.name]!.value.values, "\(p.name)")
        }
    }

    @Test func badInputIsAClearError() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        func error(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        let csv = dir.appendingPathComponent("rows.csv")
        try "text,label\na,b\n".write(to: csv, atomically: true, encoding: .utf8)
        #expect(error { _ = try TextLines(contentsOf: csv) }.contains("raw text, one document per line"))
        let blank = dir.appendingPathComponent("blank.txt")
        try "\n  \n\n".write(to: blank, atomically: true, encoding: .utf8)
        #expect(error { _ = try TextLines(contentsOf: blank) }.hasPrefix(blank.path))
        let latin1 = dir.appendingPathComponent("latin1.txt")
        try (Data("the cat\nthe dog\n".utf8) + Data([0x63, 0x61, 0x66, 0xE9, 0x0A])).write(to: latin1)
        #expect(error { _ = try TextLines(contentsOf: latin1) }.hasPrefix("\(latin1.path):3: "))
        let lines = try TextLines(contentsOf: { let u = dir.appendingPathComponent("ok.txt"); try! "a\r\n\nb\n".write(to: u, atomically: true, encoding: .utf8); return u }())
        #expect(lines.texts == ["a", "b"] && lines.lines == [1, 3])
        // JSON Lines written with CRLF: one row a line there too (a split on "\n" alone saw one line).
        let crlf = dir.appendingPathComponent("rows.jsonl")
        try "{\"text\": \"a\", \"label\": \"x\"}\r\n{\"text\": \"b\", \"label\": \"y\"}\r\n".write(to: crlf, atomically: true, encoding: .utf8)
        #expect(try Dataset(contentsOf: crlf).texts == ["a", "b"])
        let tagged = dir.appendingPathComponent("tagged.jsonl")
        try "{\"tokens\": [\"a\"], \"tags\": [\"O\"]}\r\n{\"tokens\": [\"b\"], \"tags\": [\"O\"]}\r\n".write(to: tagged, atomically: true, encoding: .utf8)
        #expect(try TaggedWords(contentsOf: tagged).lines == [1, 2])

        var o = FinetuneOptions()
        o.task = .mlm
        o.epochs = 1
        let train = dir.appendingPathComponent("train.txt")
        try "the cat sat\nthe dog ran\n".write(to: train, atomically: true, encoding: .utf8)
        let modern = try ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/modernbert"))
        #expect(error { _ = try FineTuner(source: modern, options: o).run(train: train, output: dir.appendingPathComponent("m")) }
            .contains("this runtime has none for model_type modernbert"))
        o.freezeEncoder = true
        #expect(error { _ = try FineTuner(source: masked, options: o).run(train: train, output: dir.appendingPathComponent("m")) }
            .contains("drop --freeze-encoder"))
        #expect(error { _ = try MaskedLMMetrics(directory: headless, data: try TextLines(contentsOf: train), seed: 1) }.contains("masked-LM head"))
    }
}
