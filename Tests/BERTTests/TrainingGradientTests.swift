import Foundation
import Testing
@testable import BERT
import Tokenizers

/// The whole backward pass of BertForSequenceClassification (embeddings, every encoder
/// layer's attention, softmax, LayerNorm, GELU and residuals, the pooler, the classifier,
/// cross-entropy) against central finite differences, per parameter tensor along its
/// gradient's direction (the largest signal above Float's rounding), on a tiny random
/// model in Float; query and key weights are scaled up so attention matters to the loss.
/// With dropout too: the masks are drawn from the same generator state for every evaluation.
@Suite struct TrainingGradientTests {
    static let texts = ["the cat sat on the mat .", "the dog sat", "cats sat on the dog", "the mat"]

    func makeModel(_ tiny: TinyModel, dropout: Float) throws -> SequenceClassifierTraining {
        let directory = try ModelDirectory(url: tiny.url)
        let tokenizer = try directory.loadTokenizer()
        let encodings = try Self.texts.map { try tokenizer.encode($0, maxLength: 12) }
        #expect(Set(encodings.map(\.count)).count > 1, "the batch should need padding")
        let model = try SequenceClassifierTraining(
            config: directory.config, checkpoint: SafetensorsFile(path: tiny.checkpointURL.path),
            head: .new(features: .pooler, labels: ["a", "b", "c"], seed: 5),
            encodings: encodings, padId: tokenizer.padId, dropout: dropout)
        // A larger head than HF's init, so the upstream gradients are not tiny.
        let weight = model.head.output.weight
        for i in 0..<weight.count { weight.value[i] *= 20 }
        return model
    }

    func check(dropout: Float) throws {
        var tiny = try TinyModel()
        defer { tiny.remove() }
        for (name, t) in tiny.tensors where name.hasSuffix("self.query.weight") || name.hasSuffix("self.key.weight") {
            tiny.tensors[name] = Tensor(shape: t.shape, values: t.values.map { $0 * 4 })
        }
        try tiny.write()
        let model = try makeModel(tiny, dropout: dropout)
        let examples = [0, 1, 2, 3], labels = [2, 0, 1, 2]
        func loss() -> Double {
            var rng: SplitMix64? = dropout > 0 ? SplitMix64(seed: 99) : nil
            let l = model.run(examples, labels: labels, training: true, rng: &rng).loss
            model.parameters.zeroGradients()
            return Double(l)
        }
        var rng: SplitMix64? = dropout > 0 ? SplitMix64(seed: 99) : nil
        model.parameters.zeroGradients()
        _ = model.run(examples, labels: labels, training: true, rng: &rng)
        let grads = Dictionary(uniqueKeysWithValues: model.parameters.all.map { ($0.name, $0.grad.values) })
        model.parameters.zeroGradients()
        var checked = 0
        for p in model.parameters.all where !p.name.hasSuffix("attention.self.key.bias") {  // zero in exact arithmetic
            let n = Float(norm(grads[p.name]!))
            let d = grads[p.name]!.map { $0 / n }
            let analytic = zip(grads[p.name]!, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let h: Float = 1e-2
            let saved = p.value.values
            for i in 0..<p.count { p.value[i] = saved[i] + h * d[i] }
            let plus = loss()
            for i in 0..<p.count { p.value[i] = saved[i] - h * d[i] }
            let minus = loss()
            for i in 0..<p.count { p.value[i] = saved[i] }
            let numeric = (plus - minus) / (2 * Double(h))
            // Float rounding of the loss gives finite differences an error of about 1e-5.
            #expect(abs(numeric - analytic) <= 3e-5 + 1e-2 * abs(analytic), "\(p.name): finite differences \(numeric), backward \(analytic)")
            #expect(analytic > 4e-5, "\(p.name): too little gradient to check (\(analytic))")
            checked += 1
        }
        #expect(checked == 2 * 15 + 5 + 4)  // 2 layers × 16 but the key bias, embeddings 5, pooler 2 + classifier 2
        // Gradients that must be nonzero are: every tensor but the key bias, the padding row.
        for (name, g) in grads where !name.hasSuffix("attention.self.key.bias") {
            #expect(g.contains { $0 != 0 }, "\(name) has no gradient")
        }
        let word = grads["embeddings.word_embeddings.weight"]!
        #expect(word[0..<8].allSatisfy { $0 == 0 }, "the [PAD] row gets no gradient (padding_idx)")
    }

    @Test func backwardMatchesFiniteDifferences() throws { try check(dropout: 0) }

    @Test func backwardMatchesFiniteDifferencesWithDropout() throws { try check(dropout: 0.1) }

    @Test func linearHeadBackwardMatchesFiniteDifferences() throws {
        var rng = SplitMix64(seed: 4)
        let features = (0..<6).map { _ in (0..<5).map { _ in Float(rng.normal()) } }
        let model = LinearHeadTraining(features: features, classifier: initialClassifier(labels: 3, hidden: 5, seed: 1))
        var none: SplitMix64? = nil
        _ = model.run(Array(0..<6), labels: [0, 1, 2, 0, 1, 2], training: true, rng: &none)
        for p in model.parameters.all {
            for i in 0..<p.count {
                let g = Double(p.grad[i]), saved = p.value[i], h: Float = 1e-2
                p.value[i] = saved + h
                let plus = Double(model.run(Array(0..<6), labels: [0, 1, 2, 0, 1, 2], training: false, rng: &none).loss)
                p.value[i] = saved - h
                let minus = Double(model.run(Array(0..<6), labels: [0, 1, 2, 0, 1, 2], training: false, rng: &none).loss)
                p.value[i] = saved
                #expect(abs((plus - minus) / (2 * Double(h)) - g) < 1e-4, "\(p.name)[\(i)]")
            }
        }
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = LinearSchedule(totalSteps: 20)
        #expect(s.warmupSteps == 2)
        #expect((0..<21).map { s.factor(atStep: $0) }.prefix(4) == [0, 0.5, 1, 17.0 / 18])
        #expect(s.factor(atStep: 20) == 0)
        #expect(LinearSchedule(totalSteps: 25).warmupSteps == 3)  // ceil, as transformers' warmup_ratio
    }

    @Test func clippingScalesToTheMaximumNorm() throws {
        let params = ParameterSet()
        let a = params.add("a.weight", Tensor(shape: [2], values: [0, 0]))
        let b = params.add("b.bias", Tensor(shape: [1], values: [0]))
        (a.grad[0], a.grad[1], b.grad[0]) = (3, 0, 4)
        #expect(params.clipGradients(maxNorm: 1) == 5)
        #expect(abs(params.gradientNorm() - 1) < 1e-6)
        #expect(a.decays && !b.decays)
        (a.grad[0], a.grad[1], b.grad[0]) = (0.3, 0, 0.4)
        params.clipGradients(maxNorm: 1)
        #expect(a.grad[0] == 0.3 && b.grad[0] == 0.4, "below the maximum: unchanged")
    }
}
