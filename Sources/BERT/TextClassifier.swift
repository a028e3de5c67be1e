import Foundation
import Tokenizers

/// A classifier's answer for one input.
public struct Classification: Sendable, Equatable {
    /// The best label (for regression, the only one).
    public let label: String
    /// Its probability, or the regressed value.
    public let score: Float
    /// Every label with its score, in id order.
    public let scores: [(label: String, score: Float)]

    public static func == (a: Self, b: Self) -> Bool {
        a.label == b.label && a.score == b.score && a.scores.map(\.label) == b.scores.map(\.label)
            && a.scores.map(\.score) == b.scores.map(\.score)
    }
}

/// Text classification with a converted or fine-tuned classifier directory.
///
///     let classifier = try TextClassifier(model: "models/my-classifier")
///     let c = try classifier.classify(["I loved this movie"])[0]
///     print(c.label, c.score)   // positive 0.97
public final class TextClassifier: @unchecked Sendable {
    public let config: Config
    public let tokenizer: any Tokenizer
    public let head: ClassifierHead
    /// The arithmetic of the encoder's weight products (see `Precision`).
    public let precision: Precision
    /// The threads it runs on.
    public let context: ExecutionContext
    let encoder: Encoder

    /// `precision`: fp32, bf16 or int8 weight products; default `BERT_PRECISION`, else fp32.
    /// `context`: the threads to run on; a new one when not given.
    public convenience init(model: String, precision: Precision? = nil, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), precision: precision, context: context)
    }

    public init(directory: ModelDirectory, precision: Precision? = nil, context: ExecutionContext? = nil) throws {
        self.context = context ?? ExecutionContext()
        config = directory.config
        tokenizer = try directory.loadTokenizer()
        self.precision = try precision ?? Precision.fromEnvironment()
        let (encoder, head) = try directory.load(precision: self.precision)
        guard let head else {
            throw ModelError.invalidConfig(
                path: directory.url.appendingPathComponent("config.json").path,
                reason: "this is not a classifier (no classifier head in model.safetensors); use `bert embed`, or fine-tune one with `bert finetune`")
        }
        self.encoder = encoder
        self.head = head
    }

    public var labels: [String] { head.labels }

    /// One answer per text (or text pair), in order. Inputs longer than `maxLength`
    /// tokens (default: the model's limit) are truncated.
    public func classify(_ texts: [String], pairs: [String]? = nil, maxLength: Int? = nil, batchSize: Int = 32) throws -> [Classification] {
        try logits(texts, pairs: pairs, maxLength: maxLength, batchSize: batchSize).map { classification(head.scores($0)) }
    }

    /// One answer per text, for texts longer than the model's limit: each text is read in
    /// overlapping windows of the model's length (`overlap` tokens shared between
    /// neighbours) and the windows' scores are averaged.
    public func classify(_ texts: [String], windowOverlap overlap: Int, batchSize: Int = 32) throws -> [Classification] {
        let (windows, owner) = try tokenizer.windows(of: texts, maxLength: config.maxLength, overlap: overlap)
        var sums = [[Float]](repeating: [Float](repeating: 0, count: labels.count), count: texts.count)
        var counts = [Int](repeating: 0, count: texts.count)
        for (i, l) in zip(owner, try logits(encodings: windows, batchSize: batchSize)) {
            for (j, s) in head.scores(l).enumerated() { sums[i][j] += s }
            counts[i] += 1
        }
        return zip(sums, counts).map { sum, n in classification(sum.map { $0 / Float(n) }) }
    }

    func classification(_ scores: [Float]) -> Classification {
        let best = scores.indices.max { scores[$0] < scores[$1] } ?? 0
        return Classification(label: head.labels[best], score: scores[best],
                              scores: Array(zip(head.labels, scores)).map { (label: $0.0, score: $0.1) })
    }

    /// Raw logits (B, L), before softmax or sigmoid. An empty pair counts as no pair.
    public func logits(_ texts: [String], pairs: [String]? = nil, maxLength: Int? = nil, batchSize: Int = 32) throws -> [[Float]] {
        precondition(pairs == nil || pairs!.count == texts.count, "one pair per text")
        let limit = min(maxLength ?? config.maxLength, config.maxLength)
        let encodings = try texts.indices.map {
            try tokenizer.encode(texts[$0], pair: pairs?[$0].isEmpty == false ? pairs![$0] : nil, maxLength: limit, truncation: .longestFirst)
        }
        return try logits(encodings: encodings, batchSize: batchSize)
    }

    func logits(encodings: [Encoding], batchSize: Int) throws -> [[Float]] {
        var out = [[Float]](repeating: [], count: encodings.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            let features = head.features(hidden, lengths: batch.lengths, config: config)
            for (i, l) in zip(indices, head.logits(features)) { out[i] = l }
        }
        return out
    }
}

