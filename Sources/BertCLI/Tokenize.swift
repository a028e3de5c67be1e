import ArgumentParser
import BERT
import Tokenizers

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the model's tokenization of each input as JSON: ids, tokens, type_ids, offsets.",
        discussion: "Offsets are [start, end) in Unicode scalars of the input; special tokens get [0, 0].")

    @OptionGroup var model: ModelOptions
    @Option(help: "A second text to encode with each input as a pair.")
    var pair: String?
    @Option(help: "Maximum tokens, special tokens included (default: the model's limit).")
    var maxLength: Int?
    @Option(help: "How to truncate a pair: \(TruncationStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var truncation: TruncationStrategy = .longestFirst
    @OptionGroup var input: InputOptions

    func validate() throws {
        if let m = maxLength, m < 2 { throw ValidationError("--max-length must be at least 2") }
    }

    func run() throws {
        try reportingErrors {
            let directory = try model.directory(default: "all-MiniLM-L6-v2")
            let tokenizer = try directory.loadTokenizer()
            let limit = min(maxLength ?? directory.config.maxLength, directory.config.maxPositions)
            try input.forEachChunk(of: 1024) { texts in
                for text in texts {
                    let e = try tokenizer.encode(text, pair: pair, maxLength: limit, truncation: truncation)
                    emit("""
                        {"ids":\(JSON.array(e.ids) { "\($0)" }),\
                        "tokens":\(JSON.array(e.tokens, JSON.string)),\
                        "type_ids":\(JSON.array(e.typeIds) { "\($0)" }),\
                        "offsets":\(JSON.array(e.offsets) { "[\($0.lowerBound),\($0.upperBound)]" })}
                        """)
                }
            }
        }
    }
}

extension TruncationStrategy: ExpressibleByArgument {}
