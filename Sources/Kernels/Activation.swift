import Foundation

/// Element-wise activations of the feed-forward block, in place over `count` floats.
public enum Activation: String, Sendable, CaseIterable {
    /// GELU with the exact error function (Hugging Face "gelu").
    case gelu
    /// GELU's tanh approximation (Hugging Face "gelu_new", "gelu_pytorch_tanh").
    case geluTanh
    case relu

    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            let invSqrt2 = SIMD16<Float>(repeating: 0.70710678118654752440)
            Vector.map(x, count: count) { v in 0.5 * v * (1 + FastMath.erf(v * invSqrt2)) }
        case .geluTanh:
            let c = SIMD16<Float>(repeating: 0.79788456080286535588) // sqrt(2/π)
            Vector.map(x, count: count) { v in 0.5 * v * (1 + FastMath.tanh(c * v.addingProduct(0.044715 * v, v * v))) }
        case .relu:
            Vector.forEachChunk(count: count) { i in
                Vector.store(Vector.maximum(Vector.load(x + i), SIMD16()), to: x + i)
            } tail: { i in
                x[i] = Swift.max(x[i], 0)
            }
        }
    }

    /// Naive twin, in Double.
    public func naiveApply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            switch self {
            case .gelu: x[i] = Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
            case .geluTanh: x[i] = Float(0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
            case .relu: x[i] = Float(Swift.max(v, 0))
            }
        }
    }
}
