import Foundation
import Kernels

/// DeBERTa-v2's relative position embeddings (DebertaV2Encoder.rel_embeddings and its
/// LayerNorm): 2S rows, one per bucket of the distance i − j between a query token i and
/// a key token j, shared by every layer's disentangled attention (SelfAttention.Disentangled).
/// A batch uses only the rows its distances reach, so one short sentence does not pay
/// for projecting all 2S rows in every layer.
struct RelativeEmbeddings {
    let table: Parameter   // (2S, C)
    let norm: LayerNorm?   // norm_rel_ebd "layer_norm"
    /// S: the distances' buckets each way (position_buckets, else max_relative_positions).
    let span: Int
    /// position_buckets (≤ 0: distances are not bucketed) and max_relative_positions.
    let buckets: Int, maxPosition: Int

    init(_ w: WeightScope, config c: Config) throws {
        span = c.relativeSpan
        buckets = c.positionBuckets
        maxPosition = c.maxRelativePositions
        table = try w.parameter("rel_embeddings.weight", shape: [2 * span, c.hiddenSize])
        norm = c.normRelEbd == "layer_norm" ? try LayerNorm(w.scope("LayerNorm"), size: c.hiddenSize, eps: c.layerNormEps) : nil
    }

    /// The bucket of the distance d = i − j: make_log_bucket_position, exact within
    /// buckets/2 each way, logarithmic up to max_relative_positions, in float32 as PyTorch
    /// computes it so the boundaries fall on the same distances.
    func bucket(_ d: Int) -> Int { Self.bucket(d, buckets: buckets, maxPosition: maxPosition) }

    static func bucket(_ d: Int, buckets: Int, maxPosition: Int) -> Int {
        let mid = buckets / 2
        guard buckets > 0, maxPosition > 0 else { return d }
        let magnitude = d < mid && d > -mid ? mid - 1 : abs(d)
        if magnitude <= mid { return d }
        let ratio = logf(Float(magnitude) / Float(mid)) / logf(Float(Double(maxPosition - 1) / Double(mid)))  // (a Python float, then float32)
        let position = Int((ratio * Float(mid - 1)).rounded(.up)) + mid
        return d < 0 ? -position : position
    }

    /// The table row of distance d: its bucket shifted by S and clamped into the table.
    func row(_ d: Int) -> Int { min(max(bucket(d) + span, 0), 2 * span - 1) }

    /// The rows a batch whose longest sequence has T tokens uses, normalized.
    func forward(length T: Int, saving: Bool) -> RelativePositions {
        let distances = -(T - 1)...(T - 1)
        let rows = distances.map(row)
        let first = rows.min() ?? span, last = rows.max() ?? span
        let r = RelativePositions(length: T, first: first, count: last - first + 1, hidden: table.shape[1],
                                  index: rows.map { Int32($0 - first) }, saving: saving)
        r.rows.pointer.update(from: table.pointer + first * r.hidden, count: r.count * r.hidden)
        if let norm { r.norm = norm.forward(r.rows.pointer, rows: r.count, saving: saving) }
        return r
    }

    /// Adds the rows' gradient, summed over the layers, into the table's (through the LayerNorm).
    func backward(_ r: RelativePositions) {
        guard let grad = r.grad else { return }
        let n = r.count * r.hidden
        let d = Buffer(n)
        if let norm, let saved = r.norm {
            norm.backward(grad.pointer, saved: saved, rows: r.count, into: d.pointer)
        } else {
            d.pointer.update(from: grad.pointer, count: n)
        }
        Elementwise.add(d.pointer, to: table.grad.pointer + r.first * r.hidden, count: n)
    }
}

/// One batch's relative positions: the R table rows its distances use, normalized,
/// (R, C), their gradient in training, and for each distance d = i − j the local row,
/// `index[d + T − 1]`.
final class RelativePositions {
    let length: Int
    let first: Int, count: Int, hidden: Int
    let rows: Buffer
    let grad: Buffer?
    let index: [Int32]
    var norm: LayerNorm.Saved?

    init(length T: Int, first: Int, count R: Int, hidden C: Int, index: [Int32], saving: Bool) {
        length = T
        (self.first, count, hidden) = (first, R, C)
        rows = Buffer(R * C)
        grad = saving ? Buffer(R * C) : nil
        self.index = index
    }
}
