import Kernels

/// torch.nn.Linear: y = x · Wᵀ + b, with W stored (out, in) as PyTorch stores it.
struct Linear {
    let weight: Tensor  // (out, in)
    let bias: Tensor    // (out)
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    init(_ w: WeightScope, in inFeatures: Int, out outFeatures: Int) throws {
        weight = try w.tensor("weight", shape: [outFeatures, inFeatures])
        bias = try w.tensor("bias", shape: [outFeatures])
    }

    /// x: (rows, in) → y: (rows, out)
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        Gemm.multiply(x, weight.pointer, into: y, m: rows, n: outFeatures, k: inFeatures, transposeB: true)
        Elementwise.addBias(y, rows: rows, cols: outFeatures, bias: bias.pointer)
    }
}

/// torch.nn.LayerNorm over the last axis.
struct LayerNorm {
    let weight: Tensor  // (C)
    let bias: Tensor    // (C)
    let eps: Float

    init(_ w: WeightScope, size: Int, eps: Float) throws {
        weight = try w.tensor("weight", shape: [size])
        bias = try w.tensor("bias", shape: [size])
        self.eps = eps
    }

    /// x: (rows, C), normalized in place.
    func callAsFunction(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        LayerNormKernel.apply(x, rows: rows, cols: weight.count, gamma: weight.pointer, beta: bias.pointer, eps: eps)
    }
}