/// A classifier's figures on a labelled dataset.
public struct Evaluation: Sendable {
    public let count: Int
    /// Mean cross-entropy of the softmax scores against the gold labels.
    public let loss: Double
    public let metrics: Metrics
}

extension TextClassifier {
    /// Accuracy, macro-F1, loss and per-class counts on `dataset`, whose labels must be
    /// among this classifier's (single-label classifiers only).
    public func evaluate(_ dataset: Dataset, batchSize: Int = 32) throws -> Evaluation {
        let path = dataset.url.path
        guard head.problem == .singleLabel else {
            throw ModelError.invalidConfig(path: path, reason: "evaluate scores single-label classifiers only, this one is \(head.problem.rawValue)")
        }
        let gold = try dataset.singleLabels().enumerated().map { k, label in
            guard let id = labels.firstIndex(of: label) else {
                throw DatasetError.unknownLabel(path: path, line: dataset.lines[k], label: label, known: labels)
            }
            return id
        }
        let pairs = dataset.pairs.map { $0.map { $0 } }
        let all = try logits(dataset.texts, pairs: pairs, batchSize: batchSize)
        var loss = 0.0
        var predictions: [Int] = []
        for (row, g) in zip(all, gold) {
            let m = row.max()!
            let logSum = Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }) + Double(m)
            loss += logSum - Double(row[g])
            predictions.append(row.indices.max { row[$0] < row[$1] }!)
        }
        return Evaluation(count: gold.count, loss: loss / Double(max(gold.count, 1)),
                          metrics: Metrics(predictions: predictions, gold: gold, classes: labels.count))
    }
}

extension TextClassifier {
    /// A regression head's MSE, Pearson and Spearman on `dataset`, whose labels are numbers.
    public func evaluateRegression(_ dataset: Dataset, batchSize: Int = 32) throws -> (count: Int, metrics: RegressionMetrics) {
        try expect(.regression, dataset)
        let gold = try dataset.values()
        let all = try logits(dataset.texts, pairs: dataset.pairs, batchSize: batchSize)
        return (gold.count, RegressionMetrics(predictions: all.map { Double($0[0]) }, gold: gold))
    }

    /// A multi-label head's micro- and macro-F1 and subset accuracy on `dataset` at
    /// `threshold` on each label's sigmoid, and the mean binary cross-entropy. A row's labels
    /// are a JSON array, or its label column split on `separator`; each must be one of the model's.
    public func evaluateMultiLabel(_ dataset: Dataset, separator: String = ",", threshold: Double = 0.5,
                                   batchSize: Int = 32) throws -> (count: Int, loss: Double, metrics: MultiLabelMetrics) {
        try expect(.multiLabel, dataset)
        let L = labels.count
        var gold: [Float] = []
        for (k, list) in dataset.labelLists(separator: separator).enumerated() {
            if let label = list.first(where: { !labels.contains($0) }) {
                throw DatasetError.unknownLabel(path: dataset.url.path, line: dataset.lines[k], label: label, known: labels)
            }
            gold += labels.map { list.contains($0) ? 1 : 0 }
        }
        let all = try logits(dataset.texts, pairs: dataset.pairs, batchSize: batchSize).flatMap { $0 }
        let loss = all.withUnsafeBufferPointer {
            HeadLoss(problem: .multiLabel)($0.baseAddress!, .values(gold, width: L), rows: dataset.count, cols: L, grad: nil)
        }
        let metrics = MultiLabelMetrics(predicted: all.map { 1 / (1 + Foundation.exp(-Double($0))) >= threshold },
                                        gold: gold.map { $0 > 0.5 }, labels: L)
        return (dataset.count, Double(loss), metrics)
    }

    private func expect(_ problem: ClassifierHead.Problem, _ dataset: Dataset) throws {
        guard head.problem == problem else {
            throw FinetuneError.invalidOption("the model's head is \(head.problem.rawValue), not \(problem.rawValue); evaluate it with the task it was trained for")
        }
    }
}
