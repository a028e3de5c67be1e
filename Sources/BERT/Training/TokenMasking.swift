import Foundation
import Tokenizers

/// A text with BERT's masked-LM corruption applied: `encoding`'s ids with the chosen
/// positions replaced, and `labels` the original id at each chosen position, -100 elsewhere
/// (the labels DataCollatorForLanguageModeling gives BertForMaskedLM).
struct MaskedText {
    let encoding: Encoding
    let labels: [Int]

    var maskedCount: Int { labels.reduce(0) { $0 + ($1 == WordEncoding.ignored ? 0 : 1) } }
}

/// A tokenized document ready for masking: its encoding and, for each token, the word it
/// belongs to (nil: a special token, which is never chosen).
struct MaskableText {
    let encoding: Encoding
    let words: [Int?]

    /// Words as whole-word masking groups tokens: a WordPiece sub-word ("##ing") joins the
    /// word before it; with tokenizers that mark no continuations (SentencePiece, byte-level
    /// BPE), a token that starts where the previous one ended in the text joins its word.
    init(_ e: Encoding, tokenizer: any TokenDecoding) {
        encoding = e
        var words: [Int?] = [], word = -1
        var previousEnd: Int?
        for t in 0..<e.count {
            if e.offsets[t].isEmpty && tokenizer.isSpecial(e.ids[t]) {
                words.append(nil)
                previousEnd = nil
                continue
            }
            let continues = tokenizer.marksContinuations
                ? e.tokens[t].hasPrefix("##") && previousEnd != nil
                : previousEnd != nil && e.offsets[t].lowerBound == previousEnd && !e.offsets[t].isEmpty
            if !continues { word += 1 }
            words.append(word)
            previousEnd = e.offsets[t].isEmpty ? previousEnd : e.offsets[t].upperBound
        }
        self.words = words
    }
}

/// BERT's masking, as DataCollatorForLanguageModeling with mlm_probability 0.15: each token
/// that is not special is chosen with `probability` (whole words: each word is, and all its
/// tokens with it); a chosen token becomes the mask token 80% of the time, a uniformly drawn
/// id of the vocabulary 10%, and stays itself 10%. The draws come from a SplitMix64 of the
/// run's seed, the epoch and the example (`generator`), so the masks of an example do not
/// depend on its batch or the workers, change every epoch (dynamic masking, as the collator
/// draws them anew per batch), and a resumed run draws the same ones.
struct TokenMasking: Sendable {
    let maskId: Int
    let vocabularySize: Int
    var probability = 0.15
    var wholeWords = false

    func callAsFunction(_ text: MaskableText, rng: inout SplitMix64) -> MaskedText {
        let e = text.encoding
        var ids = e.ids
        var labels = [Int](repeating: WordEncoding.ignored, count: e.count)
        var chosenWord: [Int: Bool] = [:]
        for t in 0..<e.count {
            guard let w = text.words[t] else { continue }
            let chosen: Bool
            if wholeWords {
                if let c = chosenWord[w] { chosen = c } else { chosen = rng.uniform() < probability; chosenWord[w] = chosen }
            } else {
                chosen = rng.uniform() < probability
            }
            guard chosen else { continue }
            labels[t] = e.ids[t]
            let u = rng.uniform()
            if u < 0.8 {
                ids[t] = maskId
            } else if u < 0.9 {
                ids[t] = rng.below(vocabularySize)
            }
        }
        return MaskedText(encoding: Encoding(ids: ids, tokens: e.tokens, typeIds: e.typeIds, attentionMask: e.attentionMask, offsets: e.offsets),
                          labels: labels)
    }

    /// The generator of `example`'s masks in `epoch` (validation: a fixed `epoch` of its own).
    static func generator(seed: UInt64, epoch: UInt64, example: Int) -> SplitMix64 {
        var mix = SplitMix64(seed: seed ^ 0x6D61_736B_6564_6C6D)  // "maskedlm"
        mix.state ^= epoch &* 0x9E37_79B9_7F4A_7C15
        _ = mix.next()
        mix.state ^= UInt64(example) &* 0xD1B5_4A32_D192_ED03
        return SplitMix64(seed: mix.next())
    }
}
