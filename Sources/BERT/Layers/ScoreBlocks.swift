/// The attention scores of one sequence (per head), cut in blocks of query rows with the keys
/// those rows see. Full attention is one block: every row, every key (L, L). A sliding window of
/// radius r cuts the rows into blocks of `rows` = max(r, 16), each seeing the keys within r of its
/// rows, so a local layer's scores, kept or not, take about L · (rows + 2r) floats, not L².
struct ScoreBlocks {
    let blocks: [(queries: Range<Int>, keys: Range<Int>)]
    /// Σ rows × keys over the blocks: the floats of one head's scores.
    let size: Int

    init(length L: Int, radius: Int?) {
        guard let r = radius, L > Swift.max(r, 16) + 2 * r else {
            blocks = [(0..<L, 0..<L)]
            size = L * L
            return
        }
        let rows = Swift.max(r, 16)
        blocks = stride(from: 0, to: L, by: rows).map { a in
            let b = Swift.min(a + rows, L)
            return (a..<b, Swift.max(a - r, 0)..<Swift.min(b + r, L))
        }
        size = blocks.reduce(0) { $0 + $1.queries.count * $1.keys.count }
    }
}
