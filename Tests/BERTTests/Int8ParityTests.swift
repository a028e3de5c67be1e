import Foundation
import Kernels
import Testing
@testable import BERT

/// The int8 precision against PyTorch's fp32 embeddings (the committed golden files of
/// all-MiniLM-L6-v2 and all-mpnet-base-v2): issue 15 asks a minimum cosine of 0.999 over the
/// golden sentences. With the large activations and each weight's largest input channels
/// kept apart in fp32 (Int8Products) this scheme reaches 0.99934 (MiniLM) and 0.99902
/// (mpnet); without them it reached 0.99797 and 0.99424. The products run on oneDNN with
/// VNNI; only a CPU without avx512_vnni skips these.
@Suite(.serialized, .enabled(if: DNNL.hasVNNI, "the CPU lacks avx512_vnni"))
struct Int8ParityTests {
    /// Loaded once for every test here.
    static let miniLM = Result<SentenceEmbedder, any Error> {
        try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"), precision: .int8)
    }

    /// The cosine of ours[i] to row first + i of theirs.
    func cosines(_ ours: [[Float]], _ theirs: Tensor, first: Int = 0) -> [Float] {
        let C = theirs.shape[1]
        return ours.enumerated().map { i, v in SentenceEmbedder.cosine(v, Array(theirs.values[(first + i) * C..<(first + i + 1) * C])) }
    }

    @Test(arguments: [1, 32])
    func miniLMWithinCosine0999OfPyTorch(batchSize: Int) throws {
        let (golden, reference) = try MiniLMGolden.load()
        let ours = try Self.miniLM.get().embed(golden.sentences, batchSize: batchSize)
        let c = cosines(ours, try reference.tensor("embeddings"))
        print("int8 all-MiniLM-L6-v2 vs PyTorch fp32, batch \(batchSize): min cosine \(c.min()!), mean \(c.reduce(0, +) / Float(c.count))")
        #expect(c.min()! >= 0.999)
        #expect(c.reduce(0, +) / Float(c.count) >= 0.9995)
        #expect(c.min()! < 1 - 1e-5, "int8 should differ from fp32 at all: is it running?")
    }

    /// One sentence alone runs on the two lanes, each product cut in column parts.
    @Test func miniLMSentencesAloneWithinCosine0999() throws {
        let (golden, reference) = try MiniLMGolden.load()
        let embedder = try Self.miniLM.get()
        let theirs = try reference.tensor("embeddings")
        for k in 0..<min(8, golden.sentences.count) {
            let c = cosines([try embedder.embed(golden.sentences[k])], theirs, first: k)[0]
            #expect(c >= 0.999, "\(golden.sentences[k])")
        }
    }

    @Test func mpnetWithinCosine0999OfPyTorch() throws {
        struct Golden: Decodable { let sentences: [String] }
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("mpnet_golden.json")))
        let reference = try SafetensorsFile(path: Checkout.resources.appendingPathComponent("mpnet_golden.safetensors").path)
        let embedder = try SentenceEmbedder(directory: Checkout.model("all-mpnet-base-v2"), precision: .int8)
        let c = cosines(try embedder.embed(golden.sentences, batchSize: 8), try reference.tensor("embeddings"))
        print("int8 all-mpnet-base-v2 vs sentence-transformers fp32: min cosine \(c.min()!), mean \(c.reduce(0, +) / Float(c.count))")
        #expect(c.min()! >= 0.999)
        #expect(c.reduce(0, +) / Float(c.count) >= 0.9993)
    }

    @Test func onlyTheEncoderLayersRunInInt8() throws {
        let embedder = try Self.miniLM.get()
        #expect(embedder.precision == .int8)
        for layer in embedder.encoder.layers {
            let a = layer.attention, f = layer.feedForward
            #expect([a.query, a.key, a.value, a.output, f.intermediate, f.output].allSatisfy { $0.int8 != nil && $0.bf16 == nil })
        }
        #expect(embedder.encoder.pooler.map { $0.int8 == nil } ?? true)
    }
}
