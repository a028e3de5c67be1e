extension Encoding {
    /// Overlapping windows over a single sequence that is longer than `maxLength`: each
    /// window keeps the leading and trailing special tokens and `maxLength - 2` content
    /// tokens, consecutive windows sharing `overlap` tokens (Hugging Face's `stride`).
    /// An encoding that fits is its own only window.
    ///
    ///     let e = try tokenizer.encode(longText, maxLength: .max)
    ///     e.windows(maxLength: 128, overlap: 32)   // [[CLS] t0…t125 [SEP], [CLS] t94…t219 [SEP], …]
    public func windows(maxLength: Int, overlap: Int) -> [Encoding] {
        precondition(maxLength > 2 && overlap >= 0 && overlap < maxLength - 2, "window \(maxLength) with overlap \(overlap)")
        guard count > maxLength else { return [self] }
        let content = 1..<(count - 1), width = maxLength - 2, step = width - overlap
        var out: [Encoding] = []
        var start = content.lowerBound
        while true {
            let end = min(start + width, content.upperBound)
            let rows = [0] + Array(start..<end) + [count - 1]
            out.append(Encoding(ids: rows.map { ids[$0] }, tokens: rows.map { tokens[$0] },
                                typeIds: rows.map { typeIds[$0] }, attentionMask: rows.map { attentionMask[$0] },
                                offsets: rows.map { offsets[$0] }))
            if end == content.upperBound { return out }
            start += step
        }
    }
}
