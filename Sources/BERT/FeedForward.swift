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

    /// x: (N, C) → LayerNorm(x + W₂ · act(W₁ · x)), in place; uses scratch.inner (N, I).
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows N: Int, scratch s: Scratch) {
        intermediate(x, rows: N, into: s.inner)
        activation.apply(s.inner, count: N * intermediate.outFeatures)
        output(s.inner, rows: N, into: s.q)
        Elementwise.add(s.q, to: x, count: N * output.outFeatures)
        norm(x, rows: N)
    }
}
