import Foundation
import Testing
@testable import BERT

/// What tools/golden/finetune_embedding.py wrote from sentence-transformers.
struct EmbeddingObjectivesGolden: Decodable {
    struct Run: Decodable {
        let losses: [Double]
        let clipNormStep1: Double
        let columns: Int
    }
    let rows: [[String]]
    let scores: [Double]
    let ids: [[[Int]]]
    let wordIds: [Int]
    let batchSize: Int
    let maxLength: Int
    let steps: Int
    let totalSteps: Int
    let learningRate: Double
    let mnrlPairs: Run
    let mnrlTriplets: Run
    let cosent: Run
    let cosine: Run
}

/// The bi-encoder trained by each embedding loss against sentence-transformers' own loss
/// classes on the same tiny encoder (mean pooling, not normalized), data and order, dropout
/// off: the first 10 losses, the clipped norm and every gradient after step 1 within 1e-4
/// relative, with one worker and with two (the batch's texts split over the cores).
@Suite(.serialized) struct EmbeddingObjectiveGoldenTests {
    let golden: EmbeddingObjectivesGolden
    let reference: SafetensorsFile
    let directory: ModelDirectory

    init() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        golden = try decoder.decode(EmbeddingObjectivesGolden.self,
                                    from: Data(contentsOf: Checkout.resources.appendingPathComponent("embedding_objectives_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("embedding_objectives_golden.safetensors").path)
        directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))
    }

    /// The golden files' name of a run, its figures, its loss and the scores it trains on.
    func run(_ name: String) -> (EmbeddingObjectivesGolden.Run, EmbeddingLoss, [Float]) {
        switch name {
        case "mnrl_pairs": return (golden.mnrlPairs, .multipleNegatives, [])
        case "mnrl_triplets": return (golden.mnrlTriplets, .multipleNegatives, [])
        case "cosent": return (golden.cosent, .cosent, golden.scores.map(Float.init))
        default: return (golden.cosine, .cosine, golden.scores.map { Float($0 / 5) })
        }
    }

    @Test(arguments: [("mnrl_pairs", 1), ("mnrl_pairs", 2), ("mnrl_triplets", 1), ("mnrl_triplets", 2),
                      ("cosent", 1), ("cosent", 2), ("cosine", 1), ("cosine", 2)])
    func trainingMatchesSentenceTransformers(name: String, workers: Int) throws {
        let (run, loss, scores) = run(name)
        let K = run.columns
        let tokenizer = try directory.loadTokenizer()
        let encodings = try golden.rows.flatMap { row in try row.prefix(K).map { try tokenizer.encode($0, maxLength: golden.maxLength) } }
        #expect(encodings.map(\.ids) == golden.ids.flatMap { $0.prefix(K) })
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let model = try EmbeddingTraining(config: directory.config, checkpoint: checkpoint, loss: loss, columns: K,
                                          encodings: encodings, padId: tokenizer.padId, dropout: 0, workers: workers)
        let optimizer = Optimizer(model.parameters, learningRate: golden.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        let batches = stride(from: 0, to: golden.rows.count, by: golden.batchSize).map { Array($0..<$0 + golden.batchSize) }
        var losses: [Double] = []
        var rng: SplitMix64? = nil
        var gradientError = 0.0
        for step in 0..<golden.steps {
            let b = batches[step % batches.count]
            let targets: Targets = .values(scores.isEmpty ? [] : b.map { scores[$0] }, width: 1)
            let (l, _) = model.run(b, targets: targets, training: true, rng: &rng)
            losses.append(Double(l))
            if step == 0 { gradientError = try checkGradients(model, name) }
            let clipNorm = optimizer.apply()
            if step == 0 { #expect(abs(clipNorm - run.clipNormStep1) / run.clipNormStep1 < 1e-4, "\(name) clipped norm") }
        }
        for (k, (ours, theirs)) in zip(losses, run.losses).enumerated() {
            #expect(abs(ours - theirs) / abs(theirs) < 1e-4, "\(name) loss \(k + 1): \(ours) vs \(theirs)")
        }
        let lossError = zip(losses, run.losses).map { abs($0 - $1) / abs($1) }.max()!
        print("EmbeddingObjectiveGoldenTests: \(name), \(workers) worker(s): worst loss error \(lossError), worst gradient error \(gradientError)")
    }

    /// The worst relative error of the gradients compared.
    @discardableResult
    func checkGradients(_ model: EmbeddingTraining, _ name: String) throws -> Double {
        var compared = 0
        var worst = 0.0
        for p in model.parameters.all {
            var grad = p.grad.values
            var key = "\(name).grad.\(p.name)"
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
                worst = max(worst, err)
            }
            compared += 1
        }
        #expect(compared == 37, "every encoder parameter compared")
        return worst
    }

    /// The loss's dL/de against central finite differences of the loss itself (Double steps
    /// on Float embeddings), for each loss on a small random batch.
    @Test(arguments: EmbeddingLoss.allCases)
    func lossGradientMatchesFiniteDifferences(loss: EmbeddingLoss) {
        let (B, K, C) = (4, loss.scored ? 2 : 3, 5)
        var rng = SplitMix64(seed: 7)
        var e = (0..<K * B * C).map { _ in Float(rng.normal()) }
        let scores: [Float] = [0.1, 0.9, 0.4, 0.7]
        var grad = [Float](repeating: 0, count: e.count)
        _ = loss(e, rows: B, columns: K, dimension: C, scores: scores, grad: &grad)
        let h: Float = 1e-3
        var worst = 0.0
        for i in e.indices {
            let x = e[i]
            e[i] = x + h
            let up = Double(loss(e, rows: B, columns: K, dimension: C, scores: scores, grad: nil))
            e[i] = x - h
            let down = Double(loss(e, rows: B, columns: K, dimension: C, scores: scores, grad: nil))
            e[i] = x
            worst = max(worst, abs((up - down) / Double(2 * h) - Double(grad[i])))
        }
        #expect(worst < 2e-3, "\(loss): worst |finite difference − gradient| \(worst)")
    }
}
