import ArgumentParser
import BERT

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the label and score a classifier gives each input.",
        discussion: """
        Plain output is LABEL<TAB>SCORE per input; with --top-k, the K best as LABEL<TAB>SCORE pairs \
        on one line. --json prints {"label":…,"score":…,"scores":{label: score, …}} per input.
        Without --model, the default English sentiment classifier (models/\(Classify.defaultModel), made by tools/setup).
        With --candidate-labels, zero-shot classification with an NLI model (transformers' zero-shot-classification \
        pipeline): each label becomes the hypothesis of --hypothesis-template; output as above over the candidate \
        labels, or with --json {"sequence":…,"labels":[…],"scores":[…]}, labels sorted by score.
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
    @Option(help: ArgumentHelp("Zero-shot: the labels to choose from, separated by commas (\"sport,politics,science\").",
                               discussion: "Needs an NLI model: a sequence classifier with an 'entailment' label."))
    var candidateLabels: String?
    @Option(help: "Zero-shot: the hypothesis each label is put into, {} marking where.")
    var hypothesisTemplate = ZeroShotClassifier.defaultTemplate
    @Flag(help: "Zero-shot: score each label on its own (entailment against contradiction) instead of against each other.")
    var multiLabel = false
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let s = stride, s < 0 { throw ValidationError("--stride must be 0 or more") }
        if stride != nil, pair != nil { throw ValidationError("--stride reads single texts; it cannot be used with --pair") }
        if candidateLabels == nil, multiLabel || hypothesisTemplate != ZeroShotClassifier.defaultTemplate {
            throw ValidationError("--multi-label and --hypothesis-template are for zero-shot classification: give --candidate-labels too")
        }
        if let candidateLabels, ZeroShotClassifier.labels(parsing: candidateLabels).isEmpty {
            throw ValidationError("--candidate-labels is empty: give at least one label, e.g. \"sport,politics\"")
        }
        if candidateLabels != nil, pair != nil || stride != nil {
            throw ValidationError("--candidate-labels pairs each text with its hypotheses; it cannot be used with --pair or --stride")
        }
    }

    func run() throws {
        if let candidateLabels { return try zeroShot(ZeroShotClassifier.labels(parsing: candidateLabels)) }
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

    func zeroShot(_ labels: [String]) throws {
        try reportingErrors {
            let classifier = try ZeroShotClassifier(directory: model.directory(default: Self.defaultModel), precision: precision.precision)
            try input.forEachChunk(of: 256) { texts in
                let results = try classifier.classify(texts, candidateLabels: labels, hypothesisTemplate: hypothesisTemplate,
                                                      multiLabel: multiLabel, batchSize: batchSize)
                for (text, r) in zip(texts, results) {
                    let ranked = zip(r.labels, r.scores).prefix(topK ?? r.labels.count)
                    if json {
                        emit("{\"sequence\":\(JSON.string(text)),\"labels\":\(JSON.array(ranked.map(\.0), JSON.string)),"
                             + "\"scores\":\(JSON.array(ranked.map(\.1)) { "\($0)" })}")
                    } else if topK != nil {
                        emit(ranked.map { "\($0.0)\t\($0.1)" }.joined(separator: "\t"))
                    } else {
                        emit("\(r.labels[0])\t\(r.scores[0])")
                    }
                }
            }
        }
    }
}
