import ArgumentParser
import BERT

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one sentence embedding per input, as a JSON array of floats.",
        discussion: "Pooling and normalization follow the model's config unless overridden.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Pooling over token vectors: \(Pooling.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pooling: Pooling?
    @Flag(name: .customLong("no-normalize"), help: "Do not scale vectors to unit length.")
    var noNormalize = false
    @Option(help: "Sentences per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let embedder = try SentenceEmbedder(
                directory: model.directory(default: "all-MiniLM-L6-v2"),
                pooling: pooling, normalize: noNormalize ? false : nil, precision: precision.precision)
            try input.forEachChunk(of: 1024) { texts in
                for v in try embedder.embed(texts, batchSize: batchSize) {
                    emit(JSON.array(v) { "\($0)" })
                }
            }
        }
    }
}

extension Pooling: ExpressibleByArgument {}
