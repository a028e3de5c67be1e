import Foundation

/// Gated linear units over an activation (GeGLU with GELU): x (rows, 2I) holds each row's input
/// half then its gate half, as transformers' `input, gate = Wi(x).chunk(2, dim=-1)`;
///     y (rows, I) = act(input) · gate
extension Activation {
    /// x (rows, 2I) → y (rows, I); only `columns` of the I outputs (all when nil).
    public func gated(_ x: UnsafePointer<Float>, rows: Int, width I: Int, columns: Range<Int>? = nil,
                      into y: UnsafeMutablePointer<Float>) {
        let cols = columns ?? 0..<I
        for r in 0..<rows {
            let input = x + r * 2 * I + cols.lowerBound, gate = input + I, out = y + r * I + cols.lowerBound
            out.update(from: input, count: cols.count)
            apply(out, count: cols.count)
            for i in 0..<cols.count { out[i] *= gate[i] }
        }
    }

    /// dy (rows, I) → dx (rows, 2I), overwritten: d input = dy · gate · act′(input), d gate = dy · act(input).
    public func gatedBackward(_ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width I: Int,
                              into dx: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let input = x + r * 2 * I, gate = input + I, d = dy + r * I
            let dInput = dx + r * 2 * I, dGate = dInput + I
            for i in 0..<I { dInput[i] = d[i] * gate[i] }
            backward(inputs: input, grad: dInput, count: I)
            dGate.update(from: input, count: I)
            apply(dGate, count: I)
            for i in 0..<I { dGate[i] *= d[i] }
        }
    }

    /// Naive twin of `gated`, in Double.
    public func naiveGated(_ x: [Double], rows: Int, width I: Int) -> [Double] {
        (0..<rows).flatMap { r in
            let input = Array(x[r * 2 * I..<r * 2 * I + I]), gate = x[r * 2 * I + I..<(r + 1) * 2 * I]
            return zip(naiveForward(input), gate).map { $0 * $1 }
        }
    }

    /// Naive twin of `gatedBackward`, in Double.
    public func naiveGatedBackward(_ x: [Double], dy: [Double], rows: Int, width I: Int) -> [Double] {
        (0..<rows).flatMap { r in
            let input = Array(x[r * 2 * I..<r * 2 * I + I]), gate = Array(x[r * 2 * I + I..<(r + 1) * 2 * I])
            let d = Array(dy[r * I..<(r + 1) * I])
            let dInput = naiveBackward(zip(d, gate).map { $0 * $1 }, x: input)
            let dGate = zip(naiveForward(input), d).map { $0 * $1 }
            return dInput + dGate
        }
    }
}
