/// GPT-2's byte-level stages: every UTF-8 byte of a word becomes one printable scalar (the
/// byte-to-unicode table), so a BPE vocabulary of 256 base symbols covers any text.
enum ByteTable {
    /// `scalars[b]`: the scalar byte `b` is written as. Printable Latin-1 bytes stand for
    /// themselves; the others (controls, space, soft hyphen, ...) take U+0100 onwards, in order.
    static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a table scalar stands for; `nil` for scalars outside the table.
    static func byte(of u: Unicode.Scalar) -> UInt8? {
        let v = u.value
        if v < 256 {
            let printable = (0x21...0x7E).contains(v) || (0xA1...0xAC).contains(v) || (0xAE...0xFF).contains(v)
            return printable ? UInt8(v) : nil
        }
        return inverse[u]
    }

    private static let inverse: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (b, u) in scalars.enumerated() where u.value >= 256 { map[u] = UInt8(b) }
        return map
    }()
}

/// The ByteLevel pre-tokenizer: a space before the text when `addPrefixSpace` (unless it
/// starts with one), GPT-2's split when `useRegex`, then each byte mapped through the table.
struct ByteLevelPreTokenizer: PreTokenizer {
    var addPrefixSpace: Bool
    var useRegex: Bool

    func split(_ words: inout [NormalizedText]) {
        var out: [NormalizedText] = []
        for var word in words {
            if addPrefixSpace, let first = word.origins.first, word.scalars.first != " " {
                word.scalars.insert(" ", at: 0)
                word.origins.insert(first, at: 0)
            }
            if useRegex {
                GPT2Split.forEachPiece(of: word.scalars) { out.append(word.slice($0)) }
            } else {
                out.append(word)
            }
        }
        for i in out.indices { out[i] = Self.bytes(of: out[i]) }
        words = out
    }

    /// Each scalar's UTF-8 bytes as table scalars, all from that scalar's origin.
    static func bytes(of word: NormalizedText) -> NormalizedText {
        var out = NormalizedText()
        out.scalars.reserveCapacity(word.scalars.count)
        out.origins.reserveCapacity(word.scalars.count)
        for (u, origin) in zip(word.scalars, word.origins) {
            if u.value < 0x80 {
                out.append(ByteTable.scalars[Int(u.value)], from: origin)
            } else {
                for b in String(u).utf8 { out.append(ByteTable.scalars[Int(b)], from: origin) }
            }
        }
        return out
    }
}

/// GPT-2's pre-tokenization regex, by hand, in one pass:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
enum GPT2Split {
    private enum Kind { case letter, number, space, other }

    private static func kind(_ u: Unicode.Scalar) -> Kind {
        if u.value < 0x80 {
            switch u.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        if UnicodeClass.isLetter(u) { return .letter }
        if UnicodeClass.isNumber(u) { return .number }
        if UnicodeClass.isWhitespace(u) { return .space }
        return .other
    }

    /// Calls `body` with the range of each match, in order; the matches cover the text.
    static func forEachPiece(of s: [Unicode.Scalar], _ body: (Range<Int>) -> Void) {
        let n = s.count
        var kinds: [Kind] = []
        kinds.reserveCapacity(n)
        for u in s { kinds.append(kind(u)) }
        func run(of k: Kind, from i: Int) -> Int {
            var j = i
            while j < n && kinds[j] == k { j += 1 }
            return j
        }
        var i = 0
        while i < n {
            if s[i] == "'", i + 1 < n {
                let c = s[i + 1]
                if c == "s" || c == "t" || c == "m" || c == "d" {
                    body(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < n, (c == "r" && s[i + 2] == "e") || (c == "v" && s[i + 2] == "e") || (c == "l" && s[i + 2] == "l") {
                    body(i..<(i + 3)); i += 3; continue
                }
            }
            let k = kinds[i]
            if s[i] == " ", i + 1 < n, kinds[i + 1] != .space {
                let end = run(of: kinds[i + 1], from: i + 1)
                body(i..<end); i = end; continue
            }
            if k != .space {
                let end = run(of: k, from: i)
                body(i..<end); i = end; continue
            }
            // Whitespace: all of it at the end of the text, else all but the last scalar
            // (which a following word may take as its leading space), else that one scalar.
            let end = run(of: .space, from: i)
            if end == n || end - i == 1 {
                body(i..<end); i = end
            } else {
                body(i..<(end - 1)); i = end - 1
            }
        }
    }
}

/// ByteLevel's offset trimming (also RobertaProcessing's `trim_offsets`): offsets leave out
/// the spaces a token starts or ends with, except the one `add_prefix_space` put before the
/// first word.
enum ByteLevelOffsets {
    static let space = ByteTable.scalars[0x20]

    static func trim(_ part: inout EncodingPart, addPrefixSpace: Bool) {
        for i in part.offsets.indices {
            let scalars = Array(part.tokens[i].unicodeScalars)
            func isSpace(_ u: Unicode.Scalar) -> Bool { u == space || UnicodeClass.isWhitespace(u) }
            var leading = 0
            while leading < scalars.count && isSpace(scalars[leading]) { leading += 1 }
            var trailing = 0
            while trailing < scalars.count && isSpace(scalars[scalars.count - 1 - trailing]) { trailing += 1 }
            guard leading > 0 || trailing > 0 else { continue }
            var (start, end) = (part.offsets[i].lowerBound, part.offsets[i].upperBound)
            if leading > 0 {
                let isFirst = i == 0 || start == 0
                if isFirst && addPrefixSpace && leading == 1 { leading = 0 }
                start = min(start + leading, end)
            }
            if trailing > 0 && end >= trailing {
                end = max(end - trailing, start)
            }
            part.offsets[i] = start..<end
        }
    }
}

/// The ByteLevel post-processor: trims offsets, adds nothing.
struct ByteLevelProcessor: PostProcessor {
    var trimOffsets: Bool
    var addPrefixSpace: Bool

    func addedTokens(pair: Bool) -> Int { 0 }
    var specialIds: [Int] { [] }

    func process(_ parts: [EncodingPart]) -> [EncodingPart] {
        guard trimOffsets else { return parts }
        return parts.map { part in
            var part = part
            ByteLevelOffsets.trim(&part, addPrefixSpace: addPrefixSpace)
            return part
        }
    }
}

/// The ByteLevel decoder: table scalars back to bytes, the bytes read as UTF-8 (invalid
/// sequences become U+FFFD). A token with a scalar outside the table keeps its own UTF-8.
struct ByteLevelDecoder: Decoder {
    func decode(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens {
            var mapped: [UInt8] = []
            var ok = true
            for u in token.unicodeScalars {
                guard let b = ByteTable.byte(of: u) else { ok = false; break }
                mapped.append(b)
            }
            bytes += ok ? mapped : Array(token.utf8)
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}
