import Foundation
import Kernels

/// BertModel: embeddings, then the stack of encoder layers; the pooler when the
/// checkpoint has one. Weights stay memory-mapped.
public struct Encoder: @unchecked Sendable {
    public let config: Config
    let embeddings: Embeddings
    let layers: [EncoderLayer]
    let pooler: Pooler?

    /// Loads and checks every tensor of `checkpoint` against `config`; a tensor left
    /// over (a classifier head, say) is an error: load those through `ModelDirectory`.
    public init(config: Config, checkpoint: SafetensorsFile) throws {
        let weights = Weights(checkpoint)
        try self.init(weights.scope(""), config: config)
        try weights.finish()
    }

    /// Loads the encoder's tensors from `root`, the pooler's when the checkpoint has them.
    init(_ root: WeightScope, config: Config) throws {
        self.config = config
        embeddings = try Embeddings(root.scope("embeddings"), config: config)
        layers = try (0..<config.numHiddenLayers).map {
            try EncoderLayer(root.scope("encoder.layer.\($0)"), config: config)
        }
        let poolerScope = root.scope("pooler.dense")
        pooler = poolerScope.exists ? try Pooler(poolerScope, hidden: config.hiddenSize) : nil
    }

    /// ids (B, T) → last hidden states (B, T, C). Rows past a sequence's length hold
    /// values that mean nothing; pooling ignores them.
    func callAsFunction(_ batch: Batch) -> Tensor {
        self(batch, scratch: Scratch(hidden: config.hiddenSize, intermediate: config.intermediateSize))
    }

    /// The same, with working memory that the caller reuses across batches, and with
    /// `lanes`, on two threads (OpenBLAS should then run one thread per product).
    func callAsFunction(_ batch: Batch, scratch: Scratch, lanes: Lanes? = nil) -> Tensor {
        let C = config.hiddenSize
        let hidden = Tensor(zeros: [batch.size, batch.length, C])
        let x = hidden.mutablePointer
        scratch.reserve(rows: batch.rows, length: batch.length)
        embeddings(batch, into: x)
        guard batch.tokens < batch.rows else {
            for layer in layers { layer(x, batch: batch, scratch: scratch, lanes: lanes) }
            return hidden
        }
        let (T, packed, starts) = (batch.length, scratch.packed, batch.starts)
        for (b, length) in batch.lengths.enumerated() {
            (packed + starts[b] * C).update(from: x + b * T * C, count: length * C)
        }
        for layer in layers { layer(packed, batch: batch, scratch: scratch, lanes: lanes) }
        for (b, length) in batch.lengths.enumerated() {
            (x + b * T * C).update(from: packed + starts[b] * C, count: length * C)
        }
        return hidden
    }
}

/// BertPooler: tanh(dense(first token)).
struct Pooler {
    let dense: Linear

    init(_ w: WeightScope, hidden: Int) throws {
        dense = try Linear(w, in: hidden, out: hidden)
    }

    /// hidden: (B, T, C) → (B, C)
    func callAsFunction(_ hidden: Tensor) -> [[Float]] {
        let (B, T, C) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        var first = [Float](repeating: 0, count: B * C)
        for b in 0..<B { for c in 0..<C { first[b * C + c] = hidden.pointer[b * T * C + c] } }
        var out = [Float](repeating: 0, count: B * C)
        first.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in dense(x.baseAddress!, rows: B, into: y.baseAddress!) }
        }
        return (0..<B).map { b in out[b * C..<(b + 1) * C].map { tanhf($0) } }
    }
}
