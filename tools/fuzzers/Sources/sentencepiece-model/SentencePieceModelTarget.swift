import FuzzSupport
import Tokenizers

/// A SentencePiece .model of arbitrary bytes, in the plain, XLM-R and DeBERTa conventions: either a TokenizerError,
/// or a tokenizer whose encodings hold ids inside its vocabulary.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let url = FuzzFile.write(bytes(data, size), name: "spiece.model")
    for convention in [SentencePieceTokenizer.Convention.plain, .xlmRoberta, .deberta] {
        let tokenizer: SentencePieceTokenizer
        do {
            tokenizer = try SentencePieceTokenizer(model: url, convention: convention)
        } catch let error as TokenizerError {
            require(!error.description.contains("\n"), "a multi-line error: \(error)")
            continue
        } catch {
            require(false, "an untyped error: \(error)")
            continue
        }
        require(tokenizer.pieceCount >= 0, "piece count \(tokenizer.pieceCount)")
        for text in ["Hello, world! <s> naïve 東京", ""] {
            do {
                let e = try tokenizer.encode(text, pair: nil, maxLength: nil, truncation: .longestFirst)
                checkEncoding(e, text: text, pair: nil, vocabularySize: tokenizer.vocabularySize, maxLength: nil)
                for id in e.ids { _ = tokenizer.token(for: id) }
            } catch let error as TokenizerError {
                guard case .encodingFailed = error else { require(false, "encode failed: \(error)"); continue }
            } catch {
                require(false, "an untyped error: \(error)")
            }
        }
    }
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
