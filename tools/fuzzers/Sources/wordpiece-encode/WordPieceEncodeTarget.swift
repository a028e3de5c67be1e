import FuzzSupport
import Tokenizers

/// WordPiece on arbitrary text, with the committed tiny BERT vocabulary (2,073 tokens);
/// the first byte's bit 0 switches lowercasing off.
let vocabulary = repositoryRoot.appendingPathComponent("Tests/BERTTests/Resources/heads/single/vocab.txt")
let lowercased = try! WordPieceTokenizer(vocabulary: vocabulary)
let cased = try! WordPieceTokenizer(vocabulary: vocabulary, lowercase: false)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = EncodeInput(bytes(data, size))
    let tokenizer = input.flag ? cased : lowercased
    input.check(tokenizer, vocabularySize: tokenizer.vocabularySize)
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
