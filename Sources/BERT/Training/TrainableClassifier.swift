import Foundation
import Kernels
import Tokenizers

#if os(Linux)
/// glibc's mallopt(3), which <malloc.h> declares and the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A classifier the fine-tuner can train: given example indices and their targets,
/// logits (B, L) and the mean loss of its problem type (`HeadLoss`), with gradients
/// accumulated when training.
protocol TrainableClassifier: AnyObject {
    var parameters: ParameterSet { get }
    var labelCount: Int { get }
    /// training: dropout on (when `rng` is given) and gradients accumulated.
    func run(_ examples: [Int], targets: Targets, training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float])
}

extension TrainableClassifier {
    /// A single-label classifier's step on class ids.
    func run(_ examples: [Int], labels: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        run(examples, targets: .classes(labels), training: training, rng: &rng)
    }
}

/// The classifier's initial weights, as Hugging Face's _init_weights with
/// initializer_range 0.02: normal(0, 0.02) weights (drawn with SplitMix64(seed + 1),
/// row-major, so tools/finetune_reference.py draws the same ones), zero bias.
func initialClassifier(labels: Int, hidden: Int, seed: UInt64) -> (weight: Tensor, bias: Tensor) {
    var rng = SplitMix64(seed: seed &+ 1)
    let w = (0..<labels * hidden).map { _ in Float(0.02 * rng.normal()) }
    return (Tensor(shape: [labels, hidden], values: w), Tensor(zeros: [labels]))
}

/// How a trained head starts: new weights drawn from a seed (fine-tuning an encoder), or
/// the ones a classifier checkpoint already has (its `classifier.*` tensors).
enum InitialHead {
    case new(features: ClassifierHead.Features, labels: [String], seed: UInt64, problem: ClassifierHead.Problem = .singleLabel)
    case checkpoint
}

/// `*ForSequenceClassification` with gradients: the encoder of any architecture, its
/// head (the source architecture's), cross-entropy. The layers are the same ones
/// inference runs (Layers/), here over owned parameters.
///
/// With two workers, a batch's halves run at once on the two cores (one OpenBLAS thread
/// each): the second half through a replica that shares these weights and accumulates
/// its own gradients, which are then added to ours. Element-wise work, which would leave
/// one core idle under OpenBLAS's threads, runs on both.
final class SequenceClassifierTraining: TrainableClassifier {
    let config: Config
    let parameters: ParameterSet
    let encoder: Encoder
    let head: ClassifierHead
    let encodings: [Encoding]
    let padId: Int
    /// The second worker's replica (nil with one worker).
    private let replica: SequenceClassifierTraining?
    var labelCount: Int { head.labels.count }

    /// Loads every encoder tensor of `checkpoint` (as `Encoder` checks them) as trainable
    /// parameters and makes or loads the head. `workers`: 1, or 2 to split each batch in
    /// halves over the two cores. Throws if an encoding does not fit the model (`Encoder.check`).
    init(config c: Config, checkpoint: SafetensorsFile, head initial: InitialHead,
         encodings: [Encoding], padId: Int, dropout p: Float, workers: Int = 1, precision: Precision = .fp32,
         sharingValuesOf owner: ParameterSet? = nil) throws {
        config = c
        let parameters = ParameterSet(owner.map { .replica(of: $0) } ?? .training)
        self.parameters = parameters
        let weights = Weights(checkpoint, parameters: parameters, precision: precision)
        let root = weights.scope("")
        let features: ClassifierHead.Features
        switch initial {
        case .new(let f, _, _, _): features = f
        case .checkpoint: features = c.runtime.classifier?.features ?? .pooler
        }
        encoder = try Encoder(root, config: c, dropout: p, pooler: features == .pooler)
        switch initial {
        case .new(let features, let labels, let seed, let problem):
            head = try ClassifierHead(new: features, problem: problem, labels: labels, config: c, seed: seed,
                                      pooler: encoder.pooler, parameters: root, dropout: p)
        case .checkpoint:
            head = try ClassifierHead(root, config: c, pooler: encoder.pooler, dropout: p)
        }
        if owner == nil { try encoder.check(encodings) }
        self.encodings = encodings
        self.padId = padId
        if owner == nil { Self.keepFreedMemory() }
        replica = workers > 1 && owner == nil
            ? try SequenceClassifierTraining(config: c, checkpoint: checkpoint, head: initial, encodings: encodings,
                                             padId: padId, dropout: p, workers: 1, precision: precision, sharingValuesOf: parameters)
            : nil
    }

