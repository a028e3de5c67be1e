import Kernels

/// torch.nn.Linear: y = x · Wᵀ + b, with W stored (out, in) as PyTorch stores it.
struct Linear {
    let weight: Parameter  // (out, in)
    let bias: Parameter?   // (out); ModernBERT's projections have none
    let f32: F32Matrix?    // (out, in), the weight packed once for oneDNN (fp32 inference, opt-in)
    let bf16: BF16Matrix?  // (out, in), the weight rounded and packed once, when the scope's precision is bf16
    let int8: Int8Matrix?  // (out, in), quantized per output channel and packed once, for int8
    /// Fine-tuning in bf16 (an encoder layer's Linear): the forward product and both backward
    /// ones round their operands to bf16 (`BF16.gemm`); weights, gradients and AdamW stay fp32.
    let trainsInBF16: Bool
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    init(_ w: WeightScope, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true) throws {
        let weight = try w.parameter("weight", shape: [outFeatures, inFeatures])
        let bias = hasBias ? try w.parameter("bias", shape: [outFeatures]) : nil
        try self.init(weight: weight, bias: bias, packedIn: w)
    }

    /// `parts` Linears of out features each, the row blocks of one fused (parts · out, in)
    /// weight under `w` (ModernBERT's Wqkv: query, key, value).
    static func fused(_ w: WeightScope, in inFeatures: Int, out outFeatures: Int, parts: Int, bias hasBias: Bool) throws -> [Linear] {
        let weight = try w.parameter("weight", shape: [parts * outFeatures, inFeatures])
        let bias = hasBias ? try w.parameter("bias", shape: [parts * outFeatures]) : nil
        return try (0..<parts).map { k in
            let rows = k * outFeatures..<(k + 1) * outFeatures
            return try Linear(weight: Parameter(rows: rows, of: weight), bias: bias.map { Parameter(rows: rows, of: $0) },
                              packedIn: w)
        }
    }

    /// Packs the weight for the scope's precision once per weight name: ALBERT's layers
    /// share theirs, and so their packing.
    private init(weight: Parameter, bias: Parameter?, packedIn w: WeightScope) throws {
        self.weight = weight
        self.bias = bias
        trainsInBF16 = w.trainingPrecision == .bf16
        let (precision, name, p) = (w.packedPrecision, weight.name, weight.pointer)
        let (rows, cols) = (weight.shape[0], weight.shape[1])
        do {
            f32 = precision == .fp32 ? try w.packed(name) { () throws(DNNL.Failure) in try F32Matrix(packing: p, rows: rows, cols: cols) } : nil
            bf16 = precision == .bf16 ? try w.packed(name) { () throws(DNNL.Failure) in try BF16Matrix(converting: p, rows: rows, cols: cols) } : nil
            int8 = precision == .int8 ? try w.packed(name) { () throws(DNNL.Failure) in try Int8Matrix(quantizing: p, rows: rows, cols: cols) } : nil
        } catch {
            throw ModelError.precisionUnavailable(precision: precision?.rawValue ?? "fp32", reason: "\(weight.name): \(error)")
        }
    }

    /// A Linear over given parameters (a new head's).
    init(weight: Parameter, bias: Parameter?) {
        self.weight = weight
        self.bias = bias
        (f32, bf16, int8, trainsInBF16) = (nil, nil, nil, false)
    }

    // MARK: forward

