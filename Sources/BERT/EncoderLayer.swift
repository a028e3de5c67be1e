/// BertLayer: self-attention, then feed-forward, each with its residual and LayerNorm.
struct EncoderLayer {
    let attention: SelfAttention
    let feedForward: FeedForward

    init(_ w: WeightScope, config c: Config) throws {
        attention = try SelfAttention(w.scope("attention"), config: c)
        feedForward = try FeedForward(intermediate: w.scope("intermediate"), output: w.scope("output"), config: c)
    }

    /// x: (ΣL, C), the batch's real tokens packed (see PackedRows.swift), updated in place.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, batch: Batch, scratch: Scratch, lanes: Lanes? = nil) {
        attention(x, batch: batch, scratch: scratch, lanes: lanes)
        feedForward(x, rows: batch.tokens, scratch: scratch, lanes: lanes)
    }
}
