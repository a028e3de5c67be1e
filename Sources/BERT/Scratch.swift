/// Working memory for forward passes: reused by every layer, and by every batch that one
/// runner worker takes, growing only when a batch needs more.
final class Scratch {
    /// Rows of the feed-forward block done at a time: the (rows, I) intermediate stays
    /// small (1.5 MB for MiniLM) whatever the batch, and the products stay efficient.
    static let feedForwardRows = 256

    let hidden: Int, intermediate: Int
    /// (N, C) each. Attention writes each head's context over its own block of q.
    private(set) var q, k, v: UnsafeMutablePointer<Float>
    /// (N, C): the batch's real rows, packed.
    private(set) var packed: UnsafeMutablePointer<Float>
    private var scores: UnsafeMutablePointer<Float>  // (T, T) for each of two lanes
    private(set) var inner: UnsafeMutablePointer<Float>   // (feedForwardRows, I)
    private var all: UnsafeMutablePointer<Float>
    private var rows = 0, length = 0

    init(hidden C: Int, intermediate I: Int) {
        (hidden, intermediate) = (C, I)
        all = .allocate(capacity: 1)
        (q, k, v, packed, scores, inner) = (all, all, all, all, all, all)
    }

    convenience init(rows N: Int, length T: Int, hidden C: Int, intermediate I: Int) {
        self.init(hidden: C, intermediate: I)
        reserve(rows: N, length: T)
    }

    /// Makes room for a batch of N = B·T rows of length T.
    func reserve(rows N: Int, length T: Int) {
        guard N > rows || T > length else { return }
        (rows, length) = (max(N, rows), max(T, length))
        let R = rows * hidden
        let sizes = [R, R, R, R, 2 * length * length, Self.feedForwardRows * intermediate]
        all.deallocate()
        all = .allocate(capacity: sizes.reduce(0, +))
        q = all
        k = q + R
        v = k + R
        packed = v + R
        scores = packed + R
        inner = scores + sizes[4]
    }

    /// Attention scores (T, T) for lane 0 or 1 (see `Lanes`).
    func scores(lane: Int) -> UnsafeMutablePointer<Float> { scores + lane * length * length }

    deinit { all.deallocate() }
}
