import FuzzSupport
import Tokenizers

/// SentencePiece on arbitrary text: bit 0 of the first byte picks the committed tiny XLM-R
/// model (xlm-roberta convention, special tokens typed in the text) or the botchan unigram
/// model (plain convention).
let xlmr = try! SentencePieceTokenizer(
    model: repositoryRoot.appendingPathComponent("Tests/BERTTests/Resources/tiny-xlmr/sentencepiece.bpe.model"),
    convention: .xlmRoberta)
let plain = try! SentencePieceTokenizer(
    model: repositoryRoot.appendingPathComponent("tokenizers/sentencepiece/botchan_en_unigram_1000.model"),
    convention: .plain)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = EncodeInput(bytes(data, size))
    let tokenizer = input.flag ? plain : xlmr
    input.check(tokenizer, vocabularySize: tokenizer.vocabularySize)
    return 0
}

@main
enum Main {
    static func main() { runFuzzer(fuzz) }
}
