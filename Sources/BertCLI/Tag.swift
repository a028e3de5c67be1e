import ArgumentParser
import BERT

extension TokenTagger.Aggregation: ExpressibleByArgument {}

struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label the tokens of each input with a token classifier (named entities).",
        discussion: """
        Output is one line per input. Plain: LABEL<TAB>WORD<TAB>START<TAB>END<TAB>SCORE for each entity, \
        separated by " | ". --json prints what transformers' token-classification pipeline returns: with \
        --aggregation none, [{"entity","score","index","word","start","end"}, …] per token; with simple, \
        first, average or max, [{"entity_group","score","word","start","end"}, …]. Tokens labelled O are left out.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "How tokens become entities: none, simple, first, average, max (the pipeline's aggregation_strategy).")
    var aggregation: TokenTagger.Aggregation = .none
    @Flag(help: "One JSON array per input, as the token-classification pipeline returns it.")
    var json = false
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard model.model != nil else { throw ValidationError("--model is required: a *ForTokenClassification model converted by tools/convert") }
    }

    func run() throws {
        try reportingErrors {
            let tagger = try TokenTagger(directory: model.directory(default: ""))
            try input.forEachChunk(of: 256) { texts in
                for entities in try tagger.tag(texts, aggregation: aggregation, batchSize: batchSize) {
                    if json {
                        emit(JSON.array(entities) { e in
                            let label = e.index == nil ? "\"entity_group\":\(JSON.string(e.label))" : "\"entity\":\(JSON.string(e.label))"
                            let index = e.index.map { ",\"index\":\($0)" } ?? ""
                            return "{\(label),\"score\":\(e.score)\(index),\"word\":\(JSON.string(e.word)),\"start\":\(e.start),\"end\":\(e.end)}"
                        })
                    } else {
                        emit(entities.map { "\($0.label)\t\($0.word)\t\($0.start)\t\($0.end)\t\($0.score)" }.joined(separator: " | "))
                    }
                }
            }
        }
    }
}
