import Foundation

extension Activation {
    /// grad (count) *= act′(x), where x holds the activation's inputs (count).
    public func backward(inputs x: UnsafePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            let invSqrt2: Float = 0.70710678118654752440, invSqrt2Pi: Float = 0.39894228040143267794
            for i in 0..<count {
                let v = x[i]
                g[i] *= 0.5 * (1 + erff(v * invSqrt2)) + v * invSqrt2Pi * expf(-0.5 * v * v)
            }
        case .geluTanh:
            let c: Float = 0.79788456080286535588
            for i in 0..<count {
                let v = x[i]
                let t = tanhf(c * (v + 0.044715 * v * v * v))
                g[i] *= 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v)
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
