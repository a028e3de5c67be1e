import Foundation
import Kernels

/// The sequence-classification head of every architecture, for inference and training:
/// a transform of the first token's hidden state (BERT's pooler, RoBERTa's, ELECTRA's and
/// DistilBERT's `classifier.dense`), dropout, and the output Linear; or a Linear over the
/// sentence embedding. Its scores are softmax, sigmoid or the raw value, as the problem
/// type says.
public struct ClassifierHead: @unchecked Sendable {
    /// What the head reads.
    public enum Features: String, Codable, Sendable {
        /// tanh(pooler.dense(h[CLS])), then classifier: BertForSequenceClassification, ALBERT's.
        case pooler
        /// tanh(classifier.dense(h[<s>])), then classifier.out_proj: RobertaClassificationHead (MPNet's too).
        case roberta
        /// gelu(classifier.dense(h[CLS])), then classifier.out_proj: ElectraClassificationHead.
        case electra
        /// relu(classifier.dense(h[CLS])) (pre_classifier), then classifier.out_proj (classifier): DistilBERT's.
        case distilbert
        /// gelu(classifier.dense(h[CLS])) (DeBERTa's ContextPooler, pooler.dense), then classifier.out_proj (classifier).
        case deberta
        /// LayerNorm(gelu(classifier.dense(pooled))) (ModernBertPredictionHead: head.dense, head.norm), then
        /// classifier.out_proj (classifier); pooled: h[CLS] or the tokens' mean, as classifier_pooling says.
        case modernbert
        /// The sentence embedding (runtime pooling, normalized when the config says so).
        case embedding

        /// The activation after the dense transform.
        var activation: HeadActivation? {
            switch self {
            case .pooler, .roberta: return .tanh
            case .electra, .deberta, .modernbert: return .gelu
            case .distilbert: return .relu
            case .embedding: return nil
            }
        }

        /// Whether the output Linear is `classifier.out_proj` (with `classifier.dense`) rather than `classifier`.
        var hasDense: Bool { self != .pooler && self != .embedding }

        /// RobertaClassificationHead and ElectraClassificationHead drop out their input too.
        var dropsInput: Bool { self == .roberta || self == .electra }
    }

    /// Hugging Face's problem_type.
    public enum Problem: String, Codable, Sendable, CaseIterable {
        case singleLabel = "single_label_classification"
        case multiLabel = "multi_label_classification"
        case regression
    }

    public let features: Features
    public let problem: Problem
    public let labels: [String]
    /// The first token's dense transform (the encoder's pooler for `pooler` features).
    let dense: Linear?
    /// The LayerNorm after the dense transform's activation (ModernBERT's head.norm).
    let norm: LayerNorm?
    /// The head reads the mean of the real tokens instead of the first (ModernBERT's classifier_pooling "mean").
    let meanPooling: Bool
    let output: Linear  // (L, C)
    let dropout: Dropout

    /// The head of a classifier checkpoint; `pooler`: the encoder's, which `pooler` features read.
    init(_ w: WeightScope, config: Config, pooler: Linear?, dropout p: Float = 0) throws {
        labels = config.labels.isEmpty ? ["LABEL_0"] : config.labels
        features = config.runtime.classifier?.features ?? .pooler
        problem = config.problemType.flatMap(Problem.init) ?? (labels.count == 1 ? .regression : .singleLabel)
        let (C, L) = (config.hiddenSize, labels.count)
        let modern = features == .modernbert
        meanPooling = modern && config.classifierPooling == "mean"
        norm = modern ? try LayerNorm(w.scope("classifier.LayerNorm"), size: C, eps: config.layerNormEps, bias: config.normBias) : nil
        if features.hasDense {
            dense = try Linear(w.scope("classifier.dense"), in: C, out: C, bias: !modern || config.classifierBias)
            output = try Linear(w.scope("classifier.out_proj"), in: C, out: L)
        } else {
            if features == .pooler, pooler == nil {
                throw ModelError.missingTensor(path: w.weights.file.path, name: "pooler.dense.weight")
            }
            dense = features == .pooler ? pooler : nil
            output = try Linear(w.scope("classifier"), in: C, out: L)
        }
        dropout = Dropout(p: p)
    }

