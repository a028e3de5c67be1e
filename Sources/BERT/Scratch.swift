/// Working memory for inference passes: reused by every layer, and by every batch that one
/// runner worker takes, growing only when a batch needs more.
final class Scratch {
    /// Rows of the feed-forward block done at a time: the (rows, I) intermediate stays
    /// small (1.5 MB for MiniLM) whatever the batch, and the products stay efficient.
    static let feedForwardRows = 256

    let hidden: Int, intermediate: Int, embedding: Int
    /// (N, C) each. Attention writes each head's context over its own block of q.
    private(set) var q, k, v: UnsafeMutablePointer<Float>
    /// (N, C): the batch's real rows, packed.
    private(set) var packed: UnsafeMutablePointer<Float>
    /// (N, E): embeddings before their projection (ALBERT, ELECTRA).
    private(set) var embedded: UnsafeMutablePointer<Float>
    private var scores: UnsafeMutablePointer<Float>  // (T, T) for each of two lanes
    private(set) var inner: UnsafeMutablePointer<Float>   // (feedForwardRows, I)
    private var all: UnsafeMutablePointer<Float>
    private var rows = 0, length = 0

    init(config c: Config) {
        (hidden, intermediate, embedding) = (c.hiddenSize, c.intermediateSize, c.embeddingSize)
        all = .allocate(capacity: 1)
        (q, k, v, packed, embedded, scores, inner) = (all, all, all, all, all, all, all)
    }

    /// Makes room for a batch of N real rows, the longest T.
    func reserve(rows N: Int, length T: Int) {
        guard N > rows || T > length else { return }
        (rows, length) = (max(N, rows), max(T, length))
        let R = rows * hidden
        let sizes = [R, R, R, R, rows * embedding, 2 * length * length, Self.feedForwardRows * intermediate]
        all.deallocate()
        all = .allocate(capacity: sizes.reduce(0, +))
        q = all
        k = q + R
        v = k + R
        packed = v + R
        embedded = packed + R
        scores = embedded + sizes[4]
        inner = scores + sizes[5]
    }

    /// Attention scores (T, T) for lane 0 or 1 (see `Lanes`).
    func scores(lane: Int) -> UnsafeMutablePointer<Float> { scores + lane * length * length }

    deinit { all.deallocate() }
}
