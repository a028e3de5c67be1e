import Foundation
import Kernels

/// What `bert finetune --task` trains: a head on the encoder and the loss it is trained with.
public enum FinetuneTask: String, Codable, Sendable, CaseIterable {
    /// One label per row: softmax and cross-entropy (single_label_classification).
    case classification
    /// A float per row, on a text or a text pair (a cross-encoder): one output, mean squared error.
    case regression
    /// Any number of labels per row: a sigmoid and binary cross-entropy per label.
    case multiLabel = "multi-label"
    /// A tag per word (JSON Lines {"tokens": [...], "tags": [...]}): a Linear over every token,
    /// cross-entropy on each word's first sub-token (BertForTokenClassification).
    case tokenClassification = "token-classification"
    /// The bi-encoder itself, no head: an `EmbeddingLoss` on its sentence embeddings.
    case embedding
    /// Continued masked-LM pre-training on raw text (one document per line): BERT's masking,
    /// the masked-LM head trained with the encoder (BertForMaskedLM).
    case mlm

    /// Hugging Face's problem_type for the head this task trains.
    public var problem: ClassifierHead.Problem {
        switch self {
        case .classification: return .singleLabel
        case .regression, .embedding: return .regression
        case .multiLabel: return .multiLabel
        case .tokenClassification, .mlm: return .singleLabel
        }
    }
}

/// What a batch's rows are trained toward.
enum Targets {
    /// One class id per row (single-label classification).
    case classes([Int])
    /// Row-major (rows, width) values: a regression target (width 1), or a multi-hot label row.
    case values([Float], width: Int)

    var rows: Int {
        switch self {
        case .classes(let c): return c.count
        case .values(let v, let width): return v.count / width
        }
    }

    /// The targets of rows `range`.
    func rows(_ range: Range<Int>) -> Targets {
        switch self {
        case .classes(let c): return .classes(Array(c[range]))
        case .values(let v, let width): return .values(Array(v[range.lowerBound * width..<range.upperBound * width]), width: width)
        }
    }

    /// Rows `examples` of per-example targets: class ids, or `width` values each.
    static func gather(_ examples: [Int], classes: [Int]?, values: [Float]?, width: Int) -> Targets {
        if let classes { return .classes(examples.map { classes[$0] }) }
        return .values(examples.flatMap { values![$0 * width..<($0 + 1) * width] }, width: width)
    }
}

/// The loss of a classification head's logits, as transformers' *ForSequenceClassification
/// computes it for each problem type: cross-entropy (single label), MSE of the one output
/// (regression), BCEWithLogits over every label (multi-label). Each is a mean, so a batch
/// split over workers scales each part's gradient by its share of the rows.
struct HeadLoss {
    let problem: ClassifierHead.Problem

    /// logits (rows, cols) → the mean loss; writes dL/dlogits (rows, cols) when `grad` is given.
    func callAsFunction(_ logits: UnsafePointer<Float>, _ targets: Targets, rows: Int, cols: Int,
                        grad: UnsafeMutablePointer<Float>?) -> Float {
        switch (problem, targets) {
        case (.singleLabel, .classes(let ids)):
            return TrainingKernels.crossEntropy(logits: logits, labels: ids, rows: rows, cols: cols, grad: grad)
        case (.regression, .values(let v, _)):
            precondition(cols == 1 && v.count == rows, "regression has one output per row")
            return TrainingKernels.meanSquaredError(logits, targets: v, count: rows, grad: grad)
        case (.multiLabel, .values(let v, _)):
            precondition(v.count == rows * cols, "one target per label")
            return TrainingKernels.binaryCrossEntropyWithLogits(logits, targets: v, count: rows * cols, grad: grad)
        default:
            preconditionFailure("\(problem) trains on \(problem == .singleLabel ? "class ids" : "values")")
        }
    }
}

