import Foundation
import Testing
@testable import BERT

/// What tools/golden/question_answering.py wrote from transformers' question-answering pipeline.
struct QuestionAnsweringGolden: Decodable {
    struct Output: Decodable { let score: Double; let start: Int; let end: Int; let answer: String }
    struct Case: Decodable {
        let question: String
        let context: String
        let topK: Int?
        let maxAnswerLen: Int?
        let handleImpossibleAnswer: Bool?
        let docStride: Int?
        let maxSeqLen: Int
        let spans: Int
        let answers: [Output]

        var options: QuestionAnswerer.Options {
            QuestionAnswerer.Options(topK: topK ?? 1, maxAnswerLength: maxAnswerLen ?? 15, maxSequenceLength: maxSeqLen,
                                     docStride: docStride, handleImpossibleAnswer: handleImpossibleAnswer ?? false)
        }
    }
    struct Words: Decodable { let context: String; let wordIds: [Int] }
    let model: String
    let maxLength: Int
    let cases: [Case]
    let words: [Words]

    static func load() throws -> [String: QuestionAnsweringGolden] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([String: QuestionAnsweringGolden].self,
                                  from: Data(contentsOf: Checkout.resources.appendingPathComponent("qa/question_answering_golden.json")))
    }
}

@Suite struct QuestionAnswererGoldenTests {
    static let types = ["bert", "distilbert", "albert", "electra", "mpnet", "roberta", "deberta-v3"]

    func answerer(_ golden: QuestionAnsweringGolden) throws -> QuestionAnswerer {
        try QuestionAnswerer(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
    }

    /// Every case: answers, offsets and order exact, scores within 1e-5; the windows as many as the tokenizer's.
    @Test(arguments: types) func pipelineParity(_ type: String) throws {
        let golden = try #require(try QuestionAnsweringGolden.load()[type])
        let qa = try answerer(golden)
        #expect(golden.cases.contains { $0.spans > 1 })
        for (k, c) in golden.cases.enumerated() {
            let plan = try QuestionAnswerer.Plan(c.options, modelLimit: qa.config.maxLength)
            #expect(try qa.windows(c.question, c.context, plan).count == c.spans, "\(type) case \(k): windows")
            let ours = try qa.answer([c.question], context: c.context, options: c.options)[0]
            #expect(ours.map(\.answer) == c.answers.map(\.answer), "\(type) case \(k): \(c.question)")
            #expect(ours.map(\.start) == c.answers.map(\.start) && ours.map(\.end) == c.answers.map(\.end), "\(type) case \(k)")
            for (a, b) in zip(ours, c.answers) { #expect(abs(a.score - b.score) < 1e-5, "\(type) case \(k): \(a.score) vs \(b.score)") }
        }
    }

    /// The words spans widen to: the fast tokenizer's word ids of the context tokens, exactly.
    @Test(arguments: types) func wordIdsOfTheContext(_ type: String) throws {
        let golden = try #require(try QuestionAnsweringGolden.load()[type])
        let qa = try answerer(golden)
        for w in golden.words {
            let e = try qa.tokenizer.encode(w.context, pair: nil, maxLength: Int.max, truncation: .longestFirst)
            let content = 1..<(e.count - 1)
            let ours = qa.wordIndices(Array(e.tokens[content]), Array(e.offsets[content]), w.context)
            #expect(ours == w.wordIds, "\(type): \(w.context)")
        }
    }

    /// Several questions about one context in one call give each one's answers alone.
    @Test func batched() throws {
        let golden = try #require(try QuestionAnsweringGolden.load()["bert"])
        let qa = try answerer(golden)
        let cases = golden.cases.filter { $0.context == golden.cases[5].context }
        let options = golden.cases[5].options
        let together = try qa.answer(cases.map(\.question), context: cases[0].context, options: options, batchSize: 3)
        // in groups of one question's windows: the same
        let grouped = try qa.answer(cases.map(\.question), context: cases[0].context, options: options, windowsPerGroup: 1)
        #expect(grouped.map { $0.map(\.answer) } == together.map { $0.map(\.answer) })
        #expect(cases.count >= 2)
        for (c, answers) in zip(cases, together) {
            let alone = try qa.answer([c.question], context: c.context, options: options)[0]
            #expect(answers.map(\.answer) == alone.map(\.answer) && answers.map(\.start) == alone.map(\.start))
            // batches pad to their longest window: the same within float32 rounding
            for (a, b) in zip(answers, alone) { #expect(abs(a.score - b.score) < 1e-6) }
        }
    }

    /// 8 tasks asking at once on one QuestionAnswerer get what one call alone gets, bit for bit.
    @Test func concurrentCalls() async throws {
        let golden = try #require(try QuestionAnsweringGolden.load()["bert"])
        let qa = try answerer(golden)
        let c = golden.cases[5]
        let alone = try qa.answer([c.question], context: c.context, options: c.options)
        try await withThrowingTaskGroup(of: [[Answer]].self) { group in
            for _ in 0..<8 { group.addTask { try qa.answer([c.question], context: c.context, options: c.options) } }
            for try await result in group { #expect(result == alone) }
        }
    }

    @Test func errors() throws {
        let golden = try #require(try QuestionAnsweringGolden.load()["bert"])
        let qa = try answerer(golden)
        #expect(throws: ModelError.self) { try qa.answer(["Who?"], context: "") }
        #expect(throws: ModelError.self) { try qa.answer([""], context: "the dog") }
        #expect(throws: ModelError.self) { try qa.answer(["Who?"], context: "the dog", options: .init(topK: 0)) }
        #expect(throws: ModelError.self) { try qa.answer(["Who?"], context: "the dog", options: .init(maxSequenceLength: 1000)) }
        let long = String(repeating: "the dog ran ", count: 40)
        #expect(throws: ModelError.self) { try qa.answer(["Who?"], context: long, options: .init(docStride: 60)) }
        #expect(throws: ModelError.self) { try qa.answer([long], context: "the dog") }
        // A model without the head says which head it has.
        do {
            _ = try QuestionAnswerer(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("ner/bert")))
            Issue.record("a token classifier was accepted as a question answerer")
        } catch {
            #expect("\(error)".contains("no question-answering head") && "\(error)".contains("token-classification head (9 labels)")
                    && "\(error)".contains("BertForQuestionAnswering"), "\(error)")
        }
    }
}
