import Foundation

private typealias V = SIMD16<Float>

extension Activation {
    /// grad (count) *= act′(x), where x holds the activation's inputs (count).
    public func backward(inputs x: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            // act′(x) = Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·e^{−x²/2}/√(2π)
            let invSqrt2 = V(repeating: 0.70710678118654752440), invSqrt2Pi = V(repeating: 0.39894228040143267794)
            Vector.update(g, with: x, count: count) { v, d in
                let cdf: V = 0.5 * (1 + FastMath.erf(v * invSqrt2))
                let pdf: V = invSqrt2Pi * FastMath.exp(-0.5 * v * v)
                return d * cdf.addingProduct(v, pdf)
            }
        case .geluTanh:
            let c = V(repeating: 0.79788456080286535588), k = V(repeating: 0.044715)
            Vector.update(g, with: x, count: count) { v, d in
                let v2: V = v * v
                let t: V = FastMath.tanh(c * v.addingProduct(k * v, v2))
                let inner: V = c * (1 + 3 * k * v2)
                let slope: V = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * inner
                return d * slope
            }
        case .relu:
            for i in 0..<count where x[i] <= 0 { g[i] = 0 }
        }
    }

    /// Naive twin of the forward, in Double, on an array.
    public func naiveForward(_ x: [Double]) -> [Double] {
        x.map { v in
            switch self {
            case .gelu: return 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
            case .geluTanh: return 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            case .relu: return Swift.max(v, 0)
            }
        }
    }

    /// Naive twin of `backward`, in Double: dy·act′(x).
    public func naiveBackward(_ dy: [Double], x: [Double]) -> [Double] {
        zip(dy, x).map { d, v in
            switch self {
            case .gelu:
                return d * (0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot())
            case .geluTanh:
                let c = (2 / Double.pi).squareRoot()
                let t = tanh(c * (v + 0.044715 * v * v * v))
                return d * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v))
            case .relu:
                return v > 0 ? d : 0
            }
        }
    }
}
