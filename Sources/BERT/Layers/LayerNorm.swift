import Kernels

/// torch.nn.LayerNorm over the last axis.
struct LayerNorm {
    let weight: Parameter  // (C)
    let bias: Parameter    // (C)
    let eps: Float
    var size: Int { weight.count }

    init(_ w: WeightScope, size: Int, eps: Float) throws {
        weight = try w.parameter("weight", shape: [size])
        bias = try w.parameter("bias", shape: [size])
        self.eps = eps
    }

    /// What the backward needs: x̂ (rows, C) and 1/σ (rows).
    final class Saved {
        let xhat: Buffer, rstd: Buffer
        init(rows: Int, cols: Int) { xhat = Buffer(rows * cols); rstd = Buffer(rows) }
    }

    /// x: (rows, C), normalized in place; with `saving`, keeps what the backward needs.
    @discardableResult
    func forward(_ x: UnsafeMutablePointer<Float>, rows: Int, saving: Bool = false) -> Saved? {
        guard saving else {
            LayerNormKernel.apply(x, rows: rows, cols: size, gamma: weight.pointer, beta: bias.pointer, eps: eps)
            return nil
        }
        let s = Saved(rows: rows, cols: size)
        LayerNormKernel.applySaving(x, rows: rows, cols: size, gamma: weight.pointer, beta: bias.pointer, eps: eps,
                                    normalized: s.xhat.pointer, inverseStd: s.rstd.pointer)
        return s
    }

    /// dy (rows, C) → dx (rows, C); accumulates dγ, dβ.
    func backward(_ dy: UnsafePointer<Float>, saved s: Saved, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        LayerNormKernel.backward(dy, normalized: s.xhat.pointer, inverseStd: s.rstd.pointer, gamma: weight.pointer,
                                 rows: rows, cols: size, into: dx,
                                 gammaGradient: weight.grad.pointer, betaGradient: bias.grad.pointer)
    }
}
