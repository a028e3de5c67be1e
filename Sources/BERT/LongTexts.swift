import Tokenizers

extension Tokenizer {
    /// Every text read in overlapping windows of `limit` tokens (`overlap` tokens shared
    /// between neighbours, Hugging Face's stride), for texts longer than a model's limit: the
    /// windows in order, and for each the index of its text. A text that fits is one window.
    func windows(of texts: [String], maxLength limit: Int, overlap: Int) throws -> (windows: [Encoding], owner: [Int]) {
        guard overlap >= 0, overlap < limit - 2 else {
            throw ModelError.invalidOption(name: "--stride", reason: "must be within 0..<\(limit - 2) for a model of \(limit) tokens")
        }
        var windows: [Encoding] = [], owner: [Int] = []
        for (i, text) in texts.enumerated() {
            let whole = try encode(text, pair: nil, maxLength: Int.max, truncation: .longestFirst)
            for w in whole.windows(maxLength: limit, overlap: overlap) {
                windows.append(w)
                owner.append(i)
            }
        }
        return (windows, owner)
    }
}