    /// A step allocates and frees a few hundred MB of activations. glibc would hand big
    /// blocks back to the kernel and take them again next step, zero-filling every page
    /// (7% of a step); keeping freed memory in the heap avoids that.
    private static func keepFreedMemory() {
        #if os(Linux)
        _ = glibcMallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD: blocks up to 32 MB come from the heap
        _ = glibcMallopt(-1, 1 << 30)   // M_TRIM_THRESHOLD: keep up to 1 GB of freed heap
        #endif
    }

    /// Training with dropout draws the first half's masks from `rng` and the second
    /// half's from a generator seeded by `rng`'s next value, so a run is reproducible for
    /// a given worker count.
    func run(_ examples: [Int], targets: Targets, training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        var generators: [SplitMix64?] = [training ? rng : nil, nil]
        guard let replica, examples.count >= 2 else {
            let result = pass(examples, targets: targets, backward: training, weight: 1, rng: &generators[0])
            if training { rng = generators[0] }
            return result
        }
        if training, rng != nil { generators[1] = SplitMix64(seed: generators[0]!.next()) }
        let cut = (examples.count + 1) / 2
        let halves = [0..<cut, cut..<examples.count]
        let models = [self, replica]
        var results: [(loss: Float, logits: [Float])] = [(0, []), (0, [])]
        results.withUnsafeMutableBufferPointer { out in
            generators.withUnsafeMutableBufferPointer { gens in
                let shared = UncheckedSendable((out, gens))
                Halves.run { k in
                    let (out, gens) = shared.value
                    let h = halves[k]
                    out[k] = models[k].pass(Array(examples[h]), targets: targets.rows(h), backward: training,
                                            weight: Float(h.count) / Float(examples.count), rng: &gens[k])
                }
            }
        }
        if training {
            parameters.absorbGradients(of: replica.parameters)
            rng = generators[0]
        }
        let loss = (results[0].loss * Float(cut) + results[1].loss * Float(examples.count - cut)) / Float(examples.count)
        return (loss, results[0].logits + results[1].logits)
    }

    /// One forward (and backward) over `examples`; `weight` scales the mean loss's
    /// gradient, the share of the whole batch these examples are.
    private func pass(_ examples: [Int], targets: Targets, backward: Bool, weight: Float, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let batch = Batch(examples.map { encodings[$0] }, padId: padId)
        let pass = ForwardPass(batch: batch, scratch: Scratch(config: config), saving: true, rng: rng)
        let (B, C, L) = (batch.size, config.hiddenSize, labelCount)
        let x = Buffer(batch.tokens * C)  // (ΣL, C): real tokens only
        let saved = encoder.forward(pass, into: x.pointer)!
        let logits = Buffer(B * L)
        let savedHead = head.forward(x.pointer, pass, into: logits.pointer)
        rng = pass.rng
        let dLogits = Buffer(B * L)
        let loss = HeadLoss(problem: head.problem)(logits.pointer, targets, rows: B, cols: L, grad: backward ? dLogits.pointer : nil)
        guard backward else { return (loss, logits.values) }
        if weight != 1 { TrainingKernels.scale(dLogits.pointer, by: weight, count: B * L) }
        let dx = Buffer(batch.tokens * C)
        head.backward(dLogits.pointer, saved: savedHead, pass: pass, into: dx.pointer)
        encoder.backward(dx.pointer, saved: saved, pass: pass)
        return (loss, logits.values)
    }
}

/// A linear head over fixed features (the cached sentence embeddings of --freeze-encoder).
final class LinearHeadTraining: TrainableClassifier {
    let parameters = ParameterSet(.training)
    let classifier: Linear
    let features: [[Float]]
    let loss: HeadLoss
    var labelCount: Int { classifier.outFeatures }

    init(features: [[Float]], classifier head: (weight: Tensor, bias: Tensor), problem: ClassifierHead.Problem = .singleLabel) {
        self.features = features
        loss = HeadLoss(problem: problem)
        classifier = Linear(weight: parameters.add("classifier.weight", head.weight),
                            bias: parameters.add("classifier.bias", head.bias))
    }

    func run(_ examples: [Int], targets: Targets, training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let (B, C, L) = (examples.count, classifier.inFeatures, labelCount)
        let x = Buffer(B * C)
        for (b, e) in examples.enumerated() { (x.pointer + b * C).update(from: features[e], count: C) }
        let logits = Buffer(B * L), dLogits = Buffer(B * L)
        classifier(x.pointer, rows: B, into: logits.pointer)
        let l = loss(logits.pointer, targets, rows: B, cols: L, grad: training ? dLogits.pointer : nil)
        if training { classifier.backward(dLogits.pointer, input: x.pointer, rows: B, dx: nil) }
        return (l, logits.values)
    }
}
