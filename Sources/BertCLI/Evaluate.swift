import ArgumentParser
import BERT
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a classifier on a labelled dataset: accuracy, macro-F1, loss, per-class counts.",
        discussion: """
        DATASET is CSV, TSV or JSON Lines with a text (or sentence) column, an optional text_pair \
        column and a label column whose values are among the model's labels. --json prints one \
        JSON object instead of the table.
        """)

    @Argument(help: "The labelled data (.csv, .tsv or .jsonl).")
    var dataset: String
    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Flag(help: "One JSON object.")
    var json = false
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let classifier = try TextClassifier(directory: model.directory(default: Classify.defaultModel), precision: precision.precision)
            let result = try classifier.evaluate(Dataset(contentsOf: URL(fileURLWithPath: dataset)), batchSize: batchSize)
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
}
