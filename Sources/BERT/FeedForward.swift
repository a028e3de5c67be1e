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
    /// through scratch.inner (rows are independent here). With `lanes`, each thread takes
    /// half of each product's output columns.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows N: Int, scratch s: Scratch, lanes: Lanes? = nil) {
        let (C, I) = (output.outFeatures, intermediate.outFeatures)
        for start in stride(from: 0, to: N, by: Scratch.feedForwardRows) {
            let n = min(Scratch.feedForwardRows, N - start), rows = x + start * C
            if let lanes {
                lanes.split(Lanes.parts) { part, _ in
                    let columns = Lanes.columns(I, part: part, of: Lanes.parts)
                    intermediate(rows, rows: n, into: s.inner, columns: columns)
                    for r in 0..<n { activation.apply(s.inner + r * I + columns.lowerBound, count: columns.count) }
                }
                lanes.split(Lanes.parts) { part, _ in
                    output.accumulate(s.inner, rows: n, into: rows, columns: Lanes.columns(C, part: part, of: Lanes.parts))
                }
            } else {
                intermediate(rows, rows: n, into: s.inner)
                activation.apply(s.inner, count: n * I)
                output.accumulate(s.inner, rows: n, into: rows)
            }
            norm(rows, rows: n)
        }
    }
}
