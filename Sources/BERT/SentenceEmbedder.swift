import Foundation
import Tokenizers

/// Sentence embeddings from a BERT-family model, as sentence-transformers computes them.
///
///     let embedder = try SentenceEmbedder(model: "all-MiniLM-L6-v2")
///     let v = try embedder.embed(["A man is eating food.", "A man is eating a piece of bread."])
///     SentenceEmbedder.cosine(v[0], v[1])   // 0.7553
///
/// Pooling and normalization follow the model's config unless given here.
public final class SentenceEmbedder: @unchecked Sendable {
    public let config: Config
    public let pooling: Pooling
    public let normalize: Bool
    public let tokenizer: any Tokenizer
    /// The arithmetic of the encoder's weight products (see `Precision`).
    public let precision: Precision
    /// The threads it runs on.
    public let context: ExecutionContext
    let encoder: Encoder

    /// - Parameters:
    ///   - model: a model directory, or a name under models/ (see `ModelDirectory`).
    ///   - pooling: overrides the model's pooling.
    ///   - normalize: overrides whether vectors are scaled to unit length.
    ///   - precision: fp32, bf16 or int8 weight products; default `BERT_PRECISION`, else fp32.
    ///   - context: the threads to run on; a new one (`ExecutionContext()`) when not given.
    public convenience init(model: String = "all-MiniLM-L6-v2", pooling: Pooling? = nil, normalize: Bool? = nil,
                            precision: Precision? = nil, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), pooling: pooling, normalize: normalize,
                      precision: precision, context: context)
    }

    public init(directory: ModelDirectory, pooling: Pooling? = nil, normalize: Bool? = nil, precision: Precision? = nil,
                context: ExecutionContext? = nil) throws {
        self.context = context ?? ExecutionContext()
        config = directory.config
        tokenizer = try directory.loadTokenizer()
        self.precision = try precision ?? Precision.fromEnvironment()
        encoder = try directory.loadEncoder(precision: self.precision)
        self.pooling = pooling ?? config.runtime.pooling
        self.normalize = normalize ?? config.runtime.normalize
    }

    /// The dimension of every vector `embed` returns.
    public var dimension: Int { config.hiddenSize }

    /// One vector per text, in order. Texts longer than the model's limit are truncated.
    /// Inputs are grouped by length so each batch pads only to its own longest text.
    /// Safe to call from concurrent tasks: each call's result is the one it gets alone.
    public func embed(_ texts: [String], batchSize: Int = 32) throws -> [[Float]] {
        let encodings = try texts.map { try tokenizer.encode($0, maxLength: config.maxLength) }
        return try embed(encodings: encodings, batchSize: batchSize)
    }

    /// One vector for one text.
    public func embed(_ text: String) throws -> [Float] {
        try embed([text])[0]
    }

    func embed(encodings: [Encoding], batchSize: Int) throws -> [[Float]] {
        var vectors = [[Float]](repeating: [], count: encodings.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            for (i, v) in zip(indices, pooling(hidden, lengths: batch.lengths)) {
                vectors[i] = normalize ? Pooling.normalize(v) : v
            }
        }
        return vectors
    }

    /// One vector per text, for texts longer than the model's limit: each text is read in
    /// overlapping windows of the model's length (`overlap` tokens shared between neighbours,
    /// Hugging Face's stride), each window pooled as the model pools, and the windows' vectors
    /// averaged with their token counts (special tokens included) as weights, then normalized
    /// when the model normalizes. A text that fits is one window: its vector is `embed`'s.
    public func embed(_ texts: [String], windowOverlap overlap: Int, batchSize: Int = 32) throws -> [[Float]] {
        let (windows, owner) = try tokenizer.windows(of: texts, maxLength: config.maxLength, overlap: overlap)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: dimension), count: texts.count)
        var counts = [Int](repeating: 0, count: texts.count)
        for ((i, w), v) in zip(zip(owner, windows), try pooled(encodings: windows, batchSize: batchSize)) {  // Serving.swift
            for (j, x) in v.enumerated() { sums[i][j] += Double(w.count) * Double(x) }
            counts[i] += w.count
        }
        return zip(sums, counts).map { sum, n in
            let v = sum.map { Float($0 / Double(n)) }
            return normalize ? Pooling.normalize(v) : v
        }
    }

    /// Hidden states of the last layer for one text: (T, C) as T rows.
    public func lastHiddenState(_ text: String) throws -> [[Float]] {
        try lastHiddenStates([text])[0]
    }

    /// Last hidden states for texts run together in one padded batch: per text, (T, C)
    /// as T rows, padding removed.
    public func lastHiddenStates(_ texts: [String]) throws -> [[[Float]]] {
        let encodings = try texts.map { try tokenizer.encode($0, maxLength: config.maxLength) }
        try encoder.check(encodings)
        let batch = Batch(encodings, padId: tokenizer.padId)
        let hidden = encoder(batch)
        let (T, C) = (batch.length, config.hiddenSize)
        return batch.lengths.enumerated().map { b, length in
            (0..<length).map { t in Array(UnsafeBufferPointer(start: hidden.pointer + (b * T + t) * C, count: C)) }
        }
    }

    /// Cosine similarity of two vectors of the same length.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosine of vectors of lengths \(a.count) and \(b.count)")
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return Float(dot / max((na * nb).squareRoot(), 1e-12))
    }
}