    /// A new head to train: the output weights normal(0, 0.02) from SplitMix64(seed + 1)
    /// (`initialClassifier`, as tools/finetune_reference.py draws them), a dense transform's
    /// from SplitMix64(seed + 3), biases zero.
    /// ModernBERT's: the dense's bias only with classifier_bias, its LayerNorm γ 1 (β 0 with norm_bias).
    init(new features: Features, problem: Problem = .singleLabel, labels: [String], config c: Config, seed: UInt64, pooler: Linear?,
         parameters w: WeightScope, dropout p: Float) throws {
        self.features = features
        self.labels = labels
        self.problem = problem
        let (L, C) = (labels.count, c.hiddenSize)
        let modern = features == .modernbert
        meanPooling = modern && c.classifierPooling == "mean"
        norm = modern ? LayerNorm(weight: w.newParameter("classifier.LayerNorm.weight", Tensor(shape: [C], values: [Float](repeating: 1, count: C))),
                                  bias: c.normBias ? w.newParameter("classifier.LayerNorm.bias", Tensor(shape: [C], values: [Float](repeating: 0, count: C))) : nil,
                                  eps: c.layerNormEps) : nil
        let initial = initialClassifier(labels: L, hidden: C, seed: seed)
        if features.hasDense {
            let d = initialClassifier(labels: C, hidden: C, seed: seed &+ 2)
            dense = Linear(weight: w.newParameter("classifier.dense.weight", d.weight),
                           bias: !modern || c.classifierBias ? w.newParameter("classifier.dense.bias", d.bias) : nil)
            output = Linear(weight: w.newParameter("classifier.out_proj.weight", initial.weight),
                            bias: w.newParameter("classifier.out_proj.bias", initial.bias))
        } else {
            if features == .pooler, pooler == nil {
                throw ModelError.missingTensor(path: w.weights.file.path, name: "pooler.dense.weight")
            }
            dense = features == .pooler ? pooler : nil
            output = Linear(weight: w.newParameter("classifier.weight", initial.weight), bias: w.newParameter("classifier.bias", initial.bias))
        }
        dropout = Dropout(p: p)
    }

    // MARK: inference

    /// The features each row's logits read: hidden (B, T, C) → (B, C).
    func features(_ hidden: Tensor, lengths: [Int], config: Config) -> [[Float]] {
        guard features != .embedding else {
            let pooled = config.runtime.pooling(hidden, lengths: lengths)
            return config.runtime.normalize ? pooled.map(Pooling.normalize) : pooled
        }
        if meanPooling { let mean = Pooling.mean; return mean(hidden, lengths: lengths) }
        let (B, T, C) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        return (0..<B).map { b in Array(UnsafeBufferPointer(start: hidden.pointer + b * T * C, count: C)) }
    }

    /// features: (B, C) → logits (B, L)
    func logits(_ x: [[Float]]) -> [[Float]] {
        let (B, C, L) = (x.count, output.inFeatures, labels.count)
        var flat = x.flatMap { $0 }
        precondition(flat.count == B * C)
        var out = [Float](repeating: 0, count: B * L)
        flat.withUnsafeMutableBufferPointer { a in
            if let dense, let activation = features.activation {
                var y = [Float](repeating: 0, count: B * C)
                y.withUnsafeMutableBufferPointer { y in
                    dense(a.baseAddress!, rows: B, into: y.baseAddress!)
                    activation.apply(y.baseAddress!, count: B * C)
                    norm?.forward(y.baseAddress!, rows: B)
                    a.baseAddress!.update(from: y.baseAddress!, count: B * C)
                }
            }
            out.withUnsafeMutableBufferPointer { y in output(a.baseAddress!, rows: B, into: y.baseAddress!) }
        }
        return (0..<B).map { Array(out[$0 * L..<($0 + 1) * L]) }
    }

    /// logits (L) → scores (L): probabilities for classification, the raw value for regression.
    func scores(_ logits: [Float]) -> [Float] {
        switch problem {
        case .singleLabel:
            let m = logits.max() ?? 0
            let e = logits.map { Foundation.exp(Double($0 - m)) }
            let total = e.reduce(0, +)
            return e.map { Float($0 / total) }
        case .multiLabel:
            return logits.map { 1 / (1 + Foundation.exp(-$0)) }
        case .regression:
            return logits
        }
    }

    // MARK: training

    final class Saved {
        let input: Buffer          // (B, C): the first tokens, after the input dropout
        var inputMask: Buffer?
        var transformed: Buffer?   // (B, C): after dense and activation
        var activationInput: Buffer?  // (B, C): dense's output, for GELU's and ReLU's backward
        var norm: LayerNorm.Saved?    // the LayerNorm after the activation
        var normalized: Buffer?       // (B, C): its output
        var mask: Buffer?
        let dropped: Buffer        // (B, C): the output Linear's input
        init(rows B: Int, hidden C: Int) { (input, dropped) = (Buffer(B * C), Buffer(B * C)) }
    }

