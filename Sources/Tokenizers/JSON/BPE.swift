import Foundation

/// Hugging Face's BPE model: a word starts as one symbol per scalar (the continuing-subword
/// prefix before all but the first, the end-of-word suffix after the last; a scalar missing
/// from the vocabulary becomes its `<0xXX>` byte tokens under `byte_fallback`, else the
/// unknown token), then the adjacent pair of lowest merge rank is merged, leftmost first,
/// until no pair has a rank. A heap of candidate pairs keeps a long word at n log n.
struct BPEModel: TokenizerModel {
    let vocab: TokenVocabulary
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int32, id: Int32)]
    let unknownId: Int?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let prefix: [Unicode.Scalar]
    let suffix: [Unicode.Scalar]
    /// Ids of single scalars when neither prefix nor suffix applies (most lookups).
    private let scalarIds: [Unicode.Scalar: Int]
    /// The `<0xXX>` tokens' ids by byte, under `byte_fallback`.
    private let byteIds: [Int?]?
    private let cache = WordCache()

    init(vocab: TokenVocabulary, merges pairs: [(String, String)], unknown: String?, fuseUnknown: Bool,
         byteFallback: Bool, ignoreMerges: Bool, prefix: String?, suffix: String?, path: String) throws {
        self.vocab = vocab
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.prefix = prefix.map { Array($0.unicodeScalars) } ?? []
        self.suffix = suffix.map { Array($0.unicodeScalars) } ?? []
        if let unknown {
            guard let id = vocab.id(of: unknown) else {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the BPE unk_token \"\(unknown)\" is not in the vocabulary")
            }
            unknownId = id
        } else {
            unknownId = nil
        }
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(pairs.count)
        let prefixCount = self.prefix.count
        for (rank, (a, b)) in pairs.enumerated() {
            guard let left = vocab.id(of: a), let right = vocab.id(of: b) else {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "merge \(rank + 1) (\"\(a)\" \"\(b)\") names a token not in the vocabulary")
            }
            var joined = Array(a.unicodeScalars)
            let bScalars = Array(b.unicodeScalars)
            joined += bScalars.count >= prefixCount ? bScalars[prefixCount...] : []
            guard let id = vocab.id(of: joined) else {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "merge \(rank + 1) (\"\(a)\" \"\(b)\") makes a token not in the vocabulary")
            }
            let key = UInt64(left) << 32 | UInt64(right)
            if merges[key] == nil { merges[key] = (Int32(rank), Int32(id)) }
        }
        self.merges = merges
        var scalarIds: [Unicode.Scalar: Int] = [:]
        for (id, token) in vocab.tokens.enumerated() {
            if let token, token.count == 1 { scalarIds[token[0]] = id }
        }
        self.scalarIds = scalarIds
        if byteFallback {
            byteIds = (0..<256).map { vocab.id(of: String(format: "<0x%02X>", $0)) }
        } else {
            byteIds = nil
        }
    }

    var size: Int { vocab.tokens.count }
    func id(of token: String) -> Int? { vocab.id(of: token) }
    func token(of id: Int) -> String? { vocab.string(of: id) }

    func tokenize(_ word: NormalizedText, into tokens: inout [Token]) throws {
        guard !word.scalars.isEmpty else { return }
        if ignoreMerges, let id = vocab.id(of: word.scalars) {
            tokens.append(Token(id: id, value: vocab.string(of: id) ?? "", offsets: word.originalRange(0..<word.scalars.count)))
            return
        }
        let symbols: [Symbol]
        if let cached = cache.get(word.scalars) {
            symbols = cached
        } else {
            symbols = merged(word.scalars)
            cache.put(word.scalars, symbols)
        }
        // Symbols cover bytes of the word counted as tokenizers counts them: each added symbol
        // advances by its scalar's UTF-8 length (a byte token by one), a dropped scalar (no unk
        // token) by nothing. Offsets then come from the scalars at those byte positions.
        var byteToScalar: [Int32] = []
        byteToScalar.reserveCapacity(word.scalars.count)
        for (i, u) in word.scalars.enumerated() {
            for _ in 0..<UTF8.width(u) { byteToScalar.append(Int32(i)) }
        }
        let last = byteToScalar.count - 1
        for s in symbols {
            let first = Int(byteToScalar[min(s.start, last)]), end = Int(byteToScalar[min(s.end - 1, last)]) + 1
            tokens.append(Token(id: s.id, value: vocab.string(of: s.id) ?? "", offsets: word.originalRange(first..<max(end, first + 1))))
        }
    }

    /// A token of a word: its id and the bytes of the word it covers (see `tokenize`).
    struct Symbol: Sendable {
        var id: Int
        var start: Int
        var end: Int
    }

    private func initialSymbols(_ w: [Unicode.Scalar]) -> [Symbol] {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(w.count)
        var unknown: Symbol?
        var key: [Unicode.Scalar] = []
        var cursor = 0
        func add(_ id: Int, _ length: Int) {
            symbols.append(Symbol(id: id, start: cursor, end: cursor + length))
            cursor += length
        }
        func flushUnknown() {
            if let u = unknown { add(u.id, u.end - u.start); unknown = nil }
        }
        for (i, u) in w.enumerated() {
            let first = i == 0, last = i == w.count - 1
            let width = UTF8.width(u)
            var id: Int?
            if (first || prefix.isEmpty) && (!last || suffix.isEmpty) {
                id = scalarIds[u]
            } else {
                key.removeAll(keepingCapacity: true)
                if !first { key += prefix }
                key.append(u)
                if last { key += suffix }
                id = vocab.id(of: key)
            }
            if let id {
                flushUnknown()
                add(id, width)
                continue
            }
            if let byteIds {
                // The bytes of the symbol's whole string, prefix and suffix included, as tokenizers
                // does; only when every one has its token.
                var s: [Unicode.Scalar] = []
                if !first { s += prefix }
                s.append(u)
                if last { s += suffix }
                let bytes = Array(String(scalars: s).utf8)
                if bytes.allSatisfy({ byteIds[Int($0)] != nil }) {
                    flushUnknown()
                    for b in bytes { add(byteIds[Int(b)]!, 1) }
                    continue
                }
            }
            guard let unknownId else { continue }
            // (`unknown` holds the pending unk's id and length, placed when it is flushed.)
            if let u = unknown, fuseUnknown {
                unknown = Symbol(id: u.id, start: 0, end: u.end + width)
            } else {
                flushUnknown()
                unknown = Symbol(id: unknownId, start: 0, end: width)
            }
        }
        flushUnknown()
        return symbols
    }

    private func merged(_ w: [Unicode.Scalar]) -> [Symbol] {
        var symbols = initialSymbols(w)
        guard symbols.count > 1, !merges.isEmpty else { return symbols }
        let n = symbols.count
        var prev = Array(-1..<(n - 1))
        var next = Array(1...n)
        next[n - 1] = -1
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        func rank(_ a: Int, _ b: Int) -> (rank: Int32, id: Int32)? {
            merges[UInt64(symbols[a].id) << 32 | UInt64(symbols[b].id)]
        }
        for i in 0..<(n - 1) {
            if let m = rank(i, i + 1) { heap.push(.init(rank: m.rank, pos: Int32(i), id: m.id)) }
        }
        while let top = heap.pop() {
            let pos = Int(top.pos)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = next[pos]
            guard let m = rank(pos, right), m.id == top.id else { continue }
            symbols[pos].id = Int(m.id)
            symbols[pos].end = symbols[right].end
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[next[right]] = pos }
            if prev[pos] >= 0, let m = rank(prev[pos], pos) {
                heap.push(.init(rank: m.rank, pos: Int32(prev[pos]), id: m.id))
            }
            if next[pos] >= 0, let m = rank(pos, next[pos]) {
                heap.push(.init(rank: m.rank, pos: Int32(pos), id: m.id))
            }
        }
        var out: [Symbol] = []
        var i = 0
        while i >= 0 && i < n {
            out.append(symbols[i])
            i = next[i]
        }
        return out
    }
}

