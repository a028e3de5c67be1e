import ArgumentParser
import BERT

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the label and score a classifier gives each input.",
        discussion: """
        Plain output is LABEL<TAB>SCORE per input; with --top-k, the K best as LABEL<TAB>SCORE pairs \
        on one line. --json prints {"label":…,"score":…,"scores":{label: score, …}} per input.
        Without --model, the default English sentiment classifier (models/\(Classify.defaultModel), made by tools/setup).
        """)

    static let defaultModel = "sentiment"

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Show the K best labels.")
    var topK: Int?
    @Flag(help: "One JSON object per input.")
    var json = false
    @Option(help: "A second text to classify with each input as a pair (cross-encoders).")
    var pair: String?
    @Option(help: ArgumentHelp(
        "Read texts longer than the model's limit in overlapping windows sharing N tokens, and average their scores.",
        discussion: "Without it, long texts are truncated to the model's limit."))
    var stride: Int?
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let s = stride, s < 0 { throw ValidationError("--stride must be 0 or more") }
        if stride != nil, pair != nil { throw ValidationError("--stride reads single texts; it cannot be used with --pair") }
    }

    func run() throws {
        try reportingErrors {
            let classifier = try TextClassifier(directory: model.directory(default: Self.defaultModel), precision: precision.precision)
            try input.forEachChunk(of: 256) { texts in
                let pairs = pair.map { p in texts.map { _ in p } }
                let results = try stride.map { try classifier.classify(texts, windowOverlap: $0, batchSize: batchSize) }
                    ?? classifier.classify(texts, pairs: pairs, batchSize: batchSize)
                for c in results {
                    let ranked = c.scores.sorted { $0.score > $1.score }.prefix(topK ?? c.scores.count)
                    if json {
                        let scores = ranked.map { "\(JSON.string($0.label)):\($0.score)" }.joined(separator: ",")
                        emit("{\"label\":\(JSON.string(c.label)),\"score\":\(c.score),\"scores\":{\(scores)}}")
                    } else if topK != nil {
                        emit(ranked.map { "\($0.label)\t\($0.score)" }.joined(separator: "\t"))
                    } else {
                        emit("\(c.label)\t\(c.score)")
                    }
                }
            }
        }
    }
}
