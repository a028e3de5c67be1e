/// tokenizer.json decoders besides ByteLevel and WordPiece, as `tokenizers` chains them:
/// each rewrites the token strings, and the caller joins what is left.

/// Metaspace: `replacement` (▁) back to a space, except in the first token, where every one
/// is dropped (the pre-tokenizer prepended it) unless the prepend scheme is `never`.
struct MetaspaceDecoder: Decoder {
    let replacement: Unicode.Scalar
    let prepended: Bool

    func decode(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, token in
            String(scalars: token.unicodeScalars.compactMap { u in
                u != replacement ? u : (i == 0 && prepended ? nil : " ")
            })
        }
    }
}

/// Replace with a literal pattern, token by token.
struct ReplaceDecoder: Decoder {
    let pattern: String
    let content: String

    func decode(_ tokens: [String]) -> [String] {
        tokens.map { $0.replacingScalars(pattern, with: content) }
    }
}

/// ByteFallback: each run of `<0xXX>` tokens becomes the text of its bytes, or one U+FFFD per
/// byte when they are not valid UTF-8.
struct ByteFallbackDecoder: Decoder {
    func decode(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var bytes: [UInt8] = []
        func flush() {
            guard !bytes.isEmpty else { return }
            if let text = String(validating: bytes, as: UTF8.self) {
                out.append(text)
            } else {
                out += [String](repeating: "\u{FFFD}", count: bytes.count)
            }
            bytes.removeAll()
        }
        for token in tokens {
            if let byte = Self.byte(token) { bytes.append(byte); continue }
            flush()
            out.append(token)
        }
        flush()
        return out
    }

    /// The byte of a `<0xXX>` token (Rust's `u8::from_str_radix` on the two characters).
    static func byte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u.starts(with: Array("<0x".utf8)), u[5] == UInt8(ascii: ">") else { return nil }
        let digits = String(decoding: u[3..<5], as: UTF8.self)
        return UInt8(digits.hasPrefix("+") ? String(digits.dropFirst()) : digits, radix: 16)
    }
}

/// Fuse: every token joined into one.
struct FuseDecoder: Decoder {
    func decode(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Strip: up to `start` leading and `stop` trailing `content` scalars off each token.
struct StripDecoder: Decoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decode(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let s = Array(token.unicodeScalars)
            var lower = 0
            while lower < min(start, s.count), s[lower] == content { lower += 1 }
            var upper = s.count
            while s.count - upper < stop, upper > 0, s[upper - 1] == content { upper -= 1 }
            return upper > lower ? String(scalars: s[lower..<upper]) : ""
        }
    }
}

/// Sequence: each decoder rewrites what the one before left.
struct SequenceDecoder: Decoder {
    let stages: [any Decoder]

    func decode(_ tokens: [String]) -> [String] {
        stages.reduce(tokens) { $1.decode($0) }
    }
}
