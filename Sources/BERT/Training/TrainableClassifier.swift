import Foundation
import Kernels
import Tokenizers

#if os(Linux)
/// glibc's mallopt(3), which <malloc.h> declares and the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// A classifier the fine-tuner can train: given example indices and their class ids,
/// logits (B, L) and the mean cross-entropy, with gradients accumulated when training.
protocol TrainableClassifier: AnyObject {
    var parameters: ParameterSet { get }
    var labelCount: Int { get }
    /// training: dropout on (when `rng` is given) and gradients accumulated.
    func run(_ examples: [Int], labels: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float])
}

/// The classifier's initial weights, as Hugging Face's _init_weights with
/// initializer_range 0.02: normal(0, 0.02) weights (drawn with SplitMix64(seed + 1),
/// row-major, so tools/finetune_reference.py draws the same ones), zero bias.
func initialClassifier(labels: Int, hidden: Int, seed: UInt64) -> (weight: Tensor, bias: Tensor) {
    var rng = SplitMix64(seed: seed &+ 1)
    let w = (0..<labels * hidden).map { _ in Float(0.02 * rng.normal()) }
    return (Tensor(shape: [labels, hidden], values: w), Tensor(zeros: [labels]))
}

/// BertForSequenceClassification with gradients: the encoder, the pooler
/// tanh(dense(h[CLS])), dropout, the classifier Linear; cross-entropy.
///
/// With two workers, a batch's halves run at once on the two cores (one OpenBLAS thread
/// each): the second half through a replica that shares these weights and accumulates
/// its own gradients, which are then added to ours. Element-wise work, which would leave
/// one core idle under OpenBLAS's threads, runs on both.
final class SequenceClassifierTraining: TrainableClassifier {
    let config: Config
    let parameters: ParameterSet
    let embeddings: TrainableEmbeddings
    let layers: [TrainableEncoderLayer]
    let pooler, classifier: TrainableLinear
    let dropout: Dropout
    let encodings: [Encoding]
    let padId: Int
    /// The second worker's replica (nil with one worker).
    private let replica: SequenceClassifierTraining?
    var labelCount: Int { classifier.outFeatures }
    /// Two workers where there are two cores (`Threading.batchWorkers`), else one.
    static var defaultWorkers: Int { min(Threading.batchWorkers, 2) }

