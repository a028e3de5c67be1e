import Foundation
import Kernels
import Testing
@testable import BERT

/// all-MiniLM-L6-v2 in bf16 precision against PyTorch's fp32 embeddings (the committed golden
/// file). Issue 6 asks cosine ≥ 0.999; the runtime promises 0.9999 and measured 0.99998 (min
/// over the golden sentences). The products run on oneDNN; only a CPU without avx512_bf16
/// skips these.
@Suite(.serialized, .enabled(if: BF16.cpuHasBF16Flag, "the CPU lacks avx512_bf16"))
struct BF16ParityTests {
    let golden: MiniLMGolden
    let reference: SafetensorsFile
    let embedder: SentenceEmbedder

    init() throws {
        (golden, reference) = try MiniLMGolden.load()
        embedder = try Self.shared.get()
    }

    /// Loaded once for every test here (rounding the weights is slow in debug builds).
    static let shared = Result<SentenceEmbedder, any Error> {
        do { try Precision.bf16.check() } catch {
            throw SetupMissing(description: "\(error) (tools/setup installs libdnnl-dev)")
        }
        return try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"), precision: .bf16)
    }

    @Test(arguments: [1, 32])
    func embeddingsWithinCosine09999OfPyTorch(batchSize: Int) throws {
        let theirs = try reference.tensor("embeddings")
        let C = theirs.shape[1]
        let ours = try embedder.embed(golden.sentences, batchSize: batchSize)
        let cosines = ours.enumerated().map { k, v in SentenceEmbedder.cosine(v, Array(theirs.values[k * C..<(k + 1) * C])) }
        let worst = cosines.min() ?? 0
        print("bf16 vs PyTorch fp32, batch \(batchSize): min cosine \(worst), max |Δ| \(zip(ours.joined(), theirs.values).map { abs($0 - $1) }.max() ?? 0)")
        #expect(worst >= 0.9999)
        #expect(worst < 1 - 1e-7, "bf16 should differ from fp32 at all: is it running?")
    }

    /// One sentence alone runs on the two lanes, each product cut in column parts.
    @Test func sentencesAloneWithinCosine09999OfPyTorch() throws {
        let theirs = try reference.tensor("embeddings")
        let C = theirs.shape[1]
        for k in 0..<min(8, golden.sentences.count) {
            let v = try embedder.embed(golden.sentences[k])
            #expect(SentenceEmbedder.cosine(v, Array(theirs.values[k * C..<(k + 1) * C])) >= 0.9999, "\(golden.sentences[k])")
        }
    }

    /// The pair's similarity to two and a half digits. (Each vector within cosine 0.9999 would
    /// allow 0.028 here; the bound was 1e-3 until the products moved to oneDNN, whose bf16
    /// kernels on this AMD EPYC give 0.00102.)
    @Test func cosineOfTheEatingPairWithin2e3() throws {
        let v = try embedder.embed(Array(golden.sentences[0...1]))
        let error = abs(Double(SentenceEmbedder.cosine(v[0], v[1])) - golden.cosinePair)
        print("bf16 vs PyTorch fp32: the eating pair's cosine off by \(error)")
        #expect(error < 2e-3)
    }

    @Test func onlyTheEncoderLayersRunInBF16() throws {
        #expect(embedder.precision == .bf16)
        for layer in embedder.encoder.layers {
            let a = layer.attention, f = layer.feedForward
            #expect([a.query, a.key, a.value, a.output, f.intermediate, f.output].allSatisfy { $0.bf16 != nil })
        }
        #expect(embedder.encoder.pooler.map { $0.bf16 == nil } ?? true)
        let fp32 = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"), precision: .fp32)
        #expect(fp32.encoder.layers.allSatisfy { $0.attention.query.bf16 == nil })
    }
}
