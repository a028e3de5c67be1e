import Kernels

/// torch.nn.LayerNorm over the last axis; without a bias (ModernBERT's norm_bias false) β is 0.
struct LayerNorm {
    let weight: Parameter  // (C)
    let bias: Parameter?   // (C)
    let eps: Float
    /// β when there is no bias: zeros (C).
    private let zeros: Buffer?
    var size: Int { weight.count }
    private var beta: UnsafePointer<Float> { UnsafePointer(bias?.pointer ?? zeros!.pointer) }

    init(_ w: WeightScope, size: Int, eps: Float, bias hasBias: Bool = true) throws {
        try self.init(weight: w.parameter("weight", shape: [size]), bias: hasBias ? w.parameter("bias", shape: [size]) : nil, eps: eps)
    }

    /// A LayerNorm over given parameters (a new head's).
    init(weight: Parameter, bias: Parameter?, eps: Float) {
        self.weight = weight
        self.bias = bias
        self.eps = eps
        zeros = bias == nil ? Buffer(weight.count) : nil
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
            LayerNormKernel.apply(x, rows: rows, cols: size, gamma: weight.pointer, beta: beta, eps: eps)
            return nil
        }
        let s = Saved(rows: rows, cols: size)
        LayerNormKernel.applySaving(x, rows: rows, cols: size, gamma: weight.pointer, beta: beta, eps: eps,
                                    normalized: s.xhat.pointer, inverseStd: s.rstd.pointer)
        return s
    }

    /// dy (rows, C) → dx (rows, C); accumulates dγ, dβ (when there is a bias).
    func backward(_ dy: UnsafePointer<Float>, saved s: Saved, rows: Int, into dx: UnsafeMutablePointer<Float>) {
        let unused = bias == nil ? Buffer(size) : nil
        LayerNormKernel.backward(dy, normalized: s.xhat.pointer, inverseStd: s.rstd.pointer, gamma: weight.pointer,
                                 rows: rows, cols: size, into: dx,
                                 gammaGradient: weight.grad.pointer, betaGradient: bias?.grad.pointer ?? unused!.pointer)
    }
}