    /// Loads every encoder and pooler tensor of `checkpoint` (as `Encoder` checks them)
    /// and takes the classifier's initial weights. `workers`: 1, or 2 to split each batch
    /// in halves over the two cores.
    init(config c: Config, checkpoint: SafetensorsFile, classifier head: (weight: Tensor, bias: Tensor),
         encodings: [Encoding], padId: Int, dropout p: Float, workers: Int = defaultWorkers,
         sharingValuesOf owner: ParameterSet? = nil) throws {
        config = c
        let parameters = ParameterSet(sharingValuesOf: owner)
        self.parameters = parameters
        let root = Weights(checkpoint).scope("")
        embeddings = try TrainableEmbeddings(parameters, from: root.scope("embeddings"), config: c, dropout: p)
        layers = try (0..<c.numHiddenLayers).map {
            try TrainableEncoderLayer(parameters, "encoder.layer.\($0)", from: root.scope("encoder.layer.\($0)"),
                                      config: c, attentionDropout: p, hiddenDropout: p)
        }
        pooler = try TrainableLinear(parameters, "pooler.dense", from: root.scope("pooler.dense"), in: c.hiddenSize, out: c.hiddenSize)
        classifier = TrainableLinear(weight: parameters.add("classifier.weight", head.weight),
                                     bias: parameters.add("classifier.bias", head.bias))
        dropout = Dropout(p: p)
        self.encodings = encodings
        self.padId = padId
        if owner == nil { Self.keepFreedMemory() }
        replica = workers > 1 && owner == nil
            ? try SequenceClassifierTraining(config: c, checkpoint: checkpoint, classifier: head, encodings: encodings,
                                             padId: padId, dropout: p, workers: 1, sharingValuesOf: parameters)
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
    func run(_ examples: [Int], labels: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        var generators: [SplitMix64?] = [training ? rng : nil, nil]
        guard let replica, examples.count >= 2 else {
            let result = pass(examples, labels: labels, backward: training, weight: 1, rng: &generators[0])
            if training { rng = generators[0] }
            return result
        }
        if training, rng != nil { generators[1] = SplitMix64(seed: generators[0]!.next()) }
        let cut = (examples.count + 1) / 2
        let halves = [0..<cut, cut..<examples.count]
        let models = [self, replica]
        var results: [(loss: Float, logits: [Float])] = [(0, []), (0, [])]
        let saved = BLAS.threads
        BLAS.threads = 1
        results.withUnsafeMutableBufferPointer { out in
            generators.withUnsafeMutableBufferPointer { gens in
                let shared = UncheckedSendable((out, gens))
                Halves.run { k in
                    let (out, gens) = shared.value
                    let h = halves[k]
                    out[k] = models[k].pass(Array(examples[h]), labels: Array(labels[h]), backward: training,
                                            weight: Float(h.count) / Float(examples.count), rng: &gens[k])
                }
            }
        }
        BLAS.threads = saved
        if training {
            parameters.absorbGradients(of: replica.parameters)
            rng = generators[0]
        }
        let loss = (results[0].loss * Float(cut) + results[1].loss * Float(examples.count - cut)) / Float(examples.count)
        return (loss, results[0].logits + results[1].logits)
    }

    /// One forward (and backward) over `examples`; `weight` scales the mean loss's
    /// gradient, the share of the whole batch these examples are.
    private func pass(_ examples: [Int], labels: [Int], backward: Bool, weight: Float, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let batch = Batch(examples.map { encodings[$0] }, padId: padId)
        let (B, C, L, starts) = (batch.size, config.hiddenSize, labelCount, batch.starts)
        let x = Buffer(batch.tokens * C)  // (ΣL, C): real tokens only
        let savedEmbeddings = embeddings.forward(batch, into: x.pointer, rng: &rng)
        var saved: [TrainableEncoderLayer.Saved] = []
        for layer in layers { saved.append(layer.forward(x.pointer, batch: batch, rng: &rng)) }
        // pooled (B, C) = tanh(dense(h[CLS])) → dropout → logits (B, L)
        let cls = Buffer(B * C)
        for b in 0..<B { (cls.pointer + b * C).update(from: x.pointer + starts[b] * C, count: C) }
        let pooled = Buffer(B * C)
        pooler.forward(cls.pointer, rows: B, into: pooled.pointer)
        TrainingKernels.tanh(pooled.pointer, count: B * C)
        let mask = dropout.mask(B * C, &rng)
        let dropped = Buffer(copying: pooled.pointer, count: B * C)
        if let mask { TrainingKernels.multiply(dropped.pointer, by: mask.pointer, count: B * C) }
        let logits = Buffer(B * L)
        classifier.forward(dropped.pointer, rows: B, into: logits.pointer)
        let dLogits = Buffer(B * L)
        let loss = TrainingKernels.crossEntropy(logits: logits.pointer, labels: labels, rows: B, cols: L,
                                                grad: backward ? dLogits.pointer : nil)
        guard backward else { return (loss, logits.values) }
        if weight != 1 { TrainingKernels.scale(dLogits.pointer, by: weight, count: B * L) }
        let dPooled = Buffer(B * C)
        classifier.backward(dLogits.pointer, input: dropped.pointer, rows: B, dx: dPooled.pointer)
        if let mask { TrainingKernels.multiply(dPooled.pointer, by: mask.pointer, count: B * C) }
        TrainingKernels.tanhBackward(outputs: pooled.pointer, grad: dPooled.pointer, count: B * C)
        let dCls = Buffer(B * C)
        pooler.backward(dPooled.pointer, input: cls.pointer, rows: B, dx: dCls.pointer)
        let dx = Buffer(batch.tokens * C)
        for b in 0..<B { (dx.pointer + starts[b] * C).update(from: dCls.pointer + b * C, count: C) }
        for (layer, s) in zip(layers, saved).reversed() { layer.backward(dx.pointer, saved: s, batch: batch) }
        embeddings.backward(dx.pointer, saved: savedEmbeddings, batch: batch)
        return (loss, logits.values)
    }
}

/// A linear head over fixed features (the cached sentence embeddings of --freeze-encoder).
final class LinearHeadTraining: TrainableClassifier {
    let parameters = ParameterSet()
    let classifier: TrainableLinear
    let features: [[Float]]
    var labelCount: Int { classifier.outFeatures }

    init(features: [[Float]], classifier head: (weight: Tensor, bias: Tensor)) {
        self.features = features
        classifier = TrainableLinear(weight: parameters.add("classifier.weight", head.weight),
                                     bias: parameters.add("classifier.bias", head.bias))
    }

    func run(_ examples: [Int], labels: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let (B, C, L) = (examples.count, classifier.inFeatures, labelCount)
        let x = Buffer(B * C)
        for (b, e) in examples.enumerated() { (x.pointer + b * C).update(from: features[e], count: C) }
        let logits = Buffer(B * L), dLogits = Buffer(B * L)
        classifier.forward(x.pointer, rows: B, into: logits.pointer)
        let l = TrainingKernels.crossEntropy(logits: logits.pointer, labels: labels, rows: B, cols: L,
                                             grad: training ? dLogits.pointer : nil)
        if training { classifier.backward(dLogits.pointer, input: x.pointer, rows: B, dx: nil) }
        return (l, logits.values)
    }
}