/// Pearson's and Spearman's correlations (Spearman's on average ranks for ties, as
/// scipy.stats.spearmanr), 0 when either side is constant.
public enum Correlation {
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        guard x.count > 1 else { return 0 }
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }

    public static func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

    /// 1-based ranks, tied values sharing the mean of their ranks.
    static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var ranks = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, x[order[j + 1]] == x[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            i = j + 1
        }
        return ranks
    }
}

/// A regression head's figures: mean squared error, Pearson and Spearman against the gold values.
public struct RegressionMetrics: Sendable, Equatable, Codable {
    public let mse: Double
    public let pearson: Double
    public let spearman: Double

    public init(predictions: [Double], gold: [Double]) {
        precondition(predictions.count == gold.count)
        mse = gold.isEmpty ? 0 : zip(predictions, gold).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(gold.count)
        pearson = Correlation.pearson(predictions, gold)
        spearman = Correlation.spearman(predictions, gold)
    }
}

/// A multi-label head's figures at a threshold on the sigmoid: micro-F1 (over every
/// row-label decision), macro-F1 (the mean of the labels' F1, 0 for a label never
/// predicted correctly, as scikit-learn's zero_division=0), and subset accuracy (rows
/// whose whole label set is right).
public struct MultiLabelMetrics: Sendable, Equatable, Codable {
    public let microF1: Double
    public let macroF1: Double
    public let subsetAccuracy: Double

    /// predicted, gold: (rows, labels) row-major decisions.
    public init(predicted: [Bool], gold: [Bool], labels: Int) {
        precondition(predicted.count == gold.count && labels > 0 && gold.count % labels == 0)
        let rows = gold.count / labels
        var tp = [Int](repeating: 0, count: labels), fp = tp, fn = tp
        var exact = 0
        for r in 0..<rows {
            var same = true
            for l in 0..<labels {
                let (p, g) = (predicted[r * labels + l], gold[r * labels + l])
                if p && g { tp[l] += 1 } else if p { fp[l] += 1 } else if g { fn[l] += 1 }
                if p != g { same = false }
            }
            if same { exact += 1 }
        }
        func f1(_ tp: Int, _ fp: Int, _ fn: Int) -> Double { tp == 0 ? 0 : 2 * Double(tp) / Double(2 * tp + fp + fn) }
        microF1 = f1(tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
        macroF1 = (0..<labels).map { f1(tp[$0], fp[$0], fn[$0]) }.reduce(0, +) / Double(labels)
        subsetAccuracy = rows == 0 ? 0 : Double(exact) / Double(rows)
    }
}

/// Every example's target for a task (the training rows, then the validation file's),
/// read from the datasets' label columns, and the figures of predictions against them.
struct TaskTargets {
    let task: FinetuneTask
    /// The head's outputs: the classes, the labels of a multi-label task, or one for regression.
    let labels: [String]
    private let classes: [Int]?
    private let values: [Float]?

    /// An embedding task's: each row's score (divided by --score-scale), 0 for rows without one.
    init(embedding values: [Float], scored: Bool) {
        (task, labels, classes, self.values, hasScores) = (.embedding, ["LABEL_0"], nil, values, scored)
    }

    /// Embedding: whether the validation rows have scores (else the figure is the negated loss).
    private var hasScores = false

