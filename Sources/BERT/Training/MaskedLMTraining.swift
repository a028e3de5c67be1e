import Foundation
import Kernels
import Tokenizers

/// `*ForMaskedLM` with gradients: the encoder of any architecture that has a masked-LM head
/// (no pooler), the head (`MaskedLMHead`: the checkpoint's, or a new one), cross-entropy over
/// the masked tokens, their mean (BertForMaskedLM's CrossEntropyLoss, labels -100 elsewhere).
/// The head runs on the masked rows alone: the loss has no gradient on the others, and a
/// (tokens, V) logit table would be hundreds of MB. Two workers split a batch in halves as
/// `TokenClassifierTraining` does, each half's gradient scaled by its share of the masked tokens.
final class MaskedLMTraining {
    /// Where the head's weights come from.
    enum InitialHead {
        /// The checkpoint's `mlm.*` (runtime.masked_lm).
        case checkpoint(Config.MaskedLMSettings)
        /// New weights (a checkpoint without a head, such as all-MiniLM-L6-v2): `MaskedLMHead(new:)`.
        case new(Config.MaskedLMSettings, seed: UInt64)
    }

    let config: Config
    let parameters: ParameterSet
    let encoder: Encoder
    let head: MaskedLMHead
    let texts: [MaskableText]
    let masking: TokenMasking
    /// Seeds the masks (`TokenMasking.generator`).
    let seed: UInt64
    let padId: Int
    private let replica: MaskedLMTraining?

    init(config c: Config, checkpoint: SafetensorsFile, head initial: InitialHead, texts: [MaskableText], masking: TokenMasking,
         seed: UInt64, padId: Int, dropout p: Float, workers: Int = 1, precision: Precision = .fp32,
         sharingValuesOf owner: ParameterSet? = nil) throws {
        config = c
        let parameters = ParameterSet(owner.map { .replica(of: $0) } ?? .training)
        self.parameters = parameters
        let root = Weights(checkpoint, parameters: parameters, precision: precision).scope("")
        encoder = try Encoder(root, config: c, dropout: p, pooler: false)
        switch initial {
        case .checkpoint(let settings): head = try MaskedLMHead(root, config: c, settings: settings)
        case .new(let settings, let seed): head = try MaskedLMHead(new: settings, config: c, seed: seed, parameters: root)
        }
        if owner == nil { try encoder.check(texts.map(\.encoding)) }
        (self.texts, self.masking, self.seed, self.padId) = (texts, masking, seed, padId)
        replica = workers > 1 && owner == nil
            ? try MaskedLMTraining(config: c, checkpoint: checkpoint, head: initial, texts: texts, masking: masking, seed: seed,
                                   padId: padId, dropout: p, workers: 1, precision: precision, sharingValuesOf: parameters)
            : nil
    }

    /// The validation masks' epoch: one fixed set, the same every epoch and in `bert evaluate`.
    static let heldOutEpoch = UInt64.max

    /// `examples` masked as epoch `epoch` masks them.
    func masked(_ examples: [Int], epoch: UInt64) -> [MaskedText] {
        examples.map { e in
            var rng = TokenMasking.generator(seed: seed, epoch: epoch, example: e)
            return masking(texts[e], rng: &rng)
        }
    }

    /// Held-out `examples` masked once, each by its place among them (`heldOutEpoch`), so a
    /// validation file masks the same in `bert finetune` and in `bert evaluate --task mlm`.
    func maskedHeldOut(_ examples: [Int]) -> [MaskedText] {
        examples.enumerated().map { k, e in
            var rng = TokenMasking.generator(seed: seed, epoch: Self.heldOutEpoch, example: k)
            return masking(texts[e], rng: &rng)
        }
    }

    /// The mean loss over the masked tokens of `batch` and how many there are; training:
    /// gradients accumulated, dropout drawn from `rng` (the second half's from a generator
    /// seeded by its next value).
    func run(_ batch: [MaskedText], training: Bool, rng: inout SplitMix64?) -> (loss: Float, masked: Int) {
        let total = batch.reduce(0) { $0 + $1.maskedCount }
        var generators: [SplitMix64?] = [training ? rng : nil, nil]
        guard let replica, batch.count >= 2 else {
            let r = pass(batch, backward: training, maskedInBatch: total, rng: &generators[0])
            if training { rng = generators[0] }
            return r
        }
        if training, rng != nil { generators[1] = SplitMix64(seed: generators[0]!.next()) }
        let cut = (batch.count + 1) / 2
        let halves = [Array(batch[..<cut]), Array(batch[cut...])]
        let models = [self, replica]
        var results: [(loss: Float, masked: Int)] = [(0, 0), (0, 0)]
        results.withUnsafeMutableBufferPointer { out in
            generators.withUnsafeMutableBufferPointer { gens in
                let shared = UncheckedSendable((out, gens))
                Halves.run { k in
                    let (out, gens) = shared.value
                    out[k] = models[k].pass(halves[k], backward: training, maskedInBatch: total, rng: &gens[k])
                }
            }
        }
        if training {
            parameters.absorbGradients(of: replica.parameters)
            rng = generators[0]
        }
        let loss = total == 0 ? 0 : (results[0].loss * Float(results[0].masked) + results[1].loss * Float(results[1].masked)) / Float(total)
        return (loss, total)
    }