/// A binary min-heap of candidate merges, by rank, then position.
struct MergeHeap {
    struct Entry { var rank: Int32; var pos: Int32; var id: Int32 }
    private var items: [Entry] = []

    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos
    }

    mutating func push(_ e: Entry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.less(items[l], items[m]) { m = l }
                if r < items.count && Self.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}

/// The merged symbols of recent words, shared by concurrent calls. Only short words are kept,
/// and at most `capacity` of them: a text of endless distinct words cannot grow it past that.
final class WordCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[Unicode.Scalar]: [BPEModel.Symbol]] = [:]
    static let capacity = 10_000
    static let longestWord = 256

    func get(_ word: [Unicode.Scalar]) -> [BPEModel.Symbol]? {
        guard word.count <= Self.longestWord else { return nil }
        lock.lock(); defer { lock.unlock() }
        return entries[word]
    }

    func put(_ word: [Unicode.Scalar], _ symbols: [BPEModel.Symbol]) {
        guard word.count <= Self.longestWord else { return }
        lock.lock(); defer { lock.unlock() }
        if entries.count < Self.capacity { entries[word] = symbols }
    }
}

/// A token-to-id table keyed by scalars (Swift's `String` equality is canonical equivalence,
/// `tokenizers`' is byte equality), with the strings by id.
struct TokenVocabulary: Sendable {
    /// Token scalars by id; `nil` for an id no token has.
    let tokens: [[Unicode.Scalar]?]
    private let strings: [String?]
    private let ids: [[Unicode.Scalar]: Int]

    init(_ entries: [(String, Int)], path: String) throws {
        var ids: [[Unicode.Scalar]: Int] = [:]
        ids.reserveCapacity(entries.count)
        var maxId = -1
        // Real vocabularies are dense; a few gaps are allowed, not ids that would size the
        // tables far beyond the file.
        let limit = entries.count + 65_536
        for (token, id) in entries {
            guard id >= 0, id < limit else {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "token \"\(token)\" has id \(id), outside 0..<\(limit)")
            }
            ids[Array(token.unicodeScalars)] = id
            maxId = max(maxId, id)
        }
        var tokens = [[Unicode.Scalar]?](repeating: nil, count: maxId + 1)
        var strings = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in entries {
            if tokens[id] != nil, strings[id] != token {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "id \(id) is given to both \"\(strings[id]!)\" and \"\(token)\"")
            }
            tokens[id] = Array(token.unicodeScalars)
            strings[id] = token
        }
        self.tokens = tokens
        self.strings = strings
        self.ids = ids
    }

    func id(of token: String) -> Int? { ids[Array(token.unicodeScalars)] }
    func id(of scalars: [Unicode.Scalar]) -> Int? { ids[scalars] }
    func string(of id: Int) -> String? { id >= 0 && id < strings.count ? strings[id] : nil }
}
