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
        /// The sentence embedding (runtime pooling, normalized when the config says so).
        case embedding

        /// The activation after the dense transform.
        var activation: HeadActivation? {
            switch self {
            case .pooler, .roberta: return .tanh
            case .electra, .deberta: return .gelu
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
    let output: Linear  // (L, C)
    let dropout: Dropout

    /// The head of a classifier checkpoint; `pooler`: the encoder's, which `pooler` features read.
    init(_ w: WeightScope, config: Config, pooler: Linear?, dropout p: Float = 0) throws {
        labels = config.labels.isEmpty ? ["LABEL_0"] : config.labels
        features = config.runtime.classifier?.features ?? .pooler
        problem = config.problemType.flatMap(Problem.init) ?? (labels.count == 1 ? .regression : .singleLabel)
        let (C, L) = (config.hiddenSize, labels.count)
        if features.hasDense {
            dense = try Linear(w.scope("classifier.dense"), in: C, out: C)
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
    init(new features: Features, problem: Problem = .singleLabel, labels: [String], hidden C: Int, seed: UInt64, pooler: Linear?,
         parameters w: WeightScope, dropout p: Float) throws {
        self.features = features
        self.labels = labels
        self.problem = problem
        let L = labels.count
        let initial = initialClassifier(labels: L, hidden: C, seed: seed)
        if features.hasDense {
            let d = initialClassifier(labels: C, hidden: C, seed: seed &+ 2)
            dense = Linear(weight: w.newParameter("classifier.dense.weight", d.weight), bias: w.newParameter("classifier.dense.bias", d.bias))
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
        var mask: Buffer?
        let dropped: Buffer        // (B, C): the output Linear's input
        init(rows B: Int, hidden C: Int) { (input, dropped) = (Buffer(B * C), Buffer(B * C)) }
    }

    /// x: (ΣL, C) packed last hidden states → logits (B, L), keeping what the backward needs.
    func forward(_ x: UnsafePointer<Float>, _ pass: ForwardPass, into logits: UnsafeMutablePointer<Float>) -> Saved {
        let (B, C) = (pass.batch.size, output.inFeatures)
        let s = Saved(rows: B, hidden: C)
        for b in 0..<B { (s.input.pointer + b * C).update(from: x + pass.starts[b] * C, count: C) }
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
        if let dense, let activation = features.activation, let t = s.transformed {
            activation.backward(outputs: t.pointer, inputs: s.activationInput?.pointer, grad: d.pointer, count: B * C)
            dInput = Buffer(B * C)
            dense.backward(d.pointer, input: s.input.pointer, rows: B, dx: dInput.pointer)
        }
        if let m = s.inputMask { TrainingKernels.multiply(dInput.pointer, by: m.pointer, count: B * C) }
        for b in 0..<B { Elementwise.add(dInput.pointer + b * C, to: dx + pass.starts[b] * C, count: C) }
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
