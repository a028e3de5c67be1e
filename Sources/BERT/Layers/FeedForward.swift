import Kernels

/// The feed-forward block: dense to the intermediate size, activation, dense back,
/// dropout, residual, LayerNorm (BertIntermediate + BertOutput; DistilBERT's FFN +
/// output_layer_norm; ALBERT's ffn, ffn_output, full_layer_layer_norm). ModernBERT's
/// ModernBertMLP with mlp_norm: pre-norm (the LayerNorm on the block's input, none after)
/// and gated (GeGLU: the intermediate dense is 2I wide, act(first half) · second half).
struct FeedForward {
    let intermediate: Linear  // (I, C), gated: (2I, C)
    let output: Linear        // (C, I)
    let norm: LayerNorm
    let activation: Activation
    let dropout: Dropout
    let preNorm: Bool
    let gated: Bool
    /// I: the activation's width.
    var width: Int { output.inFeatures }
    /// Whether inference runs both products in bf16 with the activation between them inside
    /// oneDNN's first product (bias, activation, rounding to bf16), not gated.
    var roundsBetween: Bool { intermediate.bf16 != nil && output.bf16 != nil && !gated }

    init(intermediate wi: WeightScope, output wo: WeightScope, config c: Config, layer: Int, dropout p: Float) throws {
        let variant = c.architecture.layerVariant(c, layer: layer), bias = variant.feedForwardBias
        let (C, I) = (c.hiddenSize, c.intermediateSize)
        intermediate = try Linear(wi.scope("dense"), in: C, out: variant.gated ? 2 * I : I, bias: bias)
        output = try Linear(wo.scope("dense"), in: I, out: C, bias: bias)
        norm = try LayerNorm((variant.preNorm ? wi : wo).scope("LayerNorm"), size: C, eps: c.layerNormEps,
                             bias: c.architecture.normBias(c))
        activation = c.activation ?? .gelu
        dropout = Dropout(p: p)
        (preNorm, gated) = (variant.preNorm, variant.gated)
    }

    final class Saved {
        let input: Buffer                 // (ΣL, C): the intermediate's input (post-norm: also the residual)
        let inner: Buffer                 // (ΣL, I), gated (ΣL, 2I): before the activation
        let activated: Buffer             // (ΣL, I): after it (and the gate)
        var mask: Buffer?                 // (ΣL, C)
        var norm: LayerNorm.Saved!
        /// Each written whole in `forward` before anything reads it.
        init(rows N: Int, hidden C: Int, inner: Int, intermediate I: Int) {
            (input, self.inner, activated) = (Buffer(uninitialized: N * C), Buffer(uninitialized: N * inner),
                                              Buffer(uninitialized: N * I))
        }
    }

