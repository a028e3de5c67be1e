import Foundation

/// How token vectors become one sentence vector, as sentence-transformers' Pooling does.
public enum Pooling: String, Codable, Sendable, CaseIterable {
    /// The average of the real tokens' vectors.
    case mean
    /// The first token's vector ([CLS]).
    case cls
    /// The element-wise maximum over the real tokens.
    case max

    /// hidden: (B, T, C), lengths (B) → (B, C)
    func callAsFunction(_ hidden: Tensor, lengths: [Int]) -> [[Float]] {
        let (T, C) = (hidden.shape[1], hidden.shape[2])
        return lengths.enumerated().map { b, length in
            let rows = hidden.pointer + b * T * C
            var out = [Float](repeating: 0, count: C)
            switch self {
            case .cls:
                for c in 0..<C { out[c] = rows[c] }
            case .mean:
                for t in 0..<length { for c in 0..<C { out[c] += rows[t * C + c] } }
                let inv = 1 / Float(Swift.max(length, 1))
                for c in 0..<C { out[c] *= inv }
            case .max:
                out = [Float](repeating: -.infinity, count: C)
                for t in 0..<length { for c in 0..<C { out[c] = Swift.max(out[c], rows[t * C + c]) } }
            }
            return out
        }
    }

    /// v / max(‖v‖, 1e-12), as torch.nn.functional.normalize.
    static func normalize(_ v: [Float]) -> [Float] {
        let norm = Swift.max(v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot(), 1e-12)
        return v.map { Float(Double($0) / norm) }
    }
}
