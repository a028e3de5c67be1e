/// The layers work on a batch's real tokens only, one sequence after another: (ΣL, C)
/// rather than (B, T, C), so padding costs no work in any product (it was 4% of the rows
/// of the benchmark's batches).
extension Batch {
    /// ΣL: the real tokens of the batch.
    var tokens: Int { lengths.reduce(0, +) }

    /// The packed row where each sequence starts.
    var starts: [Int] {
        var at = 0
        return lengths.map { length in
            defer { at += length }
            return at
        }
    }
}