    /// x: (N, C) → LayerNorm(x + dropout(W₂ · act(W₁ · x))) (pre-norm: x + dropout(W₂ · act(W₁ ·
    /// LayerNorm(x)))), in place. Inference goes a block of rows at a time through the scratch's
    /// (rows, I) buffers (rows are independent here), the pass's parts taking each product's
    /// output columns (gated: the same columns of both halves).
    func forward(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass) -> Saved? {
        let (N, C, I) = (pass.batch.tokens, output.outFeatures, width)
        guard pass.saving else {
            let s = pass.scratch
            for start in stride(from: 0, to: N, by: Scratch.feedForwardRows) {
                let n = min(Scratch.feedForwardRows, N - start), rows = x + start * C
                var input = UnsafePointer(rows)
                if preNorm {
                    s.normed.update(from: rows, count: n * C)
                    norm.forward(s.normed, rows: n)
                    input = UnsafePointer(s.normed)
                }
                if roundsBetween {  // bf16: the activations go from one product to the next as bf16
                    pass.split(pass.parts) { part, _ in
                        intermediate.activated(input, rows: n, activation: activation, into: s.inner16,
                                               columns: pass.columns(I, part: part, of: pass.parts))
                    }
                    pass.split(pass.parts) { part, _ in
                        output.accumulate(rounded: s.inner16, rows: n, into: rows, columns: pass.columns(C, part: part, of: pass.parts))
                    }
                    if !preNorm { norm.forward(rows, rows: n) }
                    continue
                }
                pass.split(pass.parts) { part, _ in
                    let columns = pass.columns(I, part: part, of: pass.parts)
                    if gated {
                        intermediate(input, rows: n, into: s.inner, columns: columns)
                        intermediate(input, rows: n, into: s.inner, columns: columns.lowerBound + I..<columns.upperBound + I)
                        activation.gated(s.inner, rows: n, width: I, columns: columns, into: s.gatedInner)
                    } else {
                        intermediate(input, rows: n, into: s.inner, columns: columns)
                        for r in 0..<n { activation.apply(s.inner + r * I + columns.lowerBound, count: columns.count) }
                    }
                }
                let activated = gated ? s.gatedInner : s.inner
                pass.split(pass.parts) { part, _ in
                    output.accumulate(activated, rows: n, into: rows, columns: pass.columns(C, part: part, of: pass.parts))
                }
                if !preNorm { norm.forward(rows, rows: n) }
            }
            return nil
        }
        let s = Saved(rows: N, hidden: C, inner: intermediate.outFeatures, intermediate: I)
        s.input.pointer.update(from: x, count: N * C)
        if preNorm { s.norm = norm.forward(s.input.pointer, rows: N, saving: true) }
        intermediate(s.input.pointer, rows: N, into: s.inner.pointer)
        if gated {
            activation.gated(s.inner.pointer, rows: N, width: I, into: s.activated.pointer)
        } else {
            s.activated.pointer.update(from: s.inner.pointer, count: N * I)
            activation.apply(s.activated.pointer, count: N * I)
        }
        if let mask = dropout.mask(N * C, &pass.rng) {
            s.mask = mask
            let projected = Buffer(uninitialized: N * C)  // written whole by the product
            output(s.activated.pointer, rows: N, into: projected.pointer)
            TrainingKernels.multiply(projected.pointer, by: mask.pointer, count: N * C)
            Elementwise.add(projected.pointer, to: x, count: N * C)
        } else {
            output.accumulate(s.activated.pointer, rows: N, into: x)
        }
        if !preNorm { s.norm = norm.forward(x, rows: N, saving: true) }
        return s
    }

    /// dOut: dL/dh (N, C) → dL/dx (N, C), written into dOut; accumulates the gradients.
    func backward(_ dOut: UnsafeMutablePointer<Float>, saved s: Saved, rows N: Int) {
        let (C, I) = (output.outFeatures, width)
        let dz = Buffer(N * C)
        if preNorm {
            dz.pointer.update(from: dOut, count: N * C)  // dOut stays: the residual path
        } else {
            norm.backward(dOut, saved: s.norm, rows: N, into: dz.pointer)
            dOut.update(from: dz.pointer, count: N * C)  // the residual path
        }
        if let m = s.mask { TrainingKernels.multiply(dz.pointer, by: m.pointer, count: N * C) }
        let dActivated = Buffer(N * I)
        output.backward(dz.pointer, input: s.activated.pointer, rows: N, dx: dActivated.pointer)
        var dInner = dActivated
        if gated {
            dInner = Buffer(N * 2 * I)
            activation.gatedBackward(s.inner.pointer, dy: dActivated.pointer, rows: N, width: I, into: dInner.pointer)
        } else {
            activation.backward(inputs: s.inner.pointer, grad: dInner.pointer, count: N * I)
        }
        guard preNorm else {
            intermediate.backward(dInner.pointer, input: s.input.pointer, rows: N, dx: dOut, accumulate: true)
            return
        }
        let dNormed = Buffer(N * C), dx = Buffer(N * C)
        intermediate.backward(dInner.pointer, input: s.input.pointer, rows: N, dx: dNormed.pointer)
        norm.backward(dNormed.pointer, saved: s.norm, rows: N, into: dx.pointer)
        Elementwise.add(dx.pointer, to: dOut, count: N * C)
    }
}
