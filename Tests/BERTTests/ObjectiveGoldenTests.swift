import Foundation
import Testing
@testable import BERT

/// What tools/golden/finetune_objectives.py wrote from transformers.
struct ObjectivesGolden: Decodable {
    struct Run: Decodable {
        let losses: [Double]
        let clipNormStep1: Double
        let learningRate: Double
    }
    struct Task: Decodable { let full: Run, head: Run }
    let rows: [[String]]
    let scores: [Double]
    let labels: [String]
    let labelLists: [[String]]
    let ids: [[Int]]
    let wordIds: [Int]
    let seed: UInt64
    let batchSize: Int
    let maxLength: Int
    let steps: Int
    let totalSteps: Int
    let regression: Task
    let multiLabel: Task
}

/// Regression (MSE) and multi-label (BCE per label) against transformers computing its own
/// loss on the same tiny encoder, seeded head, data and order, dropout off: the first 10
/// losses, every gradient after step 1 and the head after 10 steps within 1e-4 relative,
/// with one worker and with two.
@Suite(.serialized) struct ObjectiveGoldenTests {
    let golden: ObjectivesGolden
    let reference: SafetensorsFile
    let directory: ModelDirectory

    init() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        golden = try decoder.decode(ObjectivesGolden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("objectives_golden.json")))
        reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("objectives_golden.safetensors").path)
        directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/regression"))
    }

    func batches() -> [[Int]] {
        stride(from: 0, to: golden.rows.count, by: golden.batchSize).map { Array($0..<$0 + golden.batchSize) }
    }

    /// The task's name in the golden files, head problem, output labels and per-row targets.
    func task(_ problem: ClassifierHead.Problem) -> (String, ObjectivesGolden.Task, [String], [Float]) {
        switch problem {
        case .regression: return ("regression", golden.regression, ["LABEL_0"], golden.scores.map(Float.init))
        default:
            let hot = golden.labelLists.flatMap { list in golden.labels.map { list.contains($0) ? Float(1) : 0 } }
            return ("multi_label", golden.multiLabel, golden.labels, hot)
        }
    }

    @Test(arguments: [(ClassifierHead.Problem.regression, 1), (.regression, 2), (.multiLabel, 1), (.multiLabel, 2)])
    func fullFineTuningMatchesTransformers(problem: ClassifierHead.Problem, workers: Int) throws {
        let (name, run, labels, values) = task(problem)
        let tokenizer = try directory.loadTokenizer()
        let encodings = try golden.rows.map { try tokenizer.encode($0[0], pair: $0[1], maxLength: golden.maxLength, truncation: .longestFirst) }
        #expect(encodings.map(\.ids) == golden.ids)
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let model = try SequenceClassifierTraining(
            config: directory.config, checkpoint: checkpoint,
            head: .new(features: .pooler, labels: labels, seed: golden.seed, problem: problem),
            encodings: encodings, padId: tokenizer.padId, dropout: 0, workers: workers)
        let optimizer = Optimizer(model.parameters, learningRate: run.full.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        var losses: [Double] = []
        var rng: SplitMix64? = nil
        for step in 0..<golden.steps {
            let b = batches()[step % batches().count]
            let (loss, _) = model.run(b, targets: Targets.gather(b, classes: nil, values: values, width: labels.count), training: true, rng: &rng)
            losses.append(Double(loss))
            if step == 0 { try checkGradients(model, name) }
            let clipNorm = optimizer.apply()
            if step == 0 { #expect(abs(clipNorm - run.full.clipNormStep1) / run.full.clipNormStep1 < 1e-4) }
        }
        for (k, (ours, theirs)) in zip(losses, run.full.losses).enumerated() {
            #expect(abs(ours - theirs) / abs(theirs) < 1e-4, "\(name) loss \(k + 1): \(ours) vs \(theirs)")
        }
        for p in ["classifier.weight", "classifier.bias", "pooler.dense.weight", "pooler.dense.bias"] {
            let err = relativeError(model.parameters[p]!.value.values, try reference.tensor("\(name).full.after.\(p)").values)
            #expect(err < 1e-4, "\(name) \(p) after \(golden.steps) steps: \(err)")
        }
    }

    func checkGradients(_ model: SequenceClassifierTraining, _ name: String) throws {
        var compared = 0
        for p in model.parameters.all {
            var grad = p.grad.values
            var key = "\(name).full.grad.\(p.name)"
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
        #expect(compared == 41, "every parameter compared")
    }

    @Test(arguments: [ClassifierHead.Problem.regression, .multiLabel])
    func headOnlyMatchesTransformers(problem: ClassifierHead.Problem) throws {
        let (name, run, labels, values) = task(problem)
        let embedder = try SentenceEmbedder(directory: directory)
        let encodings = try golden.rows.map { try embedder.tokenizer.encode($0[0], pair: $0[1], maxLength: golden.maxLength, truncation: .longestFirst) }
        let features = try embedder.embed(encodings: encodings, batchSize: 8)
        #expect(maxAbsDifference(features.flatMap { $0 }, try reference.tensor("\(name).head.features").values) < 1e-5)
        let model = LinearHeadTraining(features: features, classifier: initialClassifier(labels: labels.count, hidden: 32, seed: golden.seed),
                                       problem: problem)
        let optimizer = Optimizer(model.parameters, learningRate: run.head.learningRate, schedule: LinearSchedule(totalSteps: golden.totalSteps))
        var losses: [Double] = []
        var rng: SplitMix64? = nil
        for step in 0..<golden.steps {
            let b = batches()[step % batches().count]
            let (loss, _) = model.run(b, targets: Targets.gather(b, classes: nil, values: values, width: labels.count), training: true, rng: &rng)
            losses.append(Double(loss))
            if step == 0 {
                for p in ["classifier.weight", "classifier.bias"] {
                    let err = relativeError(model.parameters[p]!.grad.values, try reference.tensor("\(name).head.grad.\(p)").values)
                    #expect(err < 1e-4, "\(name) grad \(p): \(err)")
                }
            }
            optimizer.apply()
        }
        for (k, (ours, theirs)) in zip(losses, run.head.losses).enumerated() {
            #expect(abs(ours - theirs) / abs(theirs) < 1e-4, "\(name) loss \(k + 1): \(ours) vs \(theirs)")
        }
        for p in ["classifier.weight", "classifier.bias"] {
            #expect(relativeError(model.parameters[p]!.value.values, try reference.tensor("\(name).head.after.\(p)").values) < 1e-4)
        }
    }
}
