/// DeBERTa's disentangled attention terms, gathered by relative position and scattered back.
///
/// For a sequence of L tokens, c2p (L, R) holds each query's products with the R relative
/// position keys, p2c (L, R) each key's products with the R relative position queries, and
/// `index[i − j + T − 1]` the row (0..<R) of the relative distance i − j (T ≥ L: the batch's
/// longest sequence, so one index serves every sequence):
///
///     scores[i, j] += c2p[i, index(i − j)] + p2c[j, index(i − j)]
///
/// The fast versions walk each score row with the index's slice for that row; the naive
/// twins compute each entry on its own.
public enum RelativeGather {
    /// scores (L, L) += the gathered c2p and p2c terms; either may be absent.
    public static func add(c2p: UnsafePointer<Float>?, p2c: UnsafePointer<Float>?, index: UnsafePointer<Int32>,
                           length T: Int, size L: Int, rows R: Int, into scores: UnsafeMutablePointer<Float>) {
        for i in 0..<L {
            let row = scores + i * L
            // index(i − j) for j = 0..<L: the slice index[i + T − 1 − j], read backwards.
            let at = index + (i + T - 1)
            switch (c2p, p2c) {
            case let (c2p?, p2c?):  // (c2p + p2c) first, then the sum onto the score, as transformers adds them
                let q = c2p + i * R
                for j in 0..<L { let r = Int(at[-j]); row[j] += q[r] + p2c[j * R + r] }
            case let (c2p?, nil):
                let q = c2p + i * R
                for j in 0..<L { row[j] += q[Int(at[-j])] }
            case let (nil, p2c?):
                for j in 0..<L { row[j] += p2c[j * R + Int(at[-j])] }
            case (nil, nil):
                return
            }
        }
    }

    /// The backward of `add`: dC2P (L, R) and dP2C (L, R) += dScores (L, L) scattered to
    /// the rows they were gathered from.
    public static func scatter(_ dScores: UnsafePointer<Float>, index: UnsafePointer<Int32>, length T: Int, size L: Int,
                               rows R: Int, c2p dC2P: UnsafeMutablePointer<Float>?, p2c dP2C: UnsafeMutablePointer<Float>?) {
        for i in 0..<L {
            let row = dScores + i * L
            let at = index + (i + T - 1)
            if let dC2P {
                let q = dC2P + i * R
                for j in 0..<L { q[Int(at[-j])] += row[j] }
            }
            if let dP2C {
                for j in 0..<L { dP2C[j * R + Int(at[-j])] += row[j] }
            }
        }
    }

    /// Naive twin of `add`.
    public static func naiveAdd(c2p: UnsafePointer<Float>?, p2c: UnsafePointer<Float>?, index: UnsafePointer<Int32>,
                                length T: Int, size L: Int, rows R: Int, into scores: UnsafeMutablePointer<Float>) {
        for i in 0..<L {
            for j in 0..<L {
                let r = Int(index[i - j + T - 1])
                var term: Float = 0
                if let c2p { term += c2p[i * R + r] }
                if let p2c { term += p2c[j * R + r] }
                scores[i * L + j] += term
            }
        }
    }

    /// Naive twin of `scatter`.
    public static func naiveScatter(_ dScores: UnsafePointer<Float>, index: UnsafePointer<Int32>, length T: Int, size L: Int,
                                    rows R: Int, c2p dC2P: UnsafeMutablePointer<Float>?, p2c dP2C: UnsafeMutablePointer<Float>?) {
        for i in 0..<L {
            for j in 0..<L {
                let r = Int(index[i - j + T - 1])
                dC2P?[i * R + r] += dScores[i * L + j]
                dP2C?[j * R + r] += dScores[i * L + j]
            }
        }
    }
}
