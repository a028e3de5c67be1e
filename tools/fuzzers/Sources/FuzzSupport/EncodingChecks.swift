import Tokenizers

/// What every encoding must satisfy: parallel arrays of one length, ids inside the
/// vocabulary, type ids 0 or 1, offsets inside the text they point into (the first
/// sequence's, then the pair's after the first type change or separator), at most
/// `maxLength` tokens.
public func checkEncoding(_ e: Encoding, text: String, pair: String?, vocabularySize: Int, maxLength: Int?) {
    let n = e.ids.count
    require(e.tokens.count == n && e.typeIds.count == n && e.attentionMask.count == n && e.offsets.count == n,
            "arrays of different lengths: \(e)")
    if let maxLength { require(n <= maxLength, "\(n) tokens for maxLength \(maxLength)") }
    let longest = max(text.unicodeScalars.count, pair?.unicodeScalars.count ?? 0)
    for k in 0..<n {
        require(e.ids[k] >= 0 && e.ids[k] < vocabularySize, "id \(e.ids[k]) outside 0..<\(vocabularySize)")
        require(e.typeIds[k] == 0 || e.typeIds[k] == 1, "type id \(e.typeIds[k])")
        require(e.attentionMask[k] == 1, "attention mask \(e.attentionMask[k])")
        let o = e.offsets[k]
        require(o.lowerBound >= 0 && o.upperBound <= longest, "offsets \(o) outside a text of \(longest) scalars")
    }
}
