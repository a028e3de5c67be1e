import Foundation
import Testing
@testable import BERT

/// Every head type against transformers' BertForSequenceClassification (logits within
/// 1e-4), and clinc-intent against scikit-learn's predict_proba (within 1e-5).
@Suite struct ClassifierParityTests {
    struct HeadsGolden: Decodable {
        struct Kind: Decodable {
            let texts: [String]
            let pairs: [String]?
            let maxLength: Int
            let ids: [[Int]]
            let labels: [String]
            let problemType: String
            let logits: [[Float]]
        }
        let kinds: [String: Kind]
    }

    struct ClincGolden: Decodable {
        let queries: [String]
        let labels: [String]
        let topLabels: [String]
    }

    static func decode<T: Decodable>(_ type: T.Type, _ file: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: Checkout.resources.appendingPathComponent(file)))
    }

    @Test(arguments: ["single", "multi", "regression", "xlmr"])
    func headLogitsMatchPyTorch(kind: String) throws {
        let golden = try #require(try Self.decode(HeadsGolden.self, "heads_golden.json").kinds[kind])
        let directory = try ModelDirectory(url: Checkout.resources.appendingPathComponent("heads/\(kind)"))
        let classifier = try TextClassifier(directory: directory)
        #expect(classifier.labels == golden.labels)
        #expect(classifier.head.problem.rawValue == golden.problemType)
        for (i, text) in golden.texts.enumerated() {
            let e = try classifier.tokenizer.encode(text, pair: golden.pairs?[i], maxLength: golden.maxLength, truncation: .longestFirst)
            #expect(e.ids == golden.ids[i], "\(text)")
        }
        let logits = try classifier.logits(golden.texts, pairs: golden.pairs, maxLength: golden.maxLength, batchSize: 3)
        for (ours, theirs) in zip(logits, golden.logits) {
            #expect(maxAbsDifference(ours, theirs) < 1e-4)
        }
        // Scores follow the problem type.
        let c = try classifier.classify([golden.texts[0]], pairs: golden.pairs.map { [$0[0]] }, maxLength: golden.maxLength)[0]
        let l = golden.logits[0]
        switch classifier.head.problem {
        case .singleLabel:
            let e = l.map { exp(Double($0)) }
            let p = e.map { Float($0 / e.reduce(0, +)) }
            #expect(maxAbsDifference(c.scores.map(\.score), p) < 1e-5)
            #expect(c.label == golden.labels[p.indices.max { p[$0] < p[$1] }!])
        case .multiLabel:
            #expect(maxAbsDifference(c.scores.map(\.score), l.map { 1 / (1 + exp(-$0)) }) < 1e-5)
        case .regression:
            #expect(abs(c.score - l[0]) < 1e-4)
        }
    }

    @Test func clincIntentMatchesScikitLearn() throws {
        let golden = try Self.decode(ClincGolden.self, "clinc_golden.json")
        let reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("clinc_golden.safetensors").path)
        let probabilities = try reference.tensor("probabilities")
        let L = probabilities.shape[1]
        let classifier = try TextClassifier(directory: Checkout.model("clinc-intent"))
        #expect(classifier.labels == golden.labels)
        #expect(golden.queries.count >= 200)
        let results = try classifier.classify(golden.queries)
        var worst: Float = 0
        for (k, result) in results.enumerated() {
            let expected = Array(probabilities.values[k * L..<(k + 1) * L])
            worst = max(worst, maxAbsDifference(result.scores.map(\.score), expected))
            #expect(result.label == golden.topLabels[k], "\(golden.queries[k])")
        }
        #expect(worst < 1e-5, "largest probability difference \(worst)")
    }

    @Test func anEncoderIsNotAClassifier() throws {
        #expect(throws: ModelError.self) { try TextClassifier(directory: Checkout.model("all-MiniLM-L6-v2")) }
    }

    @Test func aClassifierStillEmbeds() throws {
        let embedder = try SentenceEmbedder(directory: Checkout.model("clinc-intent"))
        let plain = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"))
        #expect(try embedder.embed("book a flight") == plain.embed("book a flight"))
    }
}

extension ClassifierParityTests {
    @Test func strideAveragesTheWindowsScores() throws {
        let classifier = try TextClassifier(directory: Checkout.model("clinc-intent"))
        let text = String(repeating: "please book me a flight to paris and then set a timer for ten minutes ", count: 30)
        let whole = try classifier.tokenizer.encode(text, pair: nil, maxLength: .max, truncation: .longestFirst)
        let windows = whole.windows(maxLength: classifier.config.maxLength, overlap: 16)
        #expect(windows.count > 1)
        let perWindow = try classifier.logits(encodings: windows, batchSize: 4).map { classifier.head.scores($0) }
        let mean = (0..<classifier.labels.count).map { j in perWindow.map { $0[j] }.reduce(0, +) / Float(perWindow.count) }
        let c = try classifier.classify([text, "set a timer"], windowOverlap: 16)
        #expect(maxAbsDifference(c[0].scores.map(\.score), mean) < 1e-6)
        // The same answer as alone, up to rounding: alone, its few rows take OpenBLAS's
        // small-matrix kernels (Gemm.multiplyWeight), beside the windows the packed ones.
        let alone = try classifier.classify(["set a timer"])[0]
        #expect(c[1].label == alone.label && c[1].scores.map(\.label) == alone.scores.map(\.label))
        #expect(maxAbsDifference(c[1].scores.map(\.score), alone.scores.map(\.score)) < 1e-6)
    }
}
