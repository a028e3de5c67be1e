import Foundation
import Kernels

/// MPNet's relative position bias: a learned scalar per head for each bucket of the
/// distance j − i between a query token i and a key token j, added to the attention
/// scores of every layer (MPNetEncoder.compute_position_bias; T5's bucketing: exact
/// below buckets/4, logarithmic up to `maxDistance`, each direction its half).
struct RelativePositionBias {
    let table: Parameter  // (buckets, H)
    let buckets: Int
    let maxDistance: Int
    var heads: Int { table.shape[1] }

    init(_ w: WeightScope, buckets: Int, heads: Int, maxDistance: Int) throws {
        table = try w.parameter("weight", shape: [buckets, heads])
        self.buckets = buckets
        self.maxDistance = maxDistance
    }

    /// The bucket of key position minus query position, as relative_position_bucket computes
    /// it (in float32, as PyTorch does, so the boundaries fall on the same distances).
    func bucket(_ relative: Int) -> Int {
        let half = buckets / 2, exact = half / 2
        var n = -relative
        var bucket = 0
        if n < 0 { bucket += half }
        n = abs(n)
        if n < exact { return bucket + n }
        let ratio = logf(Float(n) / Float(exact)) / Float(log(Double(maxDistance) / Double(exact)))
        return bucket + min(exact + Int(ratio * Float(half - exact)), half - 1)
    }

    /// The bias of a batch whose longest sequence has T tokens: a sequence of L ≤ T tokens
    /// uses the top-left (L, L) block of each head's (T, T) matrix, as the bias depends on
    /// j − i alone.
    func forward(length T: Int, saving: Bool) -> PositionBias {
        let bias = PositionBias(length: T, heads: heads, saving: saving)
        let H = heads
        for i in 0..<T {
            for j in 0..<T {
                let row = table.pointer + bucket(j - i) * H
                for h in 0..<H { bias.values[(h * T + i) * T + j] = row[h] }
            }
        }
        return bias
    }

    /// Adds the bias's gradient, summed over the layers that used it, into the table's.
    func backward(_ bias: PositionBias) {
        guard let grad = bias.grad else { return }
        let (T, H) = (bias.length, heads)
        for i in 0..<T {
            for j in 0..<T {
                let row = table.grad.pointer + bucket(j - i) * H
                for h in 0..<H { row[h] += grad[(h * T + i) * T + j] }
            }
        }
    }
}

/// One batch's position bias: (H, T, T) values, and in training their gradient.
final class PositionBias {
    let length: Int
    let values: Buffer
    let grad: Buffer?

    init(length T: Int, heads H: Int, saving: Bool) {
        length = T
        values = Buffer(H * T * T)
        grad = saving ? Buffer(H * T * T) : nil
    }

    /// Head h's (L, L) block into `scores` (L, L), to which the scaled q·kᵀ is then added.
    func copy(head h: Int, size L: Int, into scores: UnsafeMutablePointer<Float>) {
        let T = length, base = values.pointer + h * T * T
        for i in 0..<L { (scores + i * L).update(from: base + i * T, count: L) }
    }

    /// Adds dScores (L, L) of head h to the gradient's block.
    func accumulate(head h: Int, size L: Int, _ dScores: UnsafePointer<Float>) {
        guard let grad else { return }
        let T = length, base = grad.pointer + h * T * T
        for i in 0..<L { Elementwise.add(dScores + i * L, to: base + i * T, count: L) }
    }
}
