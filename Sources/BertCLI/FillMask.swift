import ArgumentParser
import BERT

struct FillMask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-mask",
        abstract: "Predict the masked tokens of each input with a masked-LM model.",
        discussion: """
        Each input holds the model's mask token ([MASK], or <mask> for RoBERTa-style vocabularies) \
        once or more. Plain output is one line per input: TOKEN<TAB>SCORE for the K best, masks \
        separated by " | ". --json prints what transformers' fill-mask pipeline returns: a list of \
        {"score","token","token_str","sequence"}, or one such list per mask when there are several.
        Without --model, models/\(FillMask.defaultModel) (AntiBERTy, made by tools/setup; residues separated by spaces).
        """)

    static let defaultModel = "antiberty"

    @OptionGroup var model: ModelOptions
    @Option(help: "Proposals per mask.")
    var topK = 5
    @Flag(help: "One JSON array per input, as the fill-mask pipeline returns it.")
    var json = false
    @Option(help: "Inputs per forward pass.")
    var batchSize = 32
    @OptionGroup var input: InputOptions

    func validate() throws {
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        try reportingErrors {
            let filler = try MaskFiller(directory: model.directory(default: Self.defaultModel))
            try input.forEachChunk(of: 256) { texts in
                for masks in try filler.fill(texts, topK: topK, batchSize: batchSize) {
                    if json {
                        let lists = masks.map { JSON.array($0, Self.object) }
                        emit(lists.count == 1 ? lists[0] : "[" + lists.joined(separator: ",") + "]")
                    } else {
                        emit(masks.map { $0.map { "\($0.tokenString)\t\($0.score)" }.joined(separator: "\t") }.joined(separator: " | "))
                    }
                }
            }
        }
    }

    static func object(_ p: MaskPrediction) -> String {
        "{\"score\":\(p.score),\"token\":\(p.token),\"token_str\":\(JSON.string(p.tokenString)),\"sequence\":\(JSON.string(p.sequence))}"
    }
}