    init(_ o: FinetuneOptions, train: Dataset, validation: Dataset?) throws {
        task = o.task
        switch o.task {
        case .embedding:
            preconditionFailure("an embedding task's targets are its rows' scores (init(embedding:))")
        case .classification:
            let given = try train.singleLabels() + (validation?.singleLabels() ?? [])
            let known = train.labelSet
            guard known.count >= 2 else { throw DatasetError.oneLabel(path: train.url.path, label: known.first ?? "") }
            try Self.checkLabelCount(known.count, path: train.url.path)
            let id = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($0.element, $0.offset) })
            if let v = validation {
                for (k, label) in v.labels.enumerated() where id[label] == nil {
                    throw DatasetError.unknownLabel(path: v.url.path, line: v.lines[k], label: label, known: known)
                }
            }
            (labels, classes, values) = (known, given.map { id[$0]! }, nil)
        case .regression:
            (labels, classes, values) = (["LABEL_0"], nil, try (train.values() + (validation?.values() ?? [])).map(Float.init))
        case .multiLabel:
            let trainLists = train.labelLists(separator: o.labelSeparator)
            let known = Dataset.ordered(Set(trainLists.joined()))
            guard !known.isEmpty else {
                throw DatasetError.badRow(path: train.url.path, line: train.lines[0], reason: "no row has a label, so there is nothing to learn")
            }
            try Self.checkLabelCount(known.count, path: train.url.path)
            let id = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($0.element, $0.offset) })
            var lists = trainLists
            if let v = validation {
                let validationLists = v.labelLists(separator: o.labelSeparator)
                for (k, list) in validationLists.enumerated() {
                    if let label = list.first(where: { id[$0] == nil }) {
                        throw DatasetError.unknownLabel(path: v.url.path, line: v.lines[k], label: label, known: known)
                    }
                }
                lists += validationLists
            }
            // values: one row of `known.count` 0/1 targets per example.
            var targets = [Float](repeating: 0, count: lists.count * known.count)
            for (row, list) in lists.enumerated() {
                for label in list { targets[row * known.count + id[label]!] = 1 }
            }
            (labels, classes, values) = (known, nil, targets)
        case .tokenClassification, .mlm:
            preconditionFailure("token classification and mlm read their own data (FineTuner.runTokenClassification, runMaskedLM)")
        }
    }

    /// The most outputs a classification head is given: a head of L outputs costs L × hidden
    /// weights, their gradients and two Adam moments, and L × hidden products per row and step.
    /// Past it a label column is almost surely not labels (an id, the text again).
    static let maxLabels = 10_000

    static func checkLabelCount(_ count: Int, path: String) throws {
        guard count <= maxLabels else { throw DatasetError.tooManyLabels(path: path, count: count, limit: maxLabels) }
    }

    /// The targets of `examples`, in that order.
    func rows(_ examples: [Int]) -> Targets {
        Targets.gather(examples, classes: classes, values: values, width: labels.count)
    }

    /// The task's validation figures, the one that picks the best epoch first.
    func figures(logits: [[Float]], of examples: [Int], threshold: Double) -> [Figure] {
        let L = labels.count
        switch task {
        case .classification:
            let predictions = logits.map { row in row.indices.max { row[$0] < row[$1] }! }
            let m = Metrics(predictions: predictions, gold: examples.map { classes![$0] }, classes: L)
            return [Figure(name: "accuracy", value: m.accuracy), Figure(name: "macro-F1", value: m.macroF1)]
        case .regression:
            let m = RegressionMetrics(predictions: logits.map { Double($0[0]) }, gold: examples.map { Double(values![$0]) })
            return [Figure(name: "Spearman", value: m.spearman), Figure(name: "Pearson", value: m.pearson)]
        case .embedding:  // the logits are each row's cosine
            guard hasScores else { return [] }
            let m = RegressionMetrics(predictions: logits.map { Double($0[0]) }, gold: examples.map { Double(values![$0]) })
            return [Figure(name: "Spearman", value: m.spearman), Figure(name: "Pearson", value: m.pearson)]
        case .multiLabel:
            let predicted = logits.flatMap { row in row.map { 1 / (1 + Foundation.exp(-Double($0))) >= threshold } }
            let gold = examples.flatMap { e in values![e * L..<(e + 1) * L].map { $0 > 0.5 } }
            let m = MultiLabelMetrics(predicted: predicted, gold: gold, labels: L)
            return [Figure(name: "micro-F1", value: m.microF1), Figure(name: "macro-F1", value: m.macroF1),
                    Figure(name: "subset accuracy", value: m.subsetAccuracy)]
        case .tokenClassification, .mlm:
            preconditionFailure("token classification and mlm have their own figures (FineTuner.runTokenClassification, runMaskedLM)")
        }
    }
}