    /// One forward (and backward) over `batch`, these texts holding their share of the
    /// batch's `maskedInBatch` masked tokens.
    private func pass(_ batch: [MaskedText], backward: Bool, maskedInBatch: Int, rng: inout SplitMix64?) -> (loss: Float, masked: Int) {
        let packed = Batch(batch.map(\.encoding), padId: padId)
        let pass = ForwardPass(batch: packed, scratch: Scratch(config: config), saving: true, rng: rng)
        let (N, C, V) = (packed.tokens, config.hiddenSize, head.vocabularySize)
        let x = Buffer(N * C)  // (ΣL, C): real tokens only
        let saved = encoder.forward(pass, into: x.pointer)!
        rng = pass.rng
        let labels = batch.flatMap(\.labels)
        let rows = labels.indices.filter { labels[$0] != WordEncoding.ignored }  // the masked tokens' rows of x
        guard !rows.isEmpty else { return (0, 0) }
        let M = rows.count
        let h = Buffer(M * C)  // (M, C)
        for (k, r) in rows.enumerated() { (h.pointer + k * C).update(from: x.pointer + r * C, count: C) }
        let logits = Buffer(M * V)
        let savedHead = head.forward(h.pointer, rows: M, into: logits.pointer)
        let dLogits = backward ? Buffer(M * V) : nil
        let loss = TrainingKernels.crossEntropy(logits: logits.pointer, labels: rows.map { labels[$0] }, rows: M, cols: V,
                                                grad: dLogits?.pointer)
        guard let dLogits else { return (loss, M) }
        let weight = Float(M) / Float(maskedInBatch)
        if weight != 1 { TrainingKernels.scale(dLogits.pointer, by: weight, count: M * V) }
        let dh = Buffer(M * C)
        head.backward(dLogits.pointer, saved: savedHead, rows: M, into: dh.pointer)
        let dx = Buffer(N * C)
        dx.zero()
        for (k, r) in rows.enumerated() { (dx.pointer + r * C).update(from: dh.pointer + k * C, count: C) }
        encoder.backward(dx.pointer, saved: saved, pass: pass)
        return (loss, M)
    }
}

extension MaskedLMHead {
    /// A new head to train on an encoder that has none: dense weight normal(0, 0.02) from
    /// SplitMix64(seed + 1) (`initialClassifier`'s draw, as tools/golden/finetune_mlm.py
    /// makes it), its bias zero, LayerNorm one and zero, the decoder the word-embedding
    /// table (tied, as `*ForMaskedLM` ties it) and its bias zero: transformers' _init_weights.
    init(new m: Config.MaskedLMSettings, config c: Config, seed: UInt64, parameters root: WeightScope) throws {
        let (V, E) = (c.vocabSize, c.embeddingSize)
        precondition(m.tied, "a new head's decoder is the word-embedding table")
        let w = root.scope("mlm")
        let initial = initialClassifier(labels: E, hidden: c.hiddenSize, seed: seed)
        dense = Linear(weight: w.newParameter("dense.weight", initial.weight), bias: w.newParameter("dense.bias", initial.bias))
        activation = Config.activation(named: m.activation) ?? .gelu
        norm = LayerNorm(weight: w.newParameter("LayerNorm.weight", Tensor(shape: [E], values: [Float](repeating: 1, count: E))),
                         bias: w.newParameter("LayerNorm.bias", Tensor(zeros: [E])), eps: m.layerNormEps)
        decoder = Linear(weight: try root.parameter("embeddings.word_embeddings.weight", shape: [V, E]),
                         bias: w.newParameter("bias", Tensor(zeros: [V])))
    }

    /// What a new head computes for `c`'s architecture, as tools/convert describes the head
    /// transformers would give it (masked_lm_settings): gelu in RoBERTa's, XLM-R's, MPNet's
    /// and ELECTRA's heads, hidden_act in BERT's and ALBERT's; DistilBERT's LayerNorm eps 1e-12.
    static func newSettings(for c: Config) -> Config.MaskedLMSettings {
        let gelu = ["roberta", "xlm-roberta", "mpnet", "electra"].contains(c.modelType)
        return Config.MaskedLMSettings(activation: gelu ? "gelu" : c.hiddenAct,
                                       layerNormEps: c.modelType == "distilbert" ? 1e-12 : c.layerNormEps, tied: true)
    }
}
