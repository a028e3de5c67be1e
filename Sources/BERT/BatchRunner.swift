import Tokenizers

extension Encoder {
    /// Runs `encodings` through the encoder in batches of similar length, so each batch
    /// pads only to its own longest row. `body` gets each batch's indices into
    /// `encodings`, the batch, and its last hidden states (B, T, C).
    func run(_ encodings: [Encoding], batchSize: Int, padId: Int, _ body: ([Int], Batch, Tensor) -> Void) {
        let size = max(batchSize, 1)
        let order = encodings.indices.sorted { encodings[$0].count < encodings[$1].count }
        for start in stride(from: 0, to: order.count, by: size) {
            let chunk = Array(order[start..<min(start + size, order.count)])
            let batch = Batch(chunk.map { encodings[$0] }, padId: padId)
            body(chunk, batch, self(batch))
        }
    }
}
