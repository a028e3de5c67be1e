import Kernels

/// The feed-forward block: dense to the intermediate size, activation, dense back,
/// dropout, residual, LayerNorm (BertIntermediate + BertOutput; DistilBERT's FFN +
/// output_layer_norm; ALBERT's ffn, ffn_output, full_layer_layer_norm).
struct FeedForward {
    let intermediate: Linear
    let output: Linear
    let norm: LayerNorm
    let activation: Activation
    let dropout: Dropout

    init(intermediate wi: WeightScope, output wo: WeightScope, config c: Config, dropout p: Float) throws {
        intermediate = try Linear(wi.scope("dense"), in: c.hiddenSize, out: c.intermediateSize)
        output = try Linear(wo.scope("dense"), in: c.intermediateSize, out: c.hiddenSize)
        norm = try LayerNorm(wo.scope("LayerNorm"), size: c.hiddenSize, eps: c.layerNormEps)
        activation = c.activation ?? .gelu
        dropout = Dropout(p: p)
    }

    final class Saved {
        let input: Buffer                 // (ΣL, C): the block's input, also its residual
        let inner, activated: Buffer      // (ΣL, I): before and after the activation
        var mask: Buffer?                 // (ΣL, C)
        var norm: LayerNorm.Saved!
        init(rows N: Int, hidden C: Int, intermediate I: Int) {
            (input, inner, activated) = (Buffer(N * C), Buffer(N * I), Buffer(N * I))
        }
    }

    /// x: (N, C) → LayerNorm(x + dropout(W₂ · act(W₁ · x))), in place. Inference goes a block
    /// of rows at a time through the scratch's (rows, I) buffer (rows are independent here),
    /// the pass's parts taking each product's output columns.
    func forward(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass) -> Saved? {
        let (N, C, I) = (pass.batch.tokens, output.outFeatures, intermediate.outFeatures)
        guard pass.saving else {
            let s = pass.scratch
            for start in stride(from: 0, to: N, by: Scratch.feedForwardRows) {
                let n = min(Scratch.feedForwardRows, N - start), rows = x + start * C
                pass.split(pass.parts) { part, _ in
                    let columns = pass.columns(I, part: part, of: pass.parts)
                    intermediate(rows, rows: n, into: s.inner, columns: columns)
                    for r in 0..<n { activation.apply(s.inner + r * I + columns.lowerBound, count: columns.count) }
                }
                pass.split(pass.parts) { part, _ in
                    output.accumulate(s.inner, rows: n, into: rows, columns: pass.columns(C, part: part, of: pass.parts))
                }
                norm.forward(rows, rows: n)
            }
            return nil
        }
        let s = Saved(rows: N, hidden: C, intermediate: I)
        s.input.pointer.update(from: x, count: N * C)
        intermediate(x, rows: N, into: s.inner.pointer)
        s.activated.pointer.update(from: s.inner.pointer, count: N * I)
        activation.apply(s.activated.pointer, count: N * I)
        if let mask = dropout.mask(N * C, &pass.rng) {
            s.mask = mask
            let projected = Buffer(N * C)
            output(s.activated.pointer, rows: N, into: projected.pointer)
            TrainingKernels.multiply(projected.pointer, by: mask.pointer, count: N * C)
            Elementwise.add(projected.pointer, to: x, count: N * C)
        } else {
            output.accumulate(s.activated.pointer, rows: N, into: x)
        }
        s.norm = norm.forward(x, rows: N, saving: true)
        return s
    }

    /// dOut: dL/dh (N, C) → dL/dx (N, C), written into dOut; accumulates the gradients.
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, rows N: Int) {
        let (C, I) = (output.outFeatures, intermediate.outFeatures)
        let dz = Buffer(N * C)
        norm.backward(dOut, saved: s.norm, rows: N, into: dz.pointer)
        dOut.update(from: dz.pointer, count: N * C)  // the residual path
        if let m = s.mask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dInner = Buffer(N * I)
        output.backward(dz.pointer, input: s.activated.pointer, rows: N, dx: dInner.pointer)
        activation.backward(inputs: s.inner.pointer, grad: dInner.pointer, count: N * I)
        intermediate.backward(dInner.pointer, input: s.input.pointer, rows: N, dx: dOut, accumulate: true)
    }
}
