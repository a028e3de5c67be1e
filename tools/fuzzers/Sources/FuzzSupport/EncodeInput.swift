import Tokenizers

/// An encode call decoded from fuzzer bytes: the first byte chooses the options, the rest
/// is the text (invalid UTF-8 repaired to U+FFFD, as the command line reads it), cut into
/// a text and a pair at the first 0xFF byte when the options ask for a pair.
public struct EncodeInput {
    public let text: String
    public let pair: String?
    public let maxLength: Int?
    public let truncation: TruncationStrategy
    /// Free option bits for the target (bit 0 of the first byte).
    public let flag: Bool

    public init(_ raw: UnsafeRawBufferPointer) {
        let options = raw.first ?? 0
        let rest = raw.dropFirst()
        flag = options & 1 != 0
        let lengths: [Int?] = [nil, 1, 2, 3, 4, 7, 16, 512]
        maxLength = lengths[Int(options >> 1) & 7]
        truncation = TruncationStrategy.allCases[(Int(options >> 4) & 3) % 3]
        if options & 0x40 != 0, let cut = rest.firstIndex(of: 0xFF) {
            text = String(decoding: rest[..<cut], as: UTF8.self)
            pair = String(decoding: rest[(cut + 1)...], as: UTF8.self)
        } else {
            text = String(decoding: rest, as: UTF8.self)
            pair = nil
        }
    }

    /// Runs `encode` and checks the result, or that the error is one truncation may give.
    public func check(_ tokenizer: some Tokenizer, vocabularySize: Int) {
        do {
            let e = try tokenizer.encode(text, pair: pair, maxLength: maxLength, truncation: truncation)
            checkEncoding(e, text: text, pair: pair, vocabularySize: vocabularySize, maxLength: maxLength)
        } catch let error as TokenizerError {
            switch error {
            case .sequenceTooShortForSpecials, .sequenceTooShortToTruncate, .pairRequiredForTruncation:
                require(maxLength != nil, "a truncation error without a maximum length: \(error)")
            default:
                require(false, "encode failed: \(error)")
            }
        } catch {
            require(false, "an untyped error: \(error)")
        }
    }
}
