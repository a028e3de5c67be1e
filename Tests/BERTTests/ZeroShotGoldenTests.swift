import Foundation
import Testing
@testable import BERT

/// What tools/golden/zero_shot.py wrote from transformers' zero-shot-classification pipeline.
struct ZeroShotGolden: Decodable {
    /// candidate_labels as passed to the pipeline: a list, or one comma-separated string.
    enum Candidates: Decodable {
        case list([String]), string(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .string(s) } else { self = .list(try c.decode([String].self)) }
        }
        var labels: [String] {
            switch self {
            case .list(let l): return l
            case .string(let s): return ZeroShotClassifier.labels(parsing: s)
            }
        }
    }
    struct Output: Decodable { let sequence: String; let labels: [String]; let scores: [Double] }
    struct Case: Decodable {
        let texts: [String]
        let candidateLabels: Candidates
        let hypothesisTemplate: String?
        let multiLabel: Bool
        let pipeline: [Output]
    }
    let model: String
    let labels: [String]
    let cases: [Case]

    static func load() throws -> [String: ZeroShotGolden] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([String: ZeroShotGolden].self,
                                  from: Data(contentsOf: Checkout.resources.appendingPathComponent("nli/zero_shot_golden.json")))
    }
}

@Suite struct ZeroShotGoldenTests {
    static let types = ["bert", "distilbert", "albert", "electra", "mpnet", "roberta", "deberta-v3"]

    /// Every case of the pipeline: labels and their order exact, scores within 1e-5.
    @Test(arguments: types) func pipelineParity(_ type: String) throws {
        let golden = try #require(try ZeroShotGolden.load()[type])
        let classifier = try ZeroShotClassifier(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        #expect(classifier.entailmentId == golden.labels.firstIndex(of: "entailment"))
        for (k, c) in golden.cases.enumerated() {
            let results = try classifier.classify(c.texts, candidateLabels: c.candidateLabels.labels,
                                                  hypothesisTemplate: c.hypothesisTemplate ?? ZeroShotClassifier.defaultTemplate,
                                                  multiLabel: c.multiLabel, batchSize: 5)
            #expect(results.count == c.pipeline.count)
            for (t, (ours, theirs)) in zip(results, c.pipeline).enumerated() {
                #expect(ours.labels == theirs.labels, "\(type) case \(k) text \(t)")
                for (a, b) in zip(ours.scores, theirs.scores) {
                    #expect(abs(Double(a) - b) < 1e-5, "\(type) case \(k) text \(t): \(a) vs \(b)")
                }
            }
        }
    }

    /// The pipeline's own label parsing is what the golden's string case went through.
    @Test func labelParsing() throws {
        let golden = try #require(try ZeroShotGolden.load()["bert"])
        let parsed = try #require(golden.cases.first { if case .string = $0.candidateLabels { true } else { false } })
        #expect(Set(parsed.pipeline[0].labels) == Set(parsed.candidateLabels.labels))
        #expect(ZeroShotClassifier.labels(parsing: " , ,") == [])
    }

    /// 8 tasks classifying at once on one ZeroShotClassifier get what one call alone gets, bit for bit.
    @Test func concurrentCalls() async throws {
        let golden = try #require(try ZeroShotGolden.load()["bert"])
        let classifier = try ZeroShotClassifier(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent(golden.model)))
        let c = golden.cases[0]
        let labels = c.candidateLabels.labels
        let alone = try classifier.classify(c.texts, candidateLabels: labels)
        try await withThrowingTaskGroup(of: [ZeroShotResult].self) { group in
            for _ in 0..<8 { group.addTask { try classifier.classify(c.texts, candidateLabels: labels) } }
            for try await result in group { #expect(result == alone) }
        }
    }

    @Test func errors() throws {
        let classifier = try ZeroShotClassifier(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("nli/bert")))
        do {
            _ = try classifier.classify(["a dog"], candidateLabels: [])
            Issue.record("an empty label list was accepted")
        } catch {
            #expect("\(error)".contains("--candidate-labels is empty"), "\(error)")
        }
        #expect(throws: ModelError.self) { try classifier.classify(["a dog"], candidateLabels: ["x"], hypothesisTemplate: "no slot") }
        // A classifier without an entailment label names the labels it has.
        do {
            _ = try ZeroShotClassifier(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/distilbert-classifier")))
            Issue.record("a sentiment classifier was accepted as an NLI model")
        } catch {
            #expect("\(error)".contains("'entailment'") && "\(error)".contains("negative, neutral, positive"), "\(error)")
        }
        // A model without a sequence-classification head says which head it has.
        do {
            _ = try ZeroShotClassifier(directory: ModelDirectory(url: Checkout.resources.appendingPathComponent("ner/bert")))
            Issue.record("a token classifier was accepted as an NLI model")
        } catch {
            #expect("\(error)".contains("token-classification head (9 labels)"), "\(error)")
        }
    }
}
