import Foundation
import Testing
@testable import BERT
import Tokenizers

/// What tools/golden/architectures.py wrote from transformers for one tiny random
/// checkpoint of an architecture (`*Model` and `*ForSequenceClassification`).
struct ArchitectureGolden: Decodable {
    let modelType: String
    let model: String
    let classifier: String
    let ids: [[Int]]
    let typeIds: [[Int]]?
    let labels: [Int]
    let loss: Double
    let gradNames: [String]
    let zeroGradients: [String]
    let modelPooler: Bool
    let classifierFeatures: String
    let texts: [String]
    let pairs: [String?]
    let tokenizer: TokenizerCases

    /// transformers' fast tokenizer of the directory on tokenizer-only cases.
    struct TokenizerCases: Decodable {
        let texts: [String]
        let pairs: [String?]
        let ids: [[Int]]
        let typeIds: [[Int]]
    }

    static func load(_ type: String) throws -> (ArchitectureGolden, SafetensorsFile) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let dir = Checkout.resources.appendingPathComponent("arch")
        let json = try decoder.decode(Self.self, from: Data(contentsOf: dir.appendingPathComponent("\(type)_golden.json")))
        return (json, try SafetensorsFile(path: dir.appendingPathComponent("\(type)_golden.safetensors").path))
    }

    /// The inputs as encodings (ids given, so no tokenizer is involved).
    var encodings: [Encoding] {
        ids.enumerated().map { k, ids in
            Encoding(ids: ids, tokens: ids.map(String.init), typeIds: typeIds?[k] ?? ids.map { _ in 0 },
                     attentionMask: ids.map { _ in 1 }, offsets: ids.map { _ in 0..<0 })
        }
    }

    func directory(_ path: String) throws -> ModelDirectory {
        try ModelDirectory(url: Checkout.resources.appendingPathComponent(path))
    }
}

/// DistilBERT, ALBERT (factorized embeddings, one group shared by three layers), ELECTRA
/// (embeddings projected), MPNet (relative position bias), RoBERTa (byte-level BPE from
/// tokenizer.json, positions after <pad>) and DeBERTa-v2 in two shapes
/// (v3's: disentangled attention with shared keys, log buckets, normalized relative
/// embeddings, no absolute positions nor token types; and v2's other options) and ModernBERT in two
/// shapes (no biases, cls pooling, full-sliding-full layers; and every bias, mean pooling, tanh GELU,
/// other rope bases, sliding-full-sliding: pre-norm, fused Wqkv, rotary positions, a sliding window
/// narrower than the longer inputs, GeGLU, the final norm and ModernBertPredictionHead) against transformers on
/// tiny random checkpoints: hidden states and logits within 1e-5, the loss within 1e-5
/// relative, and every parameter's gradient after one backward (dropout off) within 1e-4
/// (‖ours − theirs‖/‖theirs‖; the reference's own float32 error is about 1e-6).
@Suite struct ArchitectureGoldenTests {
    static let types = ["distilbert", "albert", "electra", "mpnet", "roberta", "deberta-v3", "deberta-v2", "modernbert",
                        "modernbert-biased"]

    /// The converted directory's own tokenizer (runtime.tokenizer) gives transformers' ids on the
    /// inputs and on the tokenizer-only cases (RoBERTa: through tokenizer.json).
    @Test(arguments: types)
    func directoryTokenizerMatchesTransformers(type: String) throws {
        let (golden, _) = try ArchitectureGolden.load(type)
        for path in [golden.model, golden.classifier] {
            let tokenizer = try golden.directory(path).loadTokenizer()
            for (k, text) in golden.texts.enumerated() {
                #expect(try tokenizer.encode(text, pair: golden.pairs[k]).ids == golden.ids[k], "\(type) \(text)")
            }
            let cases = golden.tokenizer
            for (k, text) in cases.texts.enumerated() {
                let e = try tokenizer.encode(text, pair: cases.pairs[k])
                #expect(e.ids == cases.ids[k], "\(type) \(text)")
                if golden.typeIds != nil { #expect(e.typeIds == cases.typeIds[k], "\(type) \(text)") }
            }
        }
    }

    @Test(arguments: types)
    func hiddenStatesMatchTransformers(type: String) throws {
        let (golden, reference) = try ArchitectureGolden.load(type)
        for path in [golden.model, golden.classifier] {
            let directory = try golden.directory(path)
            #expect(directory.config.modelType == golden.modelType)
            let (encoder, _) = try directory.load()
            let batch = Batch(golden.encodings, padId: directory.config.padTokenId)
            let hidden = encoder(batch)
            let (T, C) = (batch.length, directory.config.hiddenSize)
            let prefix = path == golden.model ? "model" : "classifier"
            for (k, L) in batch.lengths.enumerated() {
                let ours = Array(UnsafeBufferPointer(start: hidden.pointer + k * T * C, count: L * C))
                let theirs = try reference.tensor("\(prefix).hidden.\(k)").values
                #expect(maxAbsDifference(ours, theirs) < 1e-5, "\(type) \(prefix) input \(k)")
            }
        }
    }

    @Test(arguments: types)
    func poolerMatchesTransformers(type: String) throws {
        let (golden, reference) = try ArchitectureGolden.load(type)
        let (encoder, _) = try golden.directory(golden.model).load()
        #expect((encoder.pooler != nil) == golden.modelPooler)
        guard let pooler = encoder.pooler else { return }
        let batch = Batch(golden.encodings, padId: encoder.config.padTokenId)
        let hidden = encoder(batch)
        let (B, T, C) = (batch.size, batch.length, encoder.config.hiddenSize)
        var first = [Float](repeating: 0, count: B * C), out = first
        for b in 0..<B { for c in 0..<C { first[b * C + c] = hidden.pointer[b * T * C + c] } }
        first.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { pooler(x.baseAddress!, rows: B, into: $0.baseAddress!) } }
        #expect(maxAbsDifference(out.map { tanhf($0) }, try reference.tensor("model.pooler").values) < 1e-5)
    }

