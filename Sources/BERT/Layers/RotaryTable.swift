import Kernels

/// The cos and sin of one rotary base for a pass's positions, (T, D/2) each (Kernels' Rotary),
/// made once per pass and read by every layer with that base.
final class RotaryTable {
    let cos, sin: [Float]
    let headSize: Int

    init(theta: Float, headSize D: Int, length T: Int) {
        (cos, sin) = Rotary.table(theta: theta, headSize: D, length: T)
        headSize = D
    }

    /// x: (ΣL, C), q or k of the batch's packed sequences: the heads of `columns` rotated in
    /// place, each sequence from position 0; `inverse` for the backward.
    func apply(_ x: UnsafeMutablePointer<Float>, _ pass: ForwardPass, ld C: Int, columns: Range<Int>, inverse: Bool = false) {
        cos.withUnsafeBufferPointer { c in
            sin.withUnsafeBufferPointer { s in
                for (b, L) in pass.batch.lengths.enumerated() {
                    Rotary.apply(x + pass.starts[b] * C, rows: L, ld: C, columns: columns, headSize: headSize,
                                 cos: c.baseAddress!, sin: s.baseAddress!, inverse: inverse)
                }
            }
        }
    }
}
