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
    /// With `columns`, only those output columns of y are written.
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                        columns: Range<Int>? = nil) {
        let cols = columns ?? 0..<outFeatures, out = outFeatures
        for r in 0..<rows { (y + r * out + cols.lowerBound).update(from: bias.pointer + cols.lowerBound, count: cols.count) }
        product(x, rows: rows, into: y, columns: cols)
    }

    /// y (rows, out) += x · Wᵀ + b: a residual connection fused into the product.
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                    columns: Range<Int>? = nil) {
        let cols = columns ?? 0..<outFeatures, out = outFeatures
        if cols.count == out {
            Elementwise.addBias(y, rows: rows, cols: out, bias: bias.pointer)
        } else {
            for r in 0..<rows { Elementwise.add(bias.pointer + cols.lowerBound, to: y + r * out + cols.lowerBound, count: cols.count) }
        }
        product(x, rows: rows, into: y, columns: cols)
    }

    /// y[:, cols] += x · W[cols]ᵀ: the weight's rows for those columns are contiguous.
    private func product(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, columns cols: Range<Int>) {
        if let bf16 {
            return BF16.multiply(x, weight: bf16, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1, ldc: outFeatures)
        }
        Gemm.multiplyWeight(x, weight.pointer + cols.lowerBound * inFeatures, into: y + cols.lowerBound,
                            m: rows, n: cols.count, k: inFeatures, beta: 1, ldc: outFeatures)
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
