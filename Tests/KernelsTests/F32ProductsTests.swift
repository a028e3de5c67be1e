import Foundation
@testable import Kernels
import Testing

/// The packed fp32 product (oneDNN) against its naive twin, within fp32 accumulation's bound,
/// and a row's result independent of the rows beside it (a request's answer must not depend
/// on which others share its batch).
@Suite struct F32ProductsTests {
    var rng = SplitMix(seed: 23)

    mutating func random(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in rng.nextFloat() * 2 * scale - scale }
    }

    /// Rows cut into oneDNN pieces of 256, 128, …, 1 (300 = 256 + 32 + 8 + 4; 37 = 32 + 4 + 1),
    /// whole and for a range of the weight's rows written into wider output rows, beta 1 and 0.
    @Test mutating func productMatchesNaiveWithinTheAccumulationBound() throws {
        let (n, k, ldc) = (45, 389, 50)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try F32Matrix(packing: w.pointer, rows: n, cols: k)
        for m in [1, 37, 300] {
            let a = random(m * k), c0 = random(m * ldc)
            for (part, beta) in [(0..<n, Float(1)), (5..<40, 1), (0..<n, 0)] {
                var fast = c0
                fast.withUnsafeMutableBufferPointer {
                    F32Products.multiply(a, weight: weight, weightRows: part, into: $0.baseAddress! + part.lowerBound, rows: m, beta: beta, ldc: ldc)
                }
                var slow = c0
                F32Products.naiveMultiply(a, weight: weight, into: &slow, rows: m, beta: beta, ldc: ldc)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        guard part.contains(j) else {  // outside the part: untouched
                            #expect(fast[i * ldc + j] == c0[i * ldc + j])
                            continue
                        }
                        // fp32 sums of k + 1 terms: each rounding at most 2⁻²⁴ of the running magnitude.
                        let scale = (0..<k).reduce(0.0) { $0 + abs(Double(a[i * k + $1]) * Double(w.pointer[j * k + $1])) }
                            + (beta == 0 ? 0 : abs(Double(c0[i * ldc + j])))
                        worst = max(worst, abs(Double(fast[i * ldc + j] - slow[i * ldc + j])) / (Double(k + 1) * 0x1p-23 * scale + 1e-30))
                    }
                }
                #expect(worst <= 1, "m \(m), rows \(part), beta \(beta)")
            }
        }
    }

    /// Row r of a product over m rows is bit-identical to the product of row r alone, for every
    /// piece size oneDNN's row cutting uses.
    @Test mutating func aRowsResultDoesNotDependOnItsNeighbours() throws {
        let (n, k) = (96, 384)
        let w = Stable(random(n * k, scale: 0.1))
        let weight = try F32Matrix(packing: w.pointer, rows: n, cols: k)
        let m = 300
        let a = random(m * k)
        var all = [Float](repeating: 0, count: m * n)
        F32Products.multiply(a, weight: weight, into: &all, rows: m)
        for r in [0, 5, 255, 256, 290, 299] {
            var one = [Float](repeating: 0, count: n)
            a.withUnsafeBufferPointer { F32Products.multiply($0.baseAddress! + r * k, weight: weight, into: &one, rows: 1) }
            #expect(one == Array(all[(r * n)..<((r + 1) * n)]), "row \(r)")
        }
        // A lone batch's two lanes: each half of the columns, written into the full rows.
        var halves = [Float](repeating: 0, count: m * n)
        for part in [0..<(n / 2), (n / 2)..<n] {
            halves.withUnsafeMutableBufferPointer {
                F32Products.multiply(a, weight: weight, weightRows: part, into: $0.baseAddress! + part.lowerBound, rows: m, ldc: n)
            }
        }
        #expect(halves == all, "columns in two parts differ from the whole product")
    }
}
