import Kernels

/// The head of every *ForTokenClassification: dropout, then one Linear (L, C) over each
/// token's last hidden state (`token_classifier.*` after tools/convert).
struct TokenClassifierHead {
    let output: Linear  // (L, C)
    let labels: [String]
    let dropout: Dropout

    init(_ root: WeightScope, config c: Config, dropout p: Float = 0) throws {
        labels = c.labels
        output = try Linear(root.scope("token_classifier"), in: c.hiddenSize, out: labels.count)
        dropout = Dropout(p: p)
    }

    /// x: (rows, C) → logits (rows, L).
    func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        output(x, rows: rows, into: logits)
    }

    final class Saved {
        let input: Buffer   // (rows, C): after dropout
        var mask: Buffer?
        init(_ input: Buffer) { self.input = input }
    }

    /// x: (rows, C) → logits (rows, L), dropping out x with `rng` (none: no dropout).
    func forward(_ x: UnsafePointer<Float>, rows: Int, rng: inout SplitMix64?, into logits: UnsafeMutablePointer<Float>) -> Saved {
        let n = rows * output.inFeatures
        let s = Saved(Buffer(copying: x, count: n))
        if let m = dropout.mask(n, &rng) {
            s.mask = m
            TrainingKernels.multiply(s.input.pointer, by: m.pointer, count: n)
        }
        output(s.input.pointer, rows: rows, into: logits)
        return s
    }

    /// dLogits (rows, L) → dx (rows, C), written (nil: a frozen encoder wants none);
    /// accumulates the Linear's gradients.
    func backward(_ dLogits: UnsafePointer<Float>, saved s: Saved, rows: Int, into dx: UnsafeMutablePointer<Float>?) {
        output.backward(dLogits, input: s.input.pointer, rows: rows, dx: dx)
        if let m = s.mask, let dx { TrainingKernels.multiply(dx, by: m.pointer, count: rows * output.inFeatures) }
    }
}

extension TokenClassifierHead {
    /// A new head to train: weight normal(0, 0.02) from SplitMix64(seed + 1) (`initialClassifier`,
    /// as tools/golden/finetune_token_classification.py draws it), bias zero.
    init(new labels: [String], config c: Config, seed: UInt64, parameters w: WeightScope, dropout p: Float) {
        self.labels = labels
        let initial = initialClassifier(labels: labels.count, hidden: c.hiddenSize, seed: seed)
        output = Linear(weight: w.newParameter("token_classifier.weight", initial.weight),
                        bias: w.newParameter("token_classifier.bias", initial.bias))
        dropout = Dropout(p: p)
    }
}
