import ArgumentParser
import BERT

struct Rerank: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rank documents against a query with a cross-encoder or an embedding model.",
        discussion: """
        Documents are the arguments after QUERY, or one per line from standard input. A cross-encoder \
        (a sequence classifier of one output) scores each (query, document) pair by the sigmoid of its \
        logit, as sentence-transformers' CrossEncoder.rank; an embedding model by cosine similarity. \
        Output: INDEX<TAB>SCORE<TAB>DOCUMENT per document, best first; --json: one \
        {"index","score","document"} per line.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Print only the N best documents.")
    var topN: Int?
    @Flag(help: "One JSON object per document.")
    var json = false
    @Option(help: "Pairs or texts per forward pass.")
    var batchSize = 32
    @Argument(help: "The query.")
    var query: String
    @Argument(help: "The documents. Without any, one per line is read from standard input.")
    var documents: [String] = []

    func validate() throws {
        if let n = topN, n < 1 { throw ValidationError("--top-n must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let reranker = try Reranker(directory: model.directory(default: "all-MiniLM-L6-v2"))
            var docs = documents
            if docs.isEmpty {
                // A ranking needs every document before the first line can be printed.
                while let line = readLine(strippingNewline: true) { docs.append(line) }
            }
            for r in try reranker.rank(query, docs, topN: topN, batchSize: batchSize) {
                emit(json ? "{\"index\":\(r.index),\"score\":\(r.score),\"document\":\(JSON.string(r.document))}"
                          : "\(r.index)\t\(r.score)\t\(r.document)")
            }
        }
    }
}
