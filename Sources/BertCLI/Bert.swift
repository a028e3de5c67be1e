import ArgumentParser

@main
struct Bert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bert",
        abstract: "Run BERT-family encoders: sentence embeddings, classification, fill-mask, tokenization, fine-tuning.",
        discussion: """
        Models are directories made by tools/convert (tools/setup makes the defaults under models/).
        Without TEXT arguments, every verb reads one input per line from standard input.
        """,
        subcommands: [Embed.self, Tokenize.self, Classify.self, FillMask.self, Tag.self, AnswerQuestions.self, Rerank.self, Finetune.self, Evaluate.self, Bench.self, Serve.self]
    )
}
