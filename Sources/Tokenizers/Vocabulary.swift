import Foundation

/// A WordPiece vocabulary: `vocab.txt`, one token per line, the id being the line index.
///
/// Lookups compare Unicode scalars, never `String`s: Swift's `String` equality is canonical
/// equivalence ("é" == "e\u{301}"), Hugging Face's is byte equality.
struct Vocabulary: Sendable {
    /// Token strings by id.
    let tokens: [String]
    /// Ids of whole tokens, keyed by their scalars.
    private let starts: [ArraySlice<Unicode.Scalar>: Int]
    /// Ids of the `##` tokens, keyed by the scalars after the `##`.
    private let continuations: [ArraySlice<Unicode.Scalar>: Int]
    /// The longest key of each table, in scalars: longer pieces cannot match.
    let longestStart: Int
    let longestContinuation: Int

    init(contentsOf url: URL) throws {
        let path = url.path
        guard let data = FileContents.read(path) else {
            throw TokenizerError.missingFile(path: path)
        }
        let bytes = [UInt8](data)
        let lines = Self.lines(of: bytes)
        guard !lines.isEmpty else {
            throw TokenizerError.malformedVocabulary(path: path, reason: "the file is empty")
        }
        var tokens: [String] = []
        tokens.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            guard let token = String(validating: bytes[line], as: UTF8.self) else {
                throw TokenizerError.malformedVocabulary(path: path, reason: "line \(index + 1) is not UTF-8")
            }
            tokens.append(token)
        }
        try self.init(tokens: tokens, path: path)
    }

    /// The vocabulary whose token `i` is `tokens[i]` (a tokenizer.json WordPiece model's).
    init(tokens: [String], path: String) throws {
        var storage: [Unicode.Scalar] = []
        var ranges: [Range<Int>] = []
        for token in tokens {
            let start = storage.count
            storage.append(contentsOf: token.unicodeScalars)
            ranges.append(start..<storage.count)
        }
        var starts: [ArraySlice<Unicode.Scalar>: Int] = [:]
        var continuations: [ArraySlice<Unicode.Scalar>: Int] = [:]
        starts.reserveCapacity(tokens.count)
        var longestStart = 0, longestContinuation = 0
        for (id, range) in ranges.enumerated() {
            let key = storage[range]
            if let previous = starts.updateValue(id, forKey: key) {
                throw TokenizerError.malformedVocabulary(
                    path: path, reason: "token \"\(tokens[id])\" on lines \(previous + 1) and \(id + 1)")
            }
            longestStart = max(longestStart, key.count)
            if key.count > 2, key[key.startIndex] == "#", key[key.startIndex + 1] == "#" {
                continuations[key.dropFirst(2)] = id
                longestContinuation = max(longestContinuation, key.count - 2)
            }
        }
        self.tokens = tokens
        self.starts = starts
        self.continuations = continuations
        self.longestStart = longestStart
        self.longestContinuation = longestContinuation
    }

    var count: Int { tokens.count }

    /// The id of `token`, spelled exactly.
    func id(of token: String) -> Int? {
        starts[ArraySlice(token.unicodeScalars)]
    }

    /// The id of the piece `scalars` at the start of a word, or after `##` inside one.
    func id(of scalars: ArraySlice<Unicode.Scalar>, continuing: Bool) -> Int? {
        continuing ? continuations[scalars] : starts[scalars]
    }

    /// Byte ranges of the lines, as Python's `readlines` splits them (\n, \r\n or \r), without
    /// their line breaks; a final line break does not start another line.
    private static func lines(of bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0A || byte == 0x0D {
                lines.append(start..<i)
                if byte == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
                start = i + 1
            }
            i += 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        return lines
    }
}
