import Foundation
import FuzzSupport
import Tokenizers

/// A tokenizer.json of arbitrary bytes: either a one-line TokenizerError, or a tokenizer whose
/// encodings are parallel arrays with ids inside its vocabulary, offsets inside the text and
/// no more tokens than asked for, and whose decoder returns.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Data(bytes(data, size))
    let tokenizer: TokenizerJSON
    do {
        tokenizer = try TokenizerJSON(data: input, path: "tokenizer.json")
    } catch let error as TokenizerError {
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    let own = String(decoding: bytes(data, size).prefix(256), as: UTF8.self)
    for text in [own, "Hello, world! <s> [SEP] ##ing naïve 東京 \u{0}\u{301} 😀 don't  \n"] {
        for maxLength in [nil, 8] as [Int?] {
            let e: Encoding
            do {
                e = try tokenizer.encode(text, pair: text, maxLength: maxLength, truncation: .longestFirst)
            } catch let error as TokenizerError {
                // Only a length too short for the special tokens may fail.
                guard case .sequenceTooShortForSpecials = error, maxLength != nil else {
                    require(false, "encode failed on a loaded tokenizer: \(error)")
                    return 0
                }
                continue
            } catch {
                require(false, "an untyped error: \(error)")
                return 0
            }
            let n = e.ids.count
            require(e.tokens.count == n && e.typeIds.count == n && e.offsets.count == n && e.specialTokensMask.count == n,
                    "arrays of different lengths")
            if let maxLength { require(n <= maxLength, "\(n) tokens for maxLength \(maxLength)") }
            let scalars = text.unicodeScalars.count
            for k in 0..<n {
                require(e.ids[k] >= 0 && e.ids[k] < tokenizer.vocabularySize, "id \(e.ids[k]) outside the vocabulary")
                require(e.offsets[k].lowerBound >= 0 && e.offsets[k].upperBound <= scalars, "offsets \(e.offsets[k])")
            }
            _ = tokenizer.decode(e.ids, skipSpecialTokens: true)
        }
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