    /// x: (rows, in) → y: (rows, out). The bias is copied in first and the product added
    /// to it (beta 1), which saves OpenBLAS's pass that zeroes y and our pass adding the bias;
    /// int8 and bf16 take the bias into their products instead. With `columns`, only those
    /// output columns of y are written.
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                        columns: Range<Int>? = nil) {
        let cols = columns ?? 0..<outFeatures, out = outFeatures
        if let int8 {  // the bias goes into the pass that dequantizes
            return Int8Products.multiply(x, weight: int8, weightRows: cols, into: y + cols.lowerBound, rows: rows, ldc: out,
                                         bias: bias(cols), accumulate: false)
        }
        if let bf16 {  // and here into oneDNN's kernel
            return BF16.multiply(x, weight: bf16, weightRows: cols, into: y + cols.lowerBound, rows: rows, ldc: out, bias: bias(cols))
        }
        for r in 0..<rows {
            if let bias {
                (y + r * out + cols.lowerBound).update(from: bias.pointer + cols.lowerBound, count: cols.count)
            } else {
                (y + r * out + cols.lowerBound).update(repeating: 0, count: cols.count)
            }
        }
        product(x, rows: rows, into: y, columns: cols)
    }

    /// y (rows, out) += x · Wᵀ + b: a residual connection fused into the product.
    func accumulate(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
                    columns: Range<Int>? = nil) {
        let cols = columns ?? 0..<outFeatures, out = outFeatures
        if let int8 {
            return Int8Products.multiply(x, weight: int8, weightRows: cols, into: y + cols.lowerBound, rows: rows, ldc: out,
                                         bias: bias(cols))
        }
        if let bf16 {
            return BF16.multiply(x, weight: bf16, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1, ldc: out,
                                 bias: bias(cols))
        }
        if let bias, cols.count == out {
            Elementwise.addBias(y, rows: rows, cols: out, bias: bias.pointer)
        } else if let bias {
            for r in 0..<rows { Elementwise.add(bias.pointer + cols.lowerBound, to: y + r * out + cols.lowerBound, count: cols.count) }
        }
        product(x, rows: rows, into: y, columns: cols)
    }

    /// bf16 only: y (rows, out) = bf16(act(x · Wᵀ + b)), bit patterns; with `columns`, only those
    /// columns of y. A feed-forward block's first product: `accumulate(rounded:)` reads y as it is.
    func activated(_ x: UnsafePointer<Float>, rows: Int, activation: Activation, into y: UnsafeMutablePointer<UInt16>,
                   columns: Range<Int>? = nil) {
        guard let bf16 else { preconditionFailure("\(weight.name): activated products are for bf16 weights") }
        let cols = columns ?? 0..<outFeatures
        BF16.multiplyActivated(x, weight: bf16, weightRows: cols, bias: bias(cols), activation: activation,
                               into: y + cols.lowerBound, rows: rows, ldc: outFeatures)
    }

    /// bf16 only: y (rows, out) += x · Wᵀ + b for x (rows, in) already bf16.
    func accumulate(rounded x: UnsafePointer<UInt16>, rows: Int, into y: UnsafeMutablePointer<Float>, columns: Range<Int>? = nil) {
        guard let bf16 else { preconditionFailure("\(weight.name): products of bf16 inputs are for bf16 weights") }
        let cols = columns ?? 0..<outFeatures
        BF16.multiply(rounded: x, weight: bf16, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1,
                      ldc: outFeatures, bias: bias(cols))
    }

    /// The bias's entries for these output columns, or nil without one.
    private func bias(_ cols: Range<Int>) -> UnsafePointer<Float>? {
        bias.map { UnsafePointer($0.pointer) + cols.lowerBound }
    }

    /// y[:, cols] += x · W[cols]ᵀ: the weight's rows for those columns are contiguous. (int8
    /// and bf16 take the bias themselves, in callAsFunction and accumulate.)
    private func product(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, columns cols: Range<Int>) {
        if let f32 {
            return F32Products.multiply(x, weight: f32, weightRows: cols, into: y + cols.lowerBound, rows: rows, beta: 1, ldc: outFeatures)
        }
        if trainsInBF16 {
            return BF16.gemm(x, weight.pointer + cols.lowerBound * inFeatures, into: y + cols.lowerBound,
                             m: rows, n: cols.count, k: inFeatures, transposeB: true, beta: 1, ldc: outFeatures)
        }
        Gemm.multiplyWeight(x, weight.pointer + cols.lowerBound * inFeatures, into: y + cols.lowerBound,
                            m: rows, n: cols.count, k: inFeatures, beta: 1, ldc: outFeatures)
    }

    // MARK: backward

    /// dy: (rows, out), x: the forward's input (rows, in). Accumulates dW += dyᵀ·x and
    /// db += Σ dy (when there is a bias); writes dx = dy·W (rows, in), or adds it when `accumulate`.
    func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false) {
        precondition(weight.trainable, "backward through \(weight.name), which was loaded for inference")
        gradientProduct(dy, x, into: weight.grad.pointer, m: outFeatures, n: inFeatures, k: rows, transposeA: true, beta: 1)
        if let bias { TrainingKernels.addColumnSums(dy, rows: rows, cols: outFeatures, into: bias.grad.pointer) }
        if let dx {
            gradientProduct(dy, weight.pointer, into: dx, m: rows, n: inFeatures, k: outFeatures, beta: accumulate ? 1 : 0)
        }
    }

    /// A backward product, on rounded operands when this Linear trains in bf16.
    private func gradientProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                                 m: Int, n: Int, k: Int, transposeA: Bool = false, beta: Float) {
        if trainsInBF16 {
            BF16.gemm(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, beta: beta)
        } else {
            Gemm.multiply(a, b, into: c, m: m, n: n, k: k, transposeA: transposeA, beta: beta)
        }
    }
}
