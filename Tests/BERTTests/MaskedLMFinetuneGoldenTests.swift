import Foundation
import Testing
import Tokenizers
@testable import BERT

/// What tools/golden/finetune_mlm.py wrote from transformers.
struct MaskedLMFinetuneGolden: Decodable {
    struct Case: Decodable {
        let model: String
        let texts: [String]
        let ids: [[Int]]
        let maskedIds: [[Int]]
        let labels: [[Int]]
        let losses: [Double]
        let clipNormStep1: Double
        let newHead: Bool
        let parameters: Int
    }
    let seed: UInt64
    let batchSize: Int
    let maxLength: Int
    let steps: Int
    let totalSteps: Int
    let learningRate: Double
    let cases: [String: Case]
}

/// Masked-LM training against transformers' BertForMaskedLM computing its own loss, on masks
/// drawn by DataCollatorForLanguageModeling, dropout off: with the checkpoint's tied head and
/// with a new head on an encoder that has none (as all-MiniLM-L6-v2). The texts' ids exactly;
/// the first 10 losses, every gradient after step 1 (the tied decoder's inside the word
/// embeddings'), the clipped norm and the head after 10 steps within 1e-4 relative; one worker and two.
@Suite(.serialized) struct MaskedLMFinetuneGoldenTests {
    let golden: MaskedLMFinetuneGolden
    let reference: SafetensorsFile

    init() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        golden = try decoder.decode(MaskedLMFinetuneGolden.self,
                                    from: Data(contentsOf: Checkout.resources.appendingPathComponent("mlm_finetune_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("mlm_finetune_golden.safetensors").path)
    }

    func model(_ name: String, workers: Int, precision: Precision = .fp32) throws -> (MaskedLMTraining, [MaskedText]) {
        let g = try #require(golden.cases[name])
        let directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent(g.model))
        let tokenizer = try #require(try directory.loadTokenizer() as? any TokenDecoding)
        let encodings = try g.texts.map { try tokenizer.encode($0, maxLength: golden.maxLength) }
        #expect(encodings.map(\.ids) == g.ids, "our tokenizer gives transformers' ids")
        let texts = encodings.map { MaskableText($0, tokenizer: tokenizer) }
        let masked = zip(encodings, zip(g.maskedIds, g.labels)).map { e, m in
            MaskedText(encoding: Encoding(ids: m.0, tokens: e.tokens, typeIds: e.typeIds, attentionMask: e.attentionMask, offsets: e.offsets), labels: m.1)
        }
        let c = directory.config
        #expect((c.runtime.maskedLM == nil) == g.newHead)
        let head: MaskedLMTraining.InitialHead = c.runtime.maskedLM.map { .checkpoint($0) } ?? .new(MaskedLMHead.newSettings(for: c), seed: golden.seed)
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let model = try MaskedLMTraining(config: c, checkpoint: checkpoint, head: head, texts: texts,
                                         masking: TokenMasking(maskId: tokenizer.maskId!, vocabularySize: c.vocabSize), seed: golden.seed,
                                         padId: tokenizer.padId, dropout: 0, workers: workers, precision: precision)
        return (model, masked)
    }

    @Test(arguments: ["head", "new_head"], [1, 2])
    func trainingMatchesTransformers(name: String, workers: Int) throws {
        let g = try #require(golden.cases[name])
        let (model, masked) = try model(name, workers: workers)
        let optimizer = Optimizer(model.parameters, learningRate: golden.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        let batches = stride(from: 0, to: masked.count, by: golden.batchSize).map { Array(masked[$0..<$0 + golden.batchSize]) }
        var losses: [Double] = []
        var rng: SplitMix64? = nil
        for step in 0..<golden.steps {
            let (loss, count) = model.run(batches[step % batches.count], training: true, rng: &rng)
            #expect(count == batches[step % batches.count].reduce(0) { $0 + $1.maskedCount })
            losses.append(Double(loss))
            if step == 0 { try checkGradients(model, name) }
            let clipNorm = optimizer.apply()
            if step == 0 { #expect(abs(clipNorm - g.clipNormStep1) / g.clipNormStep1 < 1e-4, "clipped norm \(clipNorm) vs \(g.clipNormStep1)") }
        }
        for (k, (ours, theirs)) in zip(losses, g.losses).enumerated() {
            #expect(abs(ours - theirs) / abs(theirs) < 1e-4, "\(name) loss \(k + 1): \(ours) vs \(theirs)")
        }
        for key in reference.names where key.hasPrefix("\(name).after.") {
            let p = String(key.dropFirst("\(name).after.".count))
            let err = relativeError(try #require(model.parameters[p]).value.values, try reference.tensor(key).values)
            #expect(err < 1e-4, "\(p) after \(golden.steps) steps: \(err)")
        }
    }

    func checkGradients(_ model: MaskedLMTraining, _ name: String) throws {
        let g = try #require(golden.cases[name])
        var compared = 0
        for p in model.parameters.all {
            let key = "\(name).grad.\(p.name)"
            let theirs = try reference.tensor(key).values
            let grad = p.grad.values
            if p.name.hasSuffix("attention.self.key.bias") {  // zero in exact arithmetic: rounding noise on both sides
                #expect(norm(grad) < 1e-6 && norm(theirs) < 1e-6, "\(key)")
            } else {
                let err = relativeError(grad, theirs)
                #expect(err < 1e-4, "\(key): relative error \(err)")
            }
            compared += 1
        }
        #expect(compared == g.parameters, "every parameter compared")
        #expect(compared == reference.names.filter { $0.hasPrefix("\(name).grad.") }.count)
    }
}
