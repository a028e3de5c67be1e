import ArgumentParser
import BERT
import Foundation

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one sentence embedding per input, as a JSON array of floats.",
        discussion: """
        Pooling and normalization follow the model's config unless overridden. Texts longer than the model's \
        limit are truncated, or with --stride read in overlapping windows whose vectors are averaged (weighted \
        by their token counts) and then normalized as the model says. With --output the vectors go to a float32 \
        NumPy file instead (one row per input, in order), written as they come, with a count on stderr when it \
        is a terminal.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Pooling over token vectors: \(Pooling.allCases.map(\.rawValue).joined(separator: ", ")).")
    var pooling: Pooling?
    @Flag(name: .customLong("no-normalize"), help: "Do not scale vectors to unit length.")
    var noNormalize = false
    @Option(help: ArgumentHelp("Embed texts longer than the model's limit in overlapping windows sharing N tokens.",
                               discussion: "Without it, long texts are truncated to the model's limit."))
    var stride: Int?
    @Option(help: "Write the vectors to this .npy file (float32, one row per input) instead of printing them.")
    var output: String?
    @Option(help: "Sentences per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        if let s = stride, s < 0 { throw ValidationError("--stride must be 0 or more") }
        if let output, !output.hasSuffix(".npy") { throw ValidationError("--output \(output): name a .npy file") }
    }

    func run() throws {
        try reportingErrors {
            let embedder = try SentenceEmbedder(
                directory: model.directory(default: "all-MiniLM-L6-v2"),
                pooling: pooling, normalize: noNormalize ? false : nil, precision: precision.precision)
            let file = try output.map { try NPYWriter(url: URL(fileURLWithPath: $0), width: embedder.dimension) }
            let counter = RowCounter()
            try input.forEachChunk(of: 1024) { texts in
                let vectors = try stride.map { try embedder.embed(texts, windowOverlap: $0, batchSize: batchSize) }
                    ?? embedder.embed(texts, batchSize: batchSize)
                for v in vectors {
                    if let file { try file.append(v) } else { emit(JSON.array(v) { "\($0)" }) }
                }
                if let file { counter.show(file.rows) }
            }
            if let file {
                try file.finish()
                counter.clear()
                FileHandle.standardError.write(Data("bert: wrote \(file.url.path) (\(file.rows) × \(file.width) float32)\n".utf8))
            }
        }
    }
}

/// "embedded N" on stderr, redrawn in place, only when stderr is a terminal.
final class RowCounter {
    private let enabled = isatty(STDERR_FILENO) == 1

    func show(_ rows: Int) {
        if enabled { FileHandle.standardError.write(Data("\rembedded \(rows)\u{1B}[K".utf8)) }
    }

    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

extension Pooling: ExpressibleByArgument {}
