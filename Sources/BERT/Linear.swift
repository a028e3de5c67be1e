import Kernels

/// torch.nn.Linear: y = x · Wᵀ + b, with W stored (out, in) as PyTorch stores it.
struct Linear {
    let weight: Tensor  // (out, in)
    let bias: Tensor    // (out)
    let bf16: BF16Matrix?  // (out, in), the weight rounded once, when the scope's precision is bf16
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    init(_ w: WeightScope, in inFeatures: Int, out outFeatures: Int) throws {
        weight = try w.tensor("weight", shape: [outFeatures, inFeatures])
        bias = try w.tensor("bias", shape: [outFeatures])
        bf16 = w.precision == .bf16 ? BF16Matrix(converting: weight.pointer, rows: outFeatures, cols: inFeatures) : nil
    }

    /// x: (rows, in) → y: (rows, out). The bias is copied in first and the product added
    /// to it (beta 1), which saves OpenBLAS's pass that zeroes y and our pass adding the bias.
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (y + r * outFeatures).update(from: bias.pointer, count: outFeatures) }
        product(x, rows: rows, into: y)
    }

    /// y (rows, out) += x · Wᵀ + b: a residual connection fused into the product.
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        Elementwise.addBias(y, rows: rows, cols: outFeatures, bias: bias.pointer)
        product(x, rows: rows, into: y)
    }

    /// y (rows, out) += x · Wᵀ
    private func product(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if let bf16 { return BF16.multiply(x, weight: bf16, into: y, rows: rows, beta: 1) }
        Gemm.multiply(x, weight.pointer, into: y, m: rows, n: outFeatures, k: inFeatures, transposeB: true, beta: 1)
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
