/// One transformer layer: self-attention, then the feed-forward block, each with its dropout,
/// residual and LayerNorm, after the residual (BertLayer and its twins) or on the block's input
/// (ModernBertEncoderLayer: pre-norm, as the architecture's `LayerVariant` says).
struct EncoderLayer {
    let attention: SelfAttention
    let feedForward: FeedForward

    init(_ w: WeightScope, config c: Config, layer: Int, attentionDropout: Float, hiddenDropout: Float) throws {
        attention = try SelfAttention(w.scope("attention"), config: c, layer: layer, attentionDropout: attentionDropout,
                                      hiddenDropout: hiddenDropout)
        feedForward = try FeedForward(intermediate: w.scope("intermediate"), output: w.scope("output"), config: c, layer: layer,
                                      dropout: hiddenDropout)
    }

    struct Saved {
        let attention: SelfAttention.Saved
        let feedForward: FeedForward.Saved
    }

    /// x: (ΣL, C), the batch's real tokens packed (see PackedRows.swift), updated in place.
    func forward(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass) -> Saved? {
        let a = attention.forward(x, pass)
        let f = feedForward.forward(x, pass)
        guard let a, let f else { return nil }
        return Saved(attention: a, feedForward: f)
    }

    /// dOut: dL/d(output) (ΣL, C) → dL/dx, in place.
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, pass: ForwardPass) {
        feedForward.backward(dOut, saved: s.feedForward, rows: pass.batch.tokens)
        attention.backward(dOut, saved: s.attention, pass: pass)
    }
}
