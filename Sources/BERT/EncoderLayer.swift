/// BertLayer: self-attention, then feed-forward, each with its residual and LayerNorm.
struct EncoderLayer {
    let attention: SelfAttention
    let feedForward: FeedForward

    init(_ w: WeightScope, config c: Config) throws {
        attention = try SelfAttention(w.scope("attention"), config: c)
        feedForward = try FeedForward(intermediate: w.scope("intermediate"), output: w.scope("output"), config: c)
    }

    /// x: (B·T, C), updated in place.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, batch: Batch, scratch: Scratch) {
        attention(x, batch: batch, scratch: scratch)
        feedForward(x, rows: batch.rows, scratch: scratch)
    }
}

/// Working memory for one forward pass, allocated once per batch and reused by every layer.
final class Scratch {
    let q, k, v, context: UnsafeMutablePointer<Float>  // (N, C) each
    let scores: UnsafeMutablePointer<Float>            // (T, T)
    let inner: UnsafeMutablePointer<Float>             // (N, I)
    private let all: UnsafeMutablePointer<Float>

    init(rows N: Int, length T: Int, hidden C: Int, intermediate I: Int) {
        let sizes = [N * C, N * C, N * C, N * C, T * T, N * I]
        all = .allocate(capacity: sizes.reduce(0, +))
        var offsets: [Int] = []
        var at = 0
        for s in sizes { offsets.append(at); at += s }
        (q, k, v, context) = (all + offsets[0], all + offsets[1], all + offsets[2], all + offsets[3])
        scores = all + offsets[4]
        inner = all + offsets[5]
    }

    deinit { all.deallocate() }
}
