/// Working memory for inference passes: reused by every layer, and by every batch that one
/// runner worker takes, growing only when a batch needs more.
final class Scratch {
    /// Rows of the feed-forward block done at a time: the (rows, I) intermediate stays
    /// small (1.5 MB for MiniLM) whatever the batch, and the products stay efficient.
    static let feedForwardRows = 256

    let hidden: Int, embedding: Int
    /// The intermediate's width (2I when gated) and the gated output's (I, or 0).
    let intermediate: Int, gatedWidth: Int
    /// Whether the layers are pre-norm (then `normed` has room).
    let preNorm: Bool
    /// (N, C) each. Attention writes each head's context over its own block of q.
    private(set) var q, k, v: UnsafeMutablePointer<Float>
    /// (N, C): the batch's real rows, packed.
    private(set) var packed: UnsafeMutablePointer<Float>
    /// (N, E): embeddings before their projection (ALBERT, ELECTRA).
    private(set) var embedded: UnsafeMutablePointer<Float>
    /// (N, C): a pre-norm block's normalized input (ModernBERT).
    private(set) var normed: UnsafeMutablePointer<Float>
    private var scores: UnsafeMutablePointer<Float>  // (T, T) for each of two lanes
    private(set) var inner: UnsafeMutablePointer<Float>   // (feedForwardRows, I), gated (feedForwardRows, 2I)
    private(set) var gatedInner: UnsafeMutablePointer<Float>  // (feedForwardRows, I): act(input) · gate
    /// (feedForwardRows, I) bf16 bit patterns: act(input) in bf16 inference, which is not gated
    /// (room for `intermediate` ≥ I columns), allocated the first time that asks for it.
    var inner16: UnsafeMutablePointer<UInt16> {
        if let p = inner16Storage { return p }
        let p = UnsafeMutablePointer<UInt16>.allocate(capacity: Self.feedForwardRows * intermediate)
        inner16Storage = p
        return p
    }
    private var inner16Storage: UnsafeMutablePointer<UInt16>?
    private var all: UnsafeMutablePointer<Float>
    private var rows = 0, length = 0

    init(config c: Config) {
        let variants = (0..<c.numHiddenLayers).map { c.architecture.layerVariant(c, layer: $0) }
        let gated = variants.contains(where: \.gated)
        preNorm = variants.contains(where: \.preNorm)
        (hidden, embedding) = (c.hiddenSize, c.embeddingSize)
        (intermediate, gatedWidth) = gated ? (2 * c.intermediateSize, c.intermediateSize) : (c.intermediateSize, 0)
        all = .allocate(capacity: 1)
        (q, k, v, packed, embedded, normed, scores, inner, gatedInner) = (all, all, all, all, all, all, all, all, all)
    }

    /// Makes room for a batch of N real rows, the longest T.
    func reserve(rows N: Int, length T: Int) {
        guard N > rows || T > length else { return }
        (rows, length) = (max(N, rows), max(T, length))
        let R = rows * hidden
        let sizes = [R, R, R, R, rows * embedding, preNorm ? R : 0, 2 * length * length, Self.feedForwardRows * intermediate,
                     Self.feedForwardRows * gatedWidth]
        all.deallocate()
        all = .allocate(capacity: sizes.reduce(0, +))
        q = all
        k = q + R
        v = k + R
        packed = v + R
        embedded = packed + R
        normed = embedded + sizes[4]
        scores = normed + sizes[5]
        inner = scores + sizes[6]
        gatedInner = inner + sizes[7]
    }

    /// Attention scores (T, T) for lane 0 or 1 (see `Lanes`).
    func scores(lane: Int) -> UnsafeMutablePointer<Float> { scores + lane * length * length }

    deinit {
        all.deallocate()
        inner16Storage?.deallocate()
    }
}
