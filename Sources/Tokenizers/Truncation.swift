/// Hugging Face `tokenizers`' truncation of a sequence or a pair (`truncate_encodings`).
enum Truncation {
    /// Cuts `first` and `second` in place so that they and `specialCount` special tokens
    /// fit in `maxLength`, as `strategy` says.
    static func apply(to first: inout Pieces, _ second: inout Pieces?, maxLength: Int, specialCount: Int,
                      strategy: TruncationStrategy) throws {
        let (keepFirst, keepSecond) = try keep(first: first.count, second: second?.count, budget: maxLength - specialCount,
                                               strategy: strategy, maxLength: maxLength)
        first.truncate(to: keepFirst)
        if let keepSecond { second?.truncate(to: keepSecond) }
    }

    /// How many tokens of each sequence to keep so that both fit in `budget` tokens (the
    /// maximum length less the special tokens). `longestFirst` on a pair keeps the shorter
    /// whole when the longer can absorb the cut; otherwise each keeps half, the odd token going
    /// to the longer one, or to the second when they tie.
    static func keep(first n1: Int, second n2: Int?, budget: Int,
                     strategy: TruncationStrategy, maxLength: Int) throws -> (Int, Int?) {
        guard budget > 0 else { return (0, n2.map { _ in 0 }) }
        let total = n1 + (n2 ?? 0)
        guard total > budget else { return (n1, n2) }
        let toRemove = total - budget
        switch strategy {
        case .longestFirst:
            guard let n2 else { return (budget, nil) }
            var short = min(n1, n2)
            var long = short > budget ? short : max(short, budget - short)
            if short + long > budget {
                short = budget / 2
                long = short + budget % 2
            }
            return n1 > n2 ? (long, short) : (short, long)
        case .onlyFirst:
            guard n1 > toRemove else {
                throw TokenizerError.sequenceTooShortToTruncate(strategy: strategy, maxLength: maxLength)
            }
            return (n1 - toRemove, n2)
        case .onlySecond:
            guard let n2 else { throw TokenizerError.pairRequiredForTruncation }
            guard n2 > toRemove else {
                throw TokenizerError.sequenceTooShortToTruncate(strategy: strategy, maxLength: maxLength)
            }
            return (n1, n2 - toRemove)
        }
    }
}
