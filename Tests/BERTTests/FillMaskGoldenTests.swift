import Foundation
import Testing
@testable import BERT
import Tokenizers

/// One fill-mask proposal as transformers' pipeline wrote it.
struct PipelineProposal: Decodable {
    let score: Double
    let token: Int
    let tokenStr: String
    let sequence: String
}

/// A text's pipeline output: one list (one mask) or a list per mask.
struct PipelineOutput: Decodable {
    let masks: [[PipelineProposal]]
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode([PipelineProposal].self) { masks = [one] } else { masks = try c.decode([[PipelineProposal]].self) }
    }
}

/// What tools/golden/fill_mask.py wrote for one tiny random *ForMaskedLM.
struct FillMaskGolden: Decodable {
    struct Head: Decodable { let rows: Int; let labels: [Int]; let loss: Double }
    let model: String
    let texts: [String]
    let pipeline: [PipelineOutput]
    let head: Head

    static func load() throws -> [String: FillMaskGolden] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([String: FillMaskGolden].self,
                                  from: Data(contentsOf: Checkout.resources.appendingPathComponent("mlm/fill_mask_golden.json")))
    }
}

/// Checks MaskFiller's output against the pipeline's: scores within 1e-5, tokens, strings and order exact.
func expectMatches(_ ours: [[[MaskPrediction]]], _ golden: [PipelineOutput], texts: [String], _ label: String) {
    #expect(ours.count == golden.count)
    for (k, (o, g)) in zip(ours, golden).enumerated() {
        #expect(o.count == g.masks.count, "\(label) text \(k): masks")
        for (m, (om, gm)) in zip(o, g.masks).enumerated() {
            #expect(om.map(\.token) == gm.map(\.token), "\(label) text \(k) mask \(m): \(texts[k])")
            #expect(om.map(\.tokenString) == gm.map(\.tokenStr), "\(label) text \(k) mask \(m)")
            #expect(om.map(\.sequence) == gm.map(\.sequence), "\(label) text \(k) mask \(m)")
            for (a, b) in zip(om, gm) { #expect(abs(Double(a.score) - b.score) < 1e-5, "\(label) text \(k) mask \(m): \(a.score) vs \(b.score)") }
        }
    }
}

@Suite struct FillMaskGoldenTests {
    static let types = ["bert", "distilbert", "albert", "electra", "mpnet"]

    @Test(arguments: types) func pipelineParity(_ type: String) throws {
        let golden = try #require(try FillMaskGolden.load()[type])
        let filler = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        expectMatches(try filler.fill(golden.texts, topK: 5), golden.pipeline, texts: golden.texts, type)
        // One text at a time gives the same as the batch.
        let alone = try golden.texts.map { try filler.fill([$0], topK: 5)[0] }
        #expect(alone.map { $0.map { $0.map(\.token) } } == (try filler.fill(golden.texts, topK: 5)).map { $0.map { $0.map(\.token) } })
    }

    /// The head's forward and backward against transformers: logits 1e-5, every gradient
    /// (the tied word embeddings' included) and dL/dinput within 1e-4 relative.
    @Test(arguments: types) func headGradients(_ type: String) throws {
        let golden = try #require(try FillMaskGolden.load()[type])
        let dir = try ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model))
        let reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("mlm/\(type)_head.safetensors").path)
        let weights = Weights(try SafetensorsFile(path: dir.url.appendingPathComponent("model.safetensors").path),
                              parameters: ParameterSet(.training))
        let head = try MaskedLMHead(weights.scope(""), config: dir.config, settings: try #require(dir.config.runtime.maskedLM))
        let (N, V, C) = (golden.head.rows, head.vocabularySize, dir.config.hiddenSize)
        let input = try reference.tensor("input")
        var logits = [Float](repeating: 0, count: N * V)
        let saved = head.forward(input.pointer, rows: N, into: &logits)
        #expect(maxAbsDifference(logits, try reference.tensor("logits").values) < 1e-5)
        // Mean cross-entropy: dL/dlogits = (softmax − one-hot) / N.
        var dLogits = logits
        var loss = 0.0
        for r in 0..<N {
            let row = Array(logits[r * V..<(r + 1) * V])
            let m = row.max()!
            let e = row.map { Foundation.exp(Double($0 - m)) }
            let total = e.reduce(0, +)
            loss += Foundation.log(total) + Double(m) - Double(row[golden.head.labels[r]])
            for v in 0..<V { dLogits[r * V + v] = Float((e[v] / total - (v == golden.head.labels[r] ? 1 : 0)) / Double(N)) }
        }
        #expect(abs(loss / Double(N) - golden.head.loss) < 1e-5)
        var dx = [Float](repeating: 0, count: N * C)
        head.backward(dLogits, saved: saved, rows: N, into: &dx)
        func relative(_ a: [Float], _ b: [Float]) -> Double {
            let d = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            return d / max(b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), 1e-30)
        }
        #expect(relative(dx, try reference.tensor("dinput").values) < 1e-4, "\(type) dinput")
        let names = reference.names.filter { $0.hasPrefix("grad.") }
        #expect(names.count >= 6, "\(type): gradients of the head's parameters")
        for name in names {
            let p = try #require(weights.parameters[String(name.dropFirst(5))], "\(type): no parameter \(name)")
            #expect(relative(p.grad.values, try reference.tensor(name).values) < 1e-4, "\(type) \(name)")
        }
    }

    /// AntiBERTy (models/antiberty from tools/setup) on antibody sequences against transformers'
    /// pipeline on the same weights.
    @Test func antiberty() throws {
        struct Golden: Decodable { let texts: [String]; let pipeline: [PipelineOutput] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let golden = try decoder.decode(Golden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("antiberty_fill_mask_golden.json")))
        let filler = try MaskFiller(directory: Checkout.model("antiberty"))
        #expect(filler.config.vocabSize == 25 && filler.maskToken == "[MASK]")
        expectMatches(try filler.fill(golden.texts, topK: 5), golden.pipeline, texts: golden.texts, "antiberty")
    }

    /// XLM-R's lm_head and <mask> on the tiny XLM-R of tools/golden/xlmr_tiny.py.
    @Test func xlmRoberta() throws {
        struct Golden: Decodable { let texts: [String]; let pipeline: [PipelineOutput] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let golden = try decoder.decode(Golden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("tiny_xlmr_fill_mask_golden.json")))
        let filler = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("tiny-xlmr")))
        #expect(filler.maskToken == "<mask>")
        expectMatches(try filler.fill(golden.texts, topK: 5), golden.pipeline, texts: golden.texts, "xlm-roberta")
    }

    /// 8 tasks filling at once on one MaskFiller get what one call alone gets, bit for bit.
    @Test func concurrentCalls() async throws {
        let golden = try #require(try FillMaskGolden.load()["bert"])
        let filler = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        let texts = golden.texts
        let alone = try filler.fill(texts)
        try await withThrowingTaskGroup(of: [[[MaskPrediction]]].self) { group in
            for _ in 0..<8 { group.addTask { try filler.fill(texts) } }
            for try await result in group { #expect(result == alone) }
        }
    }

    @Test func errors() throws {
        let golden = try #require(try FillMaskGolden.load()["bert"])
        let filler = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        #expect(throws: ModelError.self) { try filler.fill(["the cat sat on the mat."]) }
        do { _ = try filler.fill(["the cat sat.", "the cat sat on the mat."]) } catch {
            #expect("\(error)".contains("input 1") && "\(error)".contains("[MASK]"))
        }
        #expect(throws: ModelError.self) { try filler.fill(["the [MASK] sat."], topK: 0) }
        // A sequence classifier has no masked-LM head: the message says which head it has.
        do {
            _ = try MaskFiller(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/distilbert-classifier")))
            Issue.record("a classifier was accepted for fill-mask")
        } catch {
            #expect("\(error)".contains("no masked-LM head") && "\(error)".contains("sequence-classification head (3 labels)") && "\(error)".contains("DistilBertForMaskedLM"), "\(error)")
        }
    }
}
