import ArgumentParser
import BERT
import Foundation

extension FinetuneTask: ExpressibleByArgument {}

/// What `bert evaluate` scores: a fine-tuning task's head, or `sts`, an embedding model on scored pairs.
enum EvaluateTask: String, ExpressibleByArgument, CaseIterable {
    case classification, regression
    case multiLabel = "multi-label"
    case tokenClassification = "token-classification"
    case sts
    case mlm
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a classifier or regressor on a labelled dataset.",
        discussion: """
        DATASET is CSV, TSV or JSON Lines with a text (or sentence) column, an optional text_pair \
        column and a label column, found by header name. --task defaults to the model's own \
        (its config's problem_type):

        classification: the labels are among the model's; prints accuracy, macro-F1, the mean \
        cross-entropy and per-class counts. regression: the labels are numbers; prints the mean \
        squared error, Pearson and Spearman. multi-label: each row's labels are a JSON array, or \
        the label column joined by --label-separator; prints micro-F1, macro-F1 and subset accuracy \
        at --threshold on each label's sigmoid, and the mean binary cross-entropy. token-classification \
        (the default for a token tagger): JSON Lines {"tokens": [...], "tags": [...]}; prints entity-level \
        F1, precision and recall as seqeval computes them, and token accuracy. \
        sts: any \
        embedding model (all-MiniLM-L6-v2, a --task embedding output) on sentence1,sentence2,score \
        rows; prints Spearman and Pearson x100 of the cosine of the two embeddings against the score. \
        mlm: a model with a masked-LM head on raw text, one document per line; masks it as bert \
        finetune --task mlm masks its validation lines (--seed, --mask-probability, --whole-word-mask) \
        and prints the masked tokens, their mean cross-entropy and its perplexity. \
        --json prints one JSON object instead.
        """)

    @Argument(help: "The labelled data (.csv, .tsv or .jsonl).")
    var dataset: String
    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "classification, regression, multi-label, token-classification (default: the model's), sts or mlm.")
    var task: EvaluateTask?
    @Option(help: "--task mlm: the seed of the masks (a finetune run's --seed masks its validation file the same).")
    var seed: UInt64 = 42
    @Option(help: "--task mlm: the share of tokens (or words) masked.")
    var maskProbability = 0.15
    @Flag(help: "--task mlm: mask whole words.")
    var wholeWordMask = false
    @Option(help: "--task mlm: maximum tokens per line, special tokens included (default: the model's).")
    var maxLength: Int?
    @Option(help: "Multi-label CSV/TSV: what joins a row's labels.")
    var labelSeparator = ","
    @Option(help: "Multi-label: a label is predicted when its sigmoid reaches this.")
    var threshold = 0.5
    @Flag(help: "One JSON object.")
    var json = false
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard threshold > 0, threshold < 1 else { throw ValidationError("--threshold must be between 0 and 1") }
        guard !labelSeparator.isEmpty else { throw ValidationError("--label-separator must not be empty") }
        guard maskProbability > 0, maskProbability < 1 else { throw ValidationError("--mask-probability must be between 0 and 1") }
        if let m = maxLength, m < 2 { throw ValidationError("--max-length must be at least 2") }
    }

    func run() throws {
        try reportingErrors {
            if task == .sts {
                let embedder = try SentenceEmbedder(directory: try model.directory(default: "all-MiniLM-L6-v2"), precision: precision.precision)
                let m = try embedder.evaluateSTS(try EmbeddingDataset(contentsOf: URL(fileURLWithPath: dataset)), batchSize: batchSize)
                emit(json ? "{\"examples\":\(m.count),\"spearman\":\(m.spearman),\"pearson\":\(m.pearson)}"
                          : String(format: "examples %d  Spearman %.2f  Pearson %.2f", m.count, m.spearman, m.pearson))
                return
            }
            if task == .mlm {
                let m = try MaskedLMMetrics(directory: try model.directory(default: FillMask.defaultModel), data: try TextLines(contentsOf: URL(fileURLWithPath: dataset)),
                                            seed: seed, maskProbability: maskProbability, wholeWords: wholeWordMask, maxLength: maxLength)
                emit(json ? "{\"masked_tokens\":\(m.maskedTokens),\"loss\":\(m.loss),\"perplexity\":\(m.perplexity)}"
                          : String(format: "masked tokens %d  loss %.4f  perplexity %.4f", m.maskedTokens, m.loss, m.perplexity))
                return
            }
            let directory = try model.directory(default: Classify.defaultModel)
            if task == .tokenClassification || (task == nil && directory.config.runtime.tokenClassifier != nil && directory.config.runtime.classifier == nil) {
                let tagger = try TokenTagger(directory: directory)
                let (count, m) = try tagger.evaluate(try TaggedWords(contentsOf: URL(fileURLWithPath: dataset)), batchSize: batchSize)
                emit(json ? "{\"examples\":\(count),\"entity_f1\":\(m.f1),\"precision\":\(m.precision),\"recall\":\(m.recall),\"token_accuracy\":\(m.accuracy)}"
                          : String(format: "examples %d  entity F1 %.4f  precision %.4f  recall %.4f  token accuracy %.4f", count, m.f1, m.precision, m.recall, m.accuracy))
                return
            }
            let classifier = try TextClassifier(directory: directory, precision: precision.precision)
            let own = FinetuneTask.allCases.first { $0.problem == classifier.head.problem }!
            let task = self.task.flatMap { FinetuneTask(rawValue: $0.rawValue) } ?? own
            guard task == own else {
                throw FinetuneError.invalidOption("\(directory.url.path): the model was trained for --task \(own.rawValue) (problem_type \(own.problem.rawValue)), not \(task.rawValue); pass --task \(own.rawValue)")
            }
            let data = try Dataset(contentsOf: URL(fileURLWithPath: dataset), emptyLabels: task == .multiLabel)
            switch task {
            case .tokenClassification:
                preconditionFailure("handled above")
            case .classification: try classification(classifier, data)
            case .regression:
                let (count, m) = try classifier.evaluateRegression(data, batchSize: batchSize)
                emit(json ? "{\"examples\":\(count),\"mse\":\(m.mse),\"pearson\":\(m.pearson),\"spearman\":\(m.spearman)}"
                          : String(format: "examples %d  MSE %.4f  Pearson %.4f  Spearman %.4f", count, m.mse, m.pearson, m.spearman))
            case .embedding, .mlm:
                preconditionFailure("no classifier has the embedding or mlm task")
            case .multiLabel:
                let (count, loss, m) = try classifier.evaluateMultiLabel(data, separator: labelSeparator, threshold: threshold, batchSize: batchSize)
                emit(json ? "{\"examples\":\(count),\"threshold\":\(threshold),\"micro_f1\":\(m.microF1),\"macro_f1\":\(m.macroF1),\"subset_accuracy\":\(m.subsetAccuracy),\"loss\":\(loss)}"
                          : String(format: "examples %d  threshold %.2f  micro-F1 %.4f  macro-F1 %.4f  subset accuracy %.4f  loss %.4f",
                                   count, threshold, m.microF1, m.macroF1, m.subsetAccuracy, loss))
            }
        }
    }

    private func classification(_ classifier: TextClassifier, _ data: Dataset) throws {
        let result = try classifier.evaluate(data, batchSize: batchSize)
        let labels = classifier.labels
        if json {
            let perClass = zip(labels, result.metrics.perClass).map { label, c in
                "\(JSON.string(label)):{\"support\":\(c.support),\"predicted\":\(c.predicted),\"correct\":\(c.correct)}"
            }.joined(separator: ",")
            emit("{\"examples\":\(result.count),\"accuracy\":\(result.metrics.accuracy),\"macro_f1\":\(result.metrics.macroF1),\"loss\":\(result.loss),\"per_class\":{\(perClass)}}")
        } else {
            emit(String(format: "examples %d  accuracy %.4f  macro-F1 %.4f  loss %.4f", result.count, result.metrics.accuracy, result.metrics.macroF1, result.loss))
            emit("label\tsupport\tpredicted\tcorrect")
            for (label, c) in zip(labels, result.metrics.perClass) { emit("\(label)\t\(c.support)\t\(c.predicted)\t\(c.correct)") }
        }
    }
}