    /// Through `TextClassifier`, batched as it batches, alone and concurrently.
    @Test(arguments: types)
    func logitsMatchTransformers(type: String) throws {
        let (golden, reference) = try ArchitectureGolden.load(type)
        let directory = try golden.directory(golden.classifier)
        #expect(directory.config.runtime.classifier?.features.rawValue == golden.classifierFeatures)
        let classifier = try TextClassifier(directory: directory)
        let theirs = try reference.tensor("classifier.logits").values
        for batchSize in [1, 4, 32] {
            let ours = try classifier.logits(encodings: golden.encodings, batchSize: batchSize).flatMap { $0 }
            #expect(maxAbsDifference(ours, theirs) < 1e-5, "\(type), batch size \(batchSize)")
        }
    }

    @Test(arguments: types)
    func gradientsMatchTransformers(type: String) throws {
        let (golden, reference) = try ArchitectureGolden.load(type)
        let directory = try golden.directory(golden.classifier)
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        for workers in [1, 2] {
            let model = try SequenceClassifierTraining(
                config: directory.config, checkpoint: checkpoint, head: .checkpoint, encodings: golden.encodings,
                padId: directory.config.padTokenId, dropout: 0, workers: workers)
            var none: SplitMix64? = nil
            let examples = Array(0..<golden.ids.count)
            let (loss, _) = model.run(examples, labels: golden.labels, training: true, rng: &none)
            #expect(abs(Double(loss) - golden.loss) / golden.loss < 1e-5, "\(type) loss \(loss) vs \(golden.loss)")
            #expect(Set(model.parameters.all.map(\.name)) == Set(golden.gradNames), "\(type): the same parameters as PyTorch")
            for p in model.parameters.all {
                let theirs = try reference.tensor("classifier.grad.\(p.name)").values
                if golden.zeroGradients.contains(p.name) {
                    #expect(norm(p.grad.values) < 1e-6 && norm(theirs) < 1e-6, "\(type) \(p.name): zero in exact arithmetic")
                } else {
                    let err = relativeError(p.grad.values, theirs)
                    #expect(err < 1e-4, "\(type) grad \(p.name) with \(workers) worker(s): relative error \(err)")
                }
            }
        }
    }
}

/// DeBERTa's pieces beyond the encoder: make_log_bucket_position at deberta-v3-base's size, and
/// the tokenizer convention against transformers' DebertaV2Tokenizer on the tiny spm.model.
@Suite struct DebertaV2Tests {
    struct Golden: Decodable {
        struct Buckets: Decodable { let positionBuckets, maxRelativePositions: Int; let distances, buckets: [Int] }
        struct TokenizerCases: Decodable { let texts: [String]; let pairs: [String?]; let ids, typeIds: [[Int]] }
        let texts: [String]
        let pairs: [String?]
        let ids: [[Int]]
        let relativeBuckets: Buckets
        let tokenizer: TokenizerCases
    }

    static func golden(_ type: String) throws -> Golden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let url = Checkout.resources.appendingPathComponent("arch/\(type)_golden.json")
        return try decoder.decode(Golden.self, from: Data(contentsOf: url))
    }

    @Test func logBucketsMatchTransformers() throws {
        let b = try Self.golden("deberta-v3").relativeBuckets
        let ours = b.distances.map { RelativeEmbeddings.bucket($0, buckets: b.positionBuckets, maxPosition: b.maxRelativePositions) }
        #expect(ours == b.buckets)
        #expect(Set(ours).count > 400, "the distances reach the log buckets both ways")
    }

    @Test(arguments: ["deberta-v3", "deberta-v2"])
    func tokenizerMatchesTransformers(type: String) throws {
        let golden = try Self.golden(type)
        let tokenizer = try ModelDirectory(url: Checkout.resources.appendingPathComponent("arch/\(type)")).loadTokenizer()
        for (k, text) in golden.texts.enumerated() {
            #expect(try tokenizer.encode(text, pair: golden.pairs[k], maxLength: nil, truncation: .longestFirst).ids == golden.ids[k], "\(text)")
        }
        for (k, text) in golden.tokenizer.texts.enumerated() {
            let e = try tokenizer.encode(text, pair: golden.tokenizer.pairs[k], maxLength: nil, truncation: .longestFirst)
            #expect(e.ids == golden.tokenizer.ids[k], "\(text)")
            #expect(e.typeIds == golden.tokenizer.typeIds[k], "\(text)")
        }
        #expect(tokenizer.padId == 0)
    }
}
