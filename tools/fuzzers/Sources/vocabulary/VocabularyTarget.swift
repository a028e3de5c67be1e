import FuzzSupport
import Tokenizers

/// A vocab.txt of arbitrary bytes: either a TokenizerError, or a tokenizer whose encodings
/// hold ids inside the vocabulary and offsets inside the text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzFile.write(bytes(data, size), name: "vocab.txt")
    let tokenizer: WordPieceTokenizer
    do {
        tokenizer = try WordPieceTokenizer(vocabulary: url)
    } catch let error as TokenizerError {
        require(!error.description.contains("\n"), "a multi-line error: \(error)")
        return 0
    } catch {
        require(false, "an untyped error: \(error)")
        return 0
    }
    // The vocabulary's own lines as text exercise its pieces; a fixed sentence its misses.
    let own = String(decoding: bytes(data, size).prefix(256), as: UTF8.self)
    for text in [own, "Hello, world! [SEP] ##ing naïve 東京 \u{0}\u{301}"] {
        do {
            let e = try tokenizer.encode(text, pair: text, maxLength: 64, truncation: .longestFirst)
            checkEncoding(e, text: text, pair: text, vocabularySize: tokenizer.vocabularySize, maxLength: 64)
        } catch {
            require(false, "encode failed on a loaded vocabulary: \(error)")
        }
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
