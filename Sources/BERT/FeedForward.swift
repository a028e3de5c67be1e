import Kernels

/// BertIntermediate + BertOutput: dense to the intermediate size, activation, dense
/// back, residual, LayerNorm.
struct FeedForward {
    let intermediate: Linear
    let output: Linear
    let norm: LayerNorm
    let activation: Activation

    init(intermediate wi: WeightScope, output wo: WeightScope, config c: Config) throws {
        intermediate = try Linear(wi.scope("dense"), in: c.hiddenSize, out: c.intermediateSize)
        output = try Linear(wo.scope("dense"), in: c.intermediateSize, out: c.hiddenSize)
        norm = try LayerNorm(wo.scope("LayerNorm"), size: c.hiddenSize, eps: c.layerNormEps)
        activation = c.activation ?? .gelu
    }

    /// x: (N, C) → LayerNorm(x + W₂ · act(W₁ · x)), in place, a block of rows at a time
    /// through scratch.inner (rows are independent here).
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows N: Int, scratch s: Scratch) {
        let C = output.outFeatures
        for start in stride(from: 0, to: N, by: Scratch.feedForwardRows) {
            let n = min(Scratch.feedForwardRows, N - start), rows = x + start * C
            intermediate(rows, rows: n, into: s.inner)
            activation.apply(s.inner, count: n * intermediate.outFeatures)
            output.accumulate(s.inner, rows: n, into: rows)
            norm(rows, rows: n)
        }
    }
}
