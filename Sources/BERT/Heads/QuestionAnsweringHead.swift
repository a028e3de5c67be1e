/// The head of every *ForQuestionAnswering: one Linear (2, C) over each token's last hidden
/// state (`qa_outputs.*` after tools/convert), giving the logits of the answer starting and of
/// it ending at that token. Inference only: fine-tuning a question answerer is not supported.
struct QuestionAnsweringHead {
    let output: Linear  // (2, C)

    init(_ root: WeightScope, config c: Config) throws {
        output = try Linear(root.scope("qa_outputs"), in: c.hiddenSize, out: 2)
    }

    /// x: (rows, C) → logits (rows, 2): start, end.
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        output(x, rows: rows, into: logits)
    }
}
