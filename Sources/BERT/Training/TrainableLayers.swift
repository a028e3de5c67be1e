import Kernels

/// torch.nn.Linear with gradients: y = x·Wᵀ + b, W (out, in).
struct TrainableLinear {
    let weight: Parameter  // (out, in)
    let bias: Parameter    // (out)
    var inFeatures: Int { weight.shape[1] }
    var outFeatures: Int { weight.shape[0] }

    init(_ params: ParameterSet, _ prefix: String, from w: WeightScope, in i: Int, out o: Int) throws {
        weight = params.add("\(prefix).weight", try w.tensor("weight", shape: [o, i]))
        bias = params.add("\(prefix).bias", try w.tensor("bias", shape: [o]))
    }

    init(weight: Parameter, bias: Parameter) {
        self.weight = weight
        self.bias = bias
    }

    /// x: (rows, in) → y: (rows, out)
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        Gemm.multiply(x, weight.pointer, into: y, m: rows, n: outFeatures, k: inFeatures, transposeB: true)
        Elementwise.addBias(y, rows: rows, cols: outFeatures, bias: bias.pointer)
    }

    /// dy: (rows, out), x: the forward's input (rows, in). Accumulates dW += dyᵀ·x and
    /// db += Σ dy; writes dx = dy·W (rows, in), or adds it when `accumulate`.
    func backward(_ dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int,
                  dx: UnsafeMutablePointer<Float>?, accumulate: Bool = false) {
        Gemm.multiply(dy, x, into: weight.grad.pointer, m: outFeatures, n: inFeatures, k: rows,
                      transposeA: true, beta: 1)
        TrainingKernels.addColumnSums(dy, rows: rows, cols: outFeatures, into: bias.grad.pointer)
        if let dx {
            Gemm.multiply(dy, weight.pointer, into: dx, m: rows, n: inFeatures, k: outFeatures, beta: accumulate ? 1 : 0)
        }
    }
}

/// torch.nn.LayerNorm with gradients; the forward keeps x̂ and 1/σ for the backward.
struct TrainableLayerNorm {
    let weight: Parameter
    let bias: Parameter
    let eps: Float
    var size: Int { weight.count }

    init(_ params: ParameterSet, _ prefix: String, from w: WeightScope, size: Int, eps: Float) throws {
        weight = params.add("\(prefix).weight", try w.tensor("weight", shape: [size]))
        bias = params.add("\(prefix).bias", try w.tensor("bias", shape: [size]))
        self.eps = eps
    }

    /// What the backward needs.
    final class Saved {
        let xhat: Buffer, rstd: Buffer
        init(rows: Int, cols: Int) { xhat = Buffer(rows * cols); rstd = Buffer(rows) }
    }

    /// x: (rows, C), normalized in place.
    func forward(_ x: UnsafeMutablePointer<Float>, rows: Int) -> Saved {
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
