import Foundation

/// The Precompiled normalizer: SentencePiece's normalization rules (nmt_nfkc and the like)
/// compiled into a charsmap, applied as `tokenizers` applies it. The charsmap is a
/// little-endian u32 byte count, a Darts-clone double array of that many bytes over UTF-8
/// keys, then the replacement strings, each ended by a NUL. Each grapheme shorter than 6
/// bytes is looked up whole (the shortest key it starts with replaces all of it); otherwise,
/// or when it has no key, each of its scalars is looked up alone. The alignment follows
/// tokenizers' own: a longer replacement's extra scalars are insertions after the first, a
/// shorter one's last scalar takes up the rest.
struct PrecompiledNormalizer: Normalizer {
    private let units: [UInt32]
    private let strings: [UInt8]

    init(charsmap: Data, path: String) throws {
        let bytes = [UInt8](charsmap)
        guard bytes.count >= 4 else { throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Precompiled charsmap is shorter than its header") }
        let size = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard size % 4 == 0, size >= 4, 4 + size <= bytes.count else {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Precompiled charsmap's trie size \(size) does not fit its \(bytes.count) bytes")
        }
        units = stride(from: 4, to: 4 + size, by: 4).map {
            UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
        }
        strings = Array(bytes[(4 + size)...])
    }

    /// The replacement of the shortest key `chunk` starts with, if any.
    func replacement(_ chunk: some Collection<UInt8>) -> [Unicode.Scalar]? {
        guard let value = firstPrefixValue(chunk), value < strings.count else { return nil }
        var end = value
        while end < strings.count, strings[end] != 0 { end += 1 }
        return Array(String(decoding: strings[value..<end], as: UTF8.self).unicodeScalars)
    }

    /// Darts-clone's common-prefix search, stopped at its first result.
    private func firstPrefixValue(_ key: some Collection<UInt8>) -> Int? {
        func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
        func label(_ u: UInt32) -> UInt32 { u & ((1 << 31) | 0xFF) }
        func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
        var node = offset(units[0])
        for c in key {
            if c == 0 { return nil }
            node ^= Int(c)
            guard node < units.count, label(units[node]) == UInt32(c) else { return nil }
            let unit = units[node]
            node ^= offset(unit)
            if hasLeaf(unit) {
                guard node < units.count else { return nil }
                return Int(units[node] & ((1 << 31) - 1))
            }
        }
        return nil
    }

    func normalize(_ text: inout NormalizedText) {
        guard !text.scalars.isEmpty else { return }
        // (scalar, change): 0 replaces the next scalar, 1 inserts, -k also removes k more.
        var changes: [(Unicode.Scalar, Int)] = []
        var modified = false
        func replace(_ old: Int, with new: [Unicode.Scalar]) {
            changes += new.map { ($0, 0) }
            let diff = new.count - old
            if diff > 0 {
                for i in (changes.count - diff)..<changes.count { changes[i].1 = 1 }
            } else if diff < 0, !changes.isEmpty {
                changes[changes.count - 1].1 += diff
            }
        }
        let string = String(scalars: text.scalars)
        var position = 0
        for grapheme in string {
            let scalars = Array(grapheme.unicodeScalars)
            defer { position += scalars.count }
            let utf8 = Array(String(grapheme).utf8)
            if utf8.count < 6, let new = replacement(utf8) {
                modified = true
                replace(scalars.count, with: new)
                continue
            }
            for u in scalars {
                if let new = replacement(Array(String(u).utf8)) {
                    modified = true
                    replace(1, with: new)
                } else {
                    changes.append((u, 0))
                }
            }
        }
        guard modified else { return }
        var out = NormalizedText()
        var cursor = 0
        let last = text.origins.count - 1
        for (u, change) in changes {
            let origin = change > 0 ? text.origins[min(max(cursor - 1, 0), last)] : text.origins[min(cursor, last)]
            out.append(u, from: origin)
            cursor += change > 0 ? 0 : 1 - change
        }
        text = out
    }
}
