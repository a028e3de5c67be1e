import Tokenizers

/// Encodings padded on the right into one (B, T) block, with each row's real length.
struct Batch {
    let ids: [Int]       // (B, T)
    let typeIds: [Int]  // (B, T)
    let lengths: [Int]  // (B)
    let size: Int       // B
    let length: Int     // T, the longest row

    var rows: Int { size * length }

    init(_ encodings: [Encoding], padId: Int) {
        size = encodings.count
        length = encodings.map(\.count).max() ?? 0
        lengths = encodings.map(\.count)
        var ids = [Int](repeating: padId, count: size * length)
        var typeIds = [Int](repeating: 0, count: size * length)
        for (b, e) in encodings.enumerated() {
            ids.replaceSubrange(b * length..<b * length + e.count, with: e.ids)
            typeIds.replaceSubrange(b * length..<b * length + e.count, with: e.typeIds)
        }
        self.ids = ids
        self.typeIds = typeIds
    }
}
