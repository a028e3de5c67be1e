import Foundation
import Kernels

/// The classification head: BertForSequenceClassification's `classifier` Linear over the
/// pooler output, XLMRobertaForSequenceClassification's RobertaClassificationHead, or a
/// linear head over sentence embeddings; then softmax, sigmoid or nothing, as the
/// problem type says.
public struct ClassifierHead: @unchecked Sendable {
    /// What the head reads.
    public enum Features: String, Codable, Sendable {
        /// tanh(pooler.dense(h[CLS])), as BertForSequenceClassification.
        case pooler
        /// tanh(classifier.dense(h[<s>])), as RobertaClassificationHead; then classifier.out_proj.
        case roberta
        /// The sentence embedding (runtime pooling, normalized when the config says so).
        case embedding
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
    /// RobertaClassificationHead's dense + tanh on the first token (roberta features only).
    let dense: Pooler?
    let classifier: Linear  // (L, C)

    init(_ w: WeightScope, config: Config) throws {
        labels = config.labels.isEmpty ? ["LABEL_0"] : config.labels
        features = config.runtime.classifier?.features ?? .pooler
        problem = config.problemType.flatMap(Problem.init) ?? (labels.count == 1 ? .regression : .singleLabel)
        let (C, L) = (config.hiddenSize, labels.count)
        if features == .roberta {
            dense = try Pooler(w.scope("classifier.dense"), hidden: C)
            classifier = try Linear(w.scope("classifier.out_proj"), in: C, out: L)
        } else {
            dense = nil
            classifier = try Linear(w.scope("classifier"), in: C, out: L)
        }
    }

    /// features: (B, C) → logits (B, L)
    func logits(_ x: [[Float]]) -> [[Float]] {
        let (B, C, L) = (x.count, classifier.inFeatures, labels.count)
        let flat = x.flatMap { $0 }
        var out = [Float](repeating: 0, count: B * L)
        flat.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { y in classifier(a.baseAddress!, rows: B, into: y.baseAddress!) }
        }
        precondition(flat.count == B * C)
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
}
