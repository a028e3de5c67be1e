import Kernels

/// torch.nn.Linear: y = x · Wᵀ + b, with W stored (out, in) as PyTorch stores it.
struct Linear {
    let weight: Parameter  // (out, in)
    let bias: Parameter    // (out)
    let f32: F32Matrix?    // (out, in), the weight packed once for oneDNN, for fp32 inference in the encoder layers
    let bf16: BF16Matrix?  // (out, in), the weight rounded and packed once, when the scope's precision is bf16
    let int8: Int8Matrix?  // (out, in), quantized per output channel and packed once, for int8
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    init(_ w: WeightScope, in inFeatures: Int, out outFeatures: Int) throws {
        weight = try w.parameter("weight", shape: [outFeatures, inFeatures])
        bias = try w.parameter("bias", shape: [outFeatures])
        // Packed once per weight: ALBERT's layers share theirs, and so their packing.
        let (precision, name, p) = (w.packedPrecision, weight.name, weight.pointer)
        let (rows, cols) = (outFeatures, inFeatures)
        do {
            f32 = precision == .fp32 ? try w.packed(name) { () throws(DNNL.Failure) in try F32Matrix(packing: p, rows: rows, cols: cols) } : nil
            bf16 = precision == .bf16 ? try w.packed(name) { () throws(DNNL.Failure) in try BF16Matrix(converting: p, rows: rows, cols: cols) } : nil
            int8 = precision == .int8 ? try w.packed(name) { () throws(DNNL.Failure) in try Int8Matrix(quantizing: p, rows: rows, cols: cols) } : nil
        } catch {
            throw ModelError.precisionUnavailable(precision: precision?.rawValue ?? "fp32", reason: "\(weight.name): \(error)")
        }
    }

    /// A Linear over given parameters (a new head's).
    init(weight: Parameter, bias: Parameter) {
        self.weight = weight
        self.bias = bias
        (f32, bf16, int8) = (nil, nil, nil)
    }

    // MARK: forward

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
        if let f32 {
            return F32Products.multiply(x, weight: f32, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1, ldc: outFeatures)
        }
        if let bf16 {
            return BF16.multiply(x, weight: bf16, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1, ldc: outFeatures)
        }
        if let int8 {
            return Int8Products.multiply(x, weight: int8, weightRows: cols, into: y + cols.lowerBound, rows: rows, ldc: outFeatures)
        }
        Gemm.multiplyWeight(x, weight.pointer + cols.lowerBound * inFeatures, into: y + cols.lowerBound,
                            m: rows, n: cols.count, k: inFeatures, beta: 1, ldc: outFeatures)
    }

    // MARK: backward

    /// dy: (rows, out), x: the forward's input (rows, in). Accumulates dW += dyᵀ·x and
    /// db += Σ dy; writes dx = dy·W (rows, in), or adds it when `accumulate`.
    func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false) {
        precondition(weight.trainable, "backward through \(weight.name), which was loaded for inference")
        Gemm.multiply(dy, x, into: weight.grad.pointer, m: outFeatures, n: inFeatures, k: rows,
                      transposeA: true, beta: 1)
        TrainingKernels.addColumnSums(dy, rows: rows, cols: outFeatures, into: bias.grad.pointer)
        if let dx {
            Gemm.multiply(dy, weight.pointer, into: dx, m: rows, n: inFeatures, k: outFeatures, beta: accumulate ? 1 : 0)
        }
    }
}
