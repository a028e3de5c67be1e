import ArgumentParser
import BERT
import Foundation

struct AnswerQuestions: ParsableCommand {  // not "Answer": BERT.Answer is one answer
    static let configuration = CommandConfiguration(
        commandName: "answer",
        abstract: "Answer each question with a span of the context (extractive question answering).",
        discussion: """
        Needs a *ForQuestionAnswering model converted by tools/convert. Output is one line per question. Plain: \
        ANSWER<TAB>SCORE<TAB>START<TAB>END for each answer, best first, separated by " | ". --json prints what \
        transformers' question-answering pipeline returns: {"score","start","end","answer"} with --top-k 1, else \
        [{…}, …]; start and end are character offsets into the context. A context longer than the model's window \
        is read in windows sharing --doc-stride tokens.
        """)

    /// A context file larger than this is refused rather than read whole.
    static let maxContextBytes = 16 << 20

    @OptionGroup var model: ModelOptions
    @Option(help: "The text the answers are in.")
    var context: String?
    @Option(help: "A UTF-8 file holding the context.")
    var contextFile: String?
    @Option(help: "Give the K best answers.")
    var topK = 1
    @Option(help: "The longest answer, in tokens.")
    var maxAnswerLength = 15
    @Option(help: "Tokens per window (question, context and special tokens); default: the model's limit, at most 384.")
    var maxSeqLength: Int?
    @Option(help: "Tokens shared by neighbouring windows of a long context; default: half a window, at most 128.")
    var docStride: Int?
    @Flag(help: "Let \"no answer\" (an empty answer at 0, 0) compete with the spans.")
    var handleImpossibleAnswer = false
    @Flag(help: "One JSON value per question, as the question-answering pipeline returns it.")
    var json = false
    @Option(help: "Windows per forward pass.")
    var batchSize = 32
    @OptionGroup(title: "Questions (the texts)") var input: InputOptions

    func validate() throws {
        guard model.model != nil else { throw ValidationError("--model is required: a *ForQuestionAnswering model converted by tools/convert") }
        guard (context == nil) != (contextFile == nil) else { throw ValidationError("give the context with exactly one of --context and --context-file") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard maxAnswerLength >= 1 else { throw ValidationError("--max-answer-length must be at least 1") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }

    func readContext() throws -> String {
        if let context { return context }
        let path = contextFile!
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int else {
            throw ValidationError("--context-file \(path): cannot read it (no such file?)")
        }
        guard size <= Self.maxContextBytes else {
            throw ValidationError("--context-file \(path): \(size) bytes is over the \(Self.maxContextBytes >> 20) MiB a context may have")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("--context-file \(path): not readable as UTF-8 text")
        }
        return text
    }

    func run() throws {
        try reportingErrors {
            let text = try readContext()
            let answerer = try QuestionAnswerer(directory: model.directory(default: ""))
            let options = QuestionAnswerer.Options(topK: topK, maxAnswerLength: maxAnswerLength, maxSequenceLength: maxSeqLength,
                                                   docStride: docStride, handleImpossibleAnswer: handleImpossibleAnswer)
            try input.forEachChunk(of: 64) { chunk in
                for answers in try answerer.answer(chunk, context: text, options: options, batchSize: batchSize) {
                    if json {
                        let items = answers.map { "{\"score\":\($0.score),\"start\":\($0.start),\"end\":\($0.end),\"answer\":\(JSON.string($0.answer))}" }
                        emit(topK == 1 && items.count == 1 ? items[0] : "[" + items.joined(separator: ",") + "]")
                    } else {
                        emit(answers.map { "\($0.answer)\t\($0.score)\t\($0.start)\t\($0.end)" }.joined(separator: " | "))
                    }
                }
            }
        }
    }
}