    /// x: (ΣL, C) packed last hidden states → logits (B, L), keeping what the backward needs.
    func forward(_ x: UnsafePointer<Float>, _ pass: ForwardPass, into logits: UnsafeMutablePointer<Float>) -> Saved {
        let (B, C) = (pass.batch.size, output.inFeatures)
        let s = Saved(rows: B, hidden: C)
        for b in 0..<B {
            let row = s.input.pointer + b * C
            guard meanPooling else { row.update(from: x + pass.starts[b] * C, count: C); continue }
            let L = pass.batch.lengths[b]
            for t in 0..<L { Elementwise.add(x + (pass.starts[b] + t) * C, to: row, count: C) }
            TrainingKernels.scale(row, by: 1 / Float(L), count: C)
        }
        if features.dropsInput, let m = dropout.mask(B * C, &pass.rng) {
            s.inputMask = m
            TrainingKernels.multiply(s.input.pointer, by: m.pointer, count: B * C)
        }
        var features = UnsafePointer(s.input.pointer)
        if let dense, let activation = self.features.activation {
            let t = Buffer(B * C)
            dense(s.input.pointer, rows: B, into: t.pointer)
            if activation != .tanh { s.activationInput = Buffer(copying: t.pointer, count: B * C) }
            activation.apply(t.pointer, count: B * C)
            s.transformed = t
            features = UnsafePointer(t.pointer)
            if let norm {
                let n = Buffer(copying: t.pointer, count: B * C)
                s.norm = norm.forward(n.pointer, rows: B, saving: true)
                s.normalized = n  // (kept alive: `features` points into it)
                features = UnsafePointer(n.pointer)
            }
        }
        s.dropped.pointer.update(from: features, count: B * C)
        if let m = dropout.mask(B * C, &pass.rng) {
            s.mask = m
            TrainingKernels.multiply(s.dropped.pointer, by: m.pointer, count: B * C)
        }
        output(s.dropped.pointer, rows: B, into: logits)
        return s
    }

    /// dLogits (B, L) → adds dL/dx of the first tokens into dx (ΣL, C); accumulates the
    /// head's gradients (and the pooler's).
    func backward(_ dLogits: UnsafePointer<Float>, saved s: Saved, pass: ForwardPass, into dx: UnsafeMutablePointer<Float>) {
        let (B, C) = (pass.batch.size, output.inFeatures)
        let d = Buffer(B * C)
        output.backward(dLogits, input: s.dropped.pointer, rows: B, dx: d.pointer)
        if let m = s.mask { TrainingKernels.multiply(d.pointer, by: m.pointer, count: B * C) }
        var dInput = d
        if let norm, let saved = s.norm {
            let dn = Buffer(B * C)
            norm.backward(d.pointer, saved: saved, rows: B, into: dn.pointer)
            d.pointer.update(from: dn.pointer, count: B * C)
        }
        if let dense, let activation = features.activation, let t = s.transformed {
            activation.backward(outputs: t.pointer, inputs: s.activationInput?.pointer, grad: d.pointer, count: B * C)
            dInput = Buffer(B * C)
            dense.backward(d.pointer, input: s.input.pointer, rows: B, dx: dInput.pointer)
        }
        if let m = s.inputMask { TrainingKernels.multiply(dInput.pointer, by: m.pointer, count: B * C) }
        for b in 0..<B {
            guard meanPooling else { Elementwise.add(dInput.pointer + b * C, to: dx + pass.starts[b] * C, count: C); continue }
            let L = pass.batch.lengths[b]
            TrainingKernels.scale(dInput.pointer + b * C, by: 1 / Float(L), count: C)
            for t in 0..<L { Elementwise.add(dInput.pointer + b * C, to: dx + (pass.starts[b] + t) * C, count: C) }
        }
    }
}

/// The activations of heads: tanh (poolers), exact GELU (ELECTRA), ReLU (DistilBERT).
enum HeadActivation {
    case tanh, gelu, relu

    func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .tanh: TrainingKernels.tanh(x, count: count)
        case .gelu: Activation.gelu.apply(x, count: count)
        case .relu: Activation.relu.apply(x, count: count)
        }
    }

    /// grad (count) ← grad · act′: tanh's from its outputs, the others' from their inputs.
    func backward(outputs y: UnsafePointer<Float>, inputs x: UnsafePointer<Float>?, grad: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .tanh: TrainingKernels.tanhBackward(outputs: y, grad: grad, count: count)
        case .gelu: Activation.gelu.backward(inputs: x!, grad: grad, count: count)
        case .relu: Activation.relu.backward(inputs: x!, grad: grad, count: count)
        }
    }
}
