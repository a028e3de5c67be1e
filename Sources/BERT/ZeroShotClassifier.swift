import Foundation
import Tokenizers

/// A text's zero-shot answer: the candidate labels, most likely first, with their scores.
public struct ZeroShotResult: Sendable, Equatable {
    public let labels: [String]
    /// Single-label: a softmax over the labels (summing to 1); multi-label: each label's own
    /// probability of entailment against contradiction.
    public let scores: [Float]
}

/// Zero-shot classification with an NLI model, as transformers' zero-shot-classification
/// pipeline does it: each candidate label becomes the hypothesis "This example is LABEL." of a
/// (text, hypothesis) pair, and the label's score comes from the pair's entailment logit.
///
///     let zs = try ZeroShotClassifier(model: "models/my-mnli")
///     let r = try zs.classify(["The match ended in a draw"], candidateLabels: ["sport", "politics"])[0]
///     print(r.labels[0], r.scores[0])   // sport 0.93
///
/// Safe to call from concurrent tasks.
public final class ZeroShotClassifier: @unchecked Sendable {
    public static let defaultTemplate = "This example is {}."

    public let classifier: TextClassifier
    /// The id of the label whose name starts with "entail" (any case), the first in id order.
    public let entailmentId: Int
    /// The pipeline's rule: the last label when entailment is the first, otherwise the first.
    public let contradictionId: Int

    public convenience init(model: String, precision: Precision? = nil, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), precision: precision, context: context)
    }

    public init(directory: ModelDirectory, precision: Precision? = nil, context: ExecutionContext? = nil) throws {
        let config = directory.config
        let labels = config.labels
        guard config.runtime.classifier != nil, let entailment = labels.firstIndex(where: { $0.lowercased().hasPrefix("entail") }) else {
            let has = config.runtime.classifier == nil ? directory.headDescription
                : "a sequence-classification head with the labels \(labels.joined(separator: ", "))"
            throw ModelError.missingHead(path: directory.url.appendingPathComponent("config.json").path,
                                         needed: "NLI head (a sequence classifier with an 'entailment' label in id2label)", has: has,
                                         hint: "use a model fine-tuned on natural language inference (MNLI, XNLI), converted with tools/convert")
        }
        classifier = try TextClassifier(directory: directory, precision: precision, context: context)
        entailmentId = entailment
        contradictionId = entailment == 0 ? labels.count - 1 : 0
    }

    /// The pipeline's reading of a comma-separated label list: split on ",", each trimmed of
    /// white space, empty ones left out.
    public static func labels(parsing list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Per text, the candidate labels sorted by score. `hypothesisTemplate` holds `{}` where
    /// the label goes. With `multiLabel` (or a single candidate) each label is scored alone
    /// (softmax of its entailment and contradiction logits); otherwise the labels' entailment
    /// logits are softmaxed against each other. A text too long for the model is cut, never the
    /// hypothesis.
    public func classify(_ texts: [String], candidateLabels: [String], hypothesisTemplate: String = defaultTemplate,
                         multiLabel: Bool = false, batchSize: Int = 32) throws -> [ZeroShotResult] {
        guard !candidateLabels.isEmpty else {
            throw ModelError.invalidOption(name: "--candidate-labels", reason: "is empty: give at least one label, e.g. \"sport,politics\"")
        }
        guard hypothesisTemplate.contains("{}") else {
            throw ModelError.invalidOption(name: "--hypothesis-template",
                                           reason: "'\(hypothesisTemplate)' has no {} where the label goes, e.g. \"This example is {}.\"")
        }
        let hypotheses = candidateLabels.map { hypothesisTemplate.replacingOccurrences(of: "{}", with: $0) }
        var encodings: [Encoding] = []
        for text in texts {
            for hypothesis in hypotheses { encodings.append(try encode(text, hypothesis)) }
        }
        let logits = try classifier.logits(encodings: encodings, batchSize: batchSize)  // (texts × labels, 3)
        let n = candidateLabels.count
        return texts.indices.map { t in
            let rows = logits[(t * n)..<((t + 1) * n)]
            let scores: [Double]
            if multiLabel || n == 1 {
                scores = rows.map { 1 / (1 + Foundation.exp(Double($0[contradictionId]) - Double($0[entailmentId]))) }
            } else {
                let entail = rows.map { Double($0[entailmentId]) }
                let m = entail.max()!
                let e = entail.map { Foundation.exp($0 - m) }
                let total = e.reduce(0, +)
                scores = e.map { $0 / total }
            }
            // numpy's argsort reversed: highest first, a tie to the later label.
            let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 > $1 }
            return ZeroShotResult(labels: order.map { candidateLabels[$0] }, scores: order.map { Float(scores[$0]) })
        }
    }

    /// (text, hypothesis) cut only_first to the model's length; a hypothesis too long for
    /// that is not cut (the pipeline's fallback), and an input still too long is an error.
    func encode(_ text: String, _ hypothesis: String) throws -> Encoding {
        let tokenizer = classifier.tokenizer, limit = classifier.config.maxLength
        do {
            return try tokenizer.encode(text, pair: hypothesis, maxLength: limit, truncation: .onlyFirst)
        } catch TokenizerError.sequenceTooShortToTruncate {
            let whole = try tokenizer.encode(text, pair: hypothesis, maxLength: Int.max, truncation: .onlyFirst)
            throw ModelError.inputTooLong(tokens: whole.count, limit: limit)
        }
    }
}
