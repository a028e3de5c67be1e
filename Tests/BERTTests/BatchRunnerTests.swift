import Testing
@testable import BERT
import Tokenizers

/// The runner's batching and its workers: how texts are grouped must never change a result.
struct BatchRunnerTests {
    @Test func batchesCoverEveryTextOnceWithinTheLimits() {
        var rng = SeededRandom(seed: 3)
        let lengths = (0..<500).map { _ in 3 + Int(rng.next() % 200) }
        let batches = Encoder.batches(lengths: lengths, batchSize: 32)
        #expect(batches.flatMap { $0 }.sorted() == Array(lengths.indices))
        for b in batches {
            let longest = b.map { lengths[$0] }.max()!
            #expect(b.count <= 32)
            #expect(b.count == 1 || b.count * longest <= Encoder.maxBatchRows)
        }
        let firsts = batches.map { lengths[$0[0]] }
        #expect(firsts == firsts.sorted(by: >), "longest batches first")
    }

    @Test func workersAndBatchSizesGiveTheSameHiddenStates() throws {
        let embedder = try SentenceEmbedder(directory: Checkout.model("all-MiniLM-L6-v2"))
        let (golden, _) = try MiniLMGolden.load()
        // a few sentences of mixed lengths: enough for several batches, light for debug builds
        let encodings = try golden.sentences.prefix(8).map { try embedder.tokenizer.encode($0, maxLength: 128) }
        func pooled(batchSize: Int, workers: Int) throws -> [[Float]] {
            var out = [[Float]](repeating: [], count: encodings.count)
            try embedder.encoder.run(encodings, batchSize: batchSize, padId: embedder.tokenizer.padId,
                                     context: ExecutionContext(workers: workers)) { indices, batch, hidden in
                for (i, v) in zip(indices, Pooling.mean(hidden, lengths: batch.lengths)) { out[i] = v }
            }
            return out
        }
        let reference = try pooled(batchSize: 1, workers: 1)
        for (batchSize, workers) in [(3, 2), (8, 1), (8, 2)] {  // (8, 2): one batch, on two lanes
            let other = try pooled(batchSize: batchSize, workers: workers)
            for (a, b) in zip(reference, other) { #expect(maxAbsDifference(a, b) < 1e-5) }
        }
    }
}
