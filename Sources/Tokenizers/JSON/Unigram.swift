/// Hugging Face's Unigram model (SentencePiece's, as `tokenizers` runs it): the segmentation
/// of a word into vocabulary pieces whose scores sum highest, found by Viterbi over the
/// word's scalars. A scalar no piece starts with becomes the unknown piece, scored 10 below
/// the lowest score, and runs of unknown pieces fuse into one; under `byte_fallback` an
/// unknown piece becomes its UTF-8 bytes' `<0xXX>` pieces when the vocabulary has them all.
/// Ties keep the piece found first: the earliest start, then the shortest piece.
struct UnigramModel: TokenizerModel {
    let vocab: TokenVocabulary
    /// Each id's score.
    let scores: [Double]
    let unknownId: Int?
    let byteFallback: Bool
    private let trie: PieceTrie
    private let unknownScore: Double
    private let path: String

    /// tokenizers' `K_UNK_PENALTY`.
    static let unknownPenalty = 10.0

    init(pieces: [(String, Double)], unknownId: Int?, byteFallback: Bool, path: String) throws {
        guard !pieces.isEmpty else { throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Unigram vocabulary is empty") }
        if let unknownId, !pieces.indices.contains(unknownId) {
            throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Unigram unk_id \(unknownId) is outside its \(pieces.count) pieces")
        }
        vocab = try TokenVocabulary(pieces.enumerated().map { ($0.element.0, $0.offset) }, path: path)
        scores = pieces.map(\.1)
        self.unknownId = unknownId
        self.byteFallback = byteFallback
        self.path = path
        unknownScore = (scores.min() ?? 0) - Self.unknownPenalty
        var trie = PieceTrie()
        // Every piece is in the trie, the unknown and special pieces too; a piece spelled twice
        // answers with its last id, as tokenizers' token map does.
        for piece in pieces.map(\.0) { trie.insert(Array(piece.unicodeScalars), id: vocab.id(of: piece)!) }
        self.trie = trie
    }

    var size: Int { scores.count }
    func id(of token: String) -> Int? { vocab.id(of: token) }
    func token(of id: Int) -> String? { vocab.string(of: id) }

    func tokenize(_ word: NormalizedText, into tokens: inout [Token]) throws {
        let s = word.scalars
        let n = s.count
        guard n > 0 else { return }
        // best[e]: the best segmentation of s[0..<e]: its score, the start and id of its last piece.
        var score = [Double](repeating: 0, count: n + 1)
        var start = [Int](repeating: -1, count: n + 1)
        var pieceId = [Int](repeating: -1, count: n + 1)
        for i in 0..<n {
            let here = score[i]
            var single = false
            trie.forEachPrefix(of: s, from: i) { length, id in
                let end = i + length
                let candidate = scores[id] + here
                if start[end] < 0 || candidate > score[end] { (score[end], start[end], pieceId[end]) = (candidate, i, id) }
                if length == 1 { single = true }
            }
            if !single {
                guard let unknownId else {
                    throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Unigram model has no unk_id and no piece for \"\(String(scalars: [s[i]]))\"")
                }
                let candidate = unknownScore + here
                if start[i + 1] < 0 || candidate > score[i + 1] { (score[i + 1], start[i + 1], pieceId[i + 1]) = (candidate, i, unknownId) }
            }
        }
        // The best path's pieces, back from the end; then adjacent unknown pieces fused into one.
        var ranges: [Range<Int>] = []
        var end = n
        while end > 0 {
            ranges.append(start[end]..<end)
            end = start[end]
        }
        var merged: [Range<Int>] = []
        var lastUnknown = false
        for r in ranges.reversed() {
            let isUnknown = unknownId != nil && pieceId[r.upperBound] == unknownId
            if isUnknown && lastUnknown {
                merged[merged.count - 1] = merged[merged.count - 1].lowerBound..<r.upperBound
                continue
            }
            merged.append(r)
            lastUnknown = isUnknown
        }
        for r in merged {
            let piece = Array(s[r])
            let string = String(scalars: piece)
            let offsets = word.originalRange(r)
            if let id = vocab.id(of: piece) {
                tokens.append(Token(id: id, value: string, offsets: offsets))
                continue
            }
            if byteFallback {
                let names = string.utf8.map(Self.byteToken)
                let ids = names.compactMap { vocab.id(of: $0) }
                if ids.count == names.count {
                    for (id, name) in zip(ids, names) { tokens.append(Token(id: id, value: name, offsets: offsets)) }
                    continue
                }
            }
            guard let unknownId else {
                throw TokenizerError.malformedTokenizerJSON(path: path, reason: "the Unigram model has no unk_id and no piece for \"\(string)\"")
            }
            tokens.append(Token(id: unknownId, value: string, offsets: offsets))
        }
    }

    static func byteToken(_ b: UInt8) -> String {
        let hex = String(b, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }
}

/// The pieces of a vocabulary as a trie over scalars, for the pieces that start at a position.
struct PieceTrie: Sendable {
    private var children: [[Unicode.Scalar: Int32]] = [[:]]
    private var ids: [Int32] = [-1]

    mutating func insert(_ piece: [Unicode.Scalar], id: Int) {
        guard !piece.isEmpty else { return }
        var node = 0
        for u in piece {
            if let next = children[node][u] { node = Int(next); continue }
            children.append([:])
            ids.append(-1)
            children[node][u] = Int32(children.count - 1)
            node = children.count - 1
        }
        ids[node] = Int32(id)
    }

    /// Calls `body(length, id)` for each piece that `s[from...]` starts with, shortest first.
    func forEachPrefix(of s: [Unicode.Scalar], from: Int, _ body: (Int, Int) -> Void) {
        var node = 0
        var i = from
        while i < s.count, let next = children[node][s[i]] {
            node = Int(next)
            i += 1
            if ids[node] >= 0 { body(i - from, Int(ids[node])) }
        }
    }
}
