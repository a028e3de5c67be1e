import Foundation
import Testing
@testable import Tokenizers

/// Golden encodings from Hugging Face's BertTokenizerFast (tools/golden/wordpiece.py) on the
/// real all-MiniLM-L6-v2 vocabulary, which tools/setup puts under models/.
struct WordPieceGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func loadGolden() throws -> Golden {
        let url = root.appending(path: "Tests/TokenizersTests/Resources/wordpiece_golden.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Golden.self, from: Data(contentsOf: url))
    }

    @Test func matchesHuggingFaceOnEveryRecord() throws {
        let golden = try Self.loadGolden()
        let vocabulary = Self.root.appending(path: golden.vocabulary)
        try #require(FileManager.default.fileExists(atPath: vocabulary.path),
                     "\(vocabulary.path) is missing: run tools/setup to convert the models")
        var tokenizers: [String: WordPieceTokenizer] = [:]
        for (name, c) in golden.configs {
            tokenizers[name] = try WordPieceTokenizer(
                vocabulary: vocabulary, lowercase: c.doLowerCase, stripAccents: c.stripAccents,
                tokenizeChineseChars: c.tokenizeChineseChars)
        }
        try #require(tokenizers.values.first?.vocabularySize == golden.vocabularySize,
                     "\(vocabulary.path) is not all-MiniLM-L6-v2's vocabulary: re-run tools/setup")
        var failures = 0
        for r in golden.records where failures < 20 {
            let tokenizer = try #require(tokenizers[r.config])
            let strategy = try #require(TruncationStrategy(rawValue: r.strategy))
            let what = "\(r.config) \(debug(r.text))" + (r.pair.map { " + \(debug($0))" } ?? "")
                + (r.maxLength.map { " max \($0) \(r.strategy)" } ?? "")
            let result = Result { try tokenizer.encode(r.text, pair: r.pair, maxLength: r.maxLength, truncation: strategy) }
            if let expectedError = r.error {
                if case .failure(let error as TokenizerError) = result, error.goldenName == expectedError { continue }
                Issue.record("\(what): expected error \(expectedError), got \(result)")
                failures += 1
                continue
            }
            guard case .success(let e) = result else {
                Issue.record("\(what): unexpected \(result)")
                failures += 1
                continue
            }
            let expected = Row(ids: r.ids ?? [], tokens: r.tokens ?? [], typeIds: r.typeIds ?? [],
                               offsets: (r.offsets ?? []).map { $0[0]..<$0[1] })
            let actual = Row(ids: e.ids, tokens: e.tokens, typeIds: e.typeIds, offsets: e.offsets)
            if let position = actual.firstDifference(from: expected) {
                Issue.record("\(what): first difference at token \(position): expected \(expected.describe(position)), got \(actual.describe(position))")
                failures += 1
            }
            #expect(e.attentionMask == [Int](repeating: 1, count: e.count))
        }
    }

    /// Real prose at scale: every line of botchan.txt (4,288 lines), uncased and cased.
    @Test func matchesHuggingFaceOnBotchan() throws {
        struct Prose: Decodable {
            let text: String
            let lines: Int
            let ids: [String: [[Int]]]
        }
        let prose = try JSONDecoder().decode(Prose.self, from: Data(contentsOf: Self.root.appending(
            path: "Tests/TokenizersTests/Resources/wordpiece_prose_golden.json")))
        let data = try Data(contentsOf: Self.root.appending(path: prose.text))
        // Bytes, not Characters: "\r\n" is one Character, which a split at "\n" would not see.
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        #expect(lines.count == prose.lines && prose.lines > 4000)
        let golden = try Self.loadGolden()
        let vocabulary = Self.root.appending(path: golden.vocabulary)
        #expect(prose.ids.keys.sorted() == ["cased", "uncased"])
        for (name, expected) in prose.ids {
            let c = try #require(golden.configs[name])
            let tokenizer = try WordPieceTokenizer(vocabulary: vocabulary, lowercase: c.doLowerCase, stripAccents: c.stripAccents,
                                                   tokenizeChineseChars: c.tokenizeChineseChars)
            try #require(expected.count == lines.count)
            var failures = 0
            for (line, ids) in zip(lines, expected) where failures < 10 {
                let ours = try tokenizer.encode(line).ids
                if ours != ids {
                    Issue.record("\(name) \(debug(line)): expected \(ids), got \(ours)")
                    failures += 1
                }
            }
        }
    }

    /// Every scalar alone, against what `tokenizers` does to it: catches the Unicode-version
    /// differences between Swift and the Rust crates that rare text would hit.
    @Test func unicodeClassesMatchHuggingFace() throws {
        let u = try Self.loadGolden().unicode
        let removed = ScalarRanges(u.removed), whitespace = ScalarRanges(u.whitespace)
        let punctuation = ScalarRanges(u.punctuation), chinese = ScalarRanges(u.chinese)
        let marks = ScalarRanges(u.nonspacingMarks)
        let decompositions = u.decompositions.mapKeysToScalars(), lowercase = u.lowercase.mapKeysToScalars()
        var mismatches: [String] = []
        var decomposed: [Unicode.Scalar] = []
        for v in UInt32(0)..<0x110000 {
            guard let s = Unicode.Scalar(v) else { continue }
            let cleaned = BertUnicode.isRemovedByCleaning(s)
            decomposed.removeAll(keepingCapacity: true)
            BertUnicode.appendDecomposition(of: s, to: &decomposed)
            var lowered: [Unicode.Scalar] = []
            BertUnicode.forEachLowercase(of: s) { lowered.append($0) }
            let hangul = (0xAC00...0xD7A3).contains(v)
            var wrong: [String] = []
            if cleaned != removed.contains(v) { wrong.append("removed") }
            if (!cleaned && BertUnicode.isWhitespace(s)) != whitespace.contains(v) { wrong.append("whitespace") }
            if BertUnicode.isPunctuation(s) != punctuation.contains(v) { wrong.append("punctuation") }
            if BertUnicode.isChineseCharacter(s) != chinese.contains(v) { wrong.append("chinese") }
            if !hangul && decomposed != (decompositions[v] ?? [s]) { wrong.append("decomposition") }
            if decomposed == [s] && BertUnicode.isNonspacingMark(s) != marks.contains(v) { wrong.append("nonspacing mark") }
            if lowered != (lowercase[v] ?? [s]) { wrong.append("lowercase") }
            if !wrong.isEmpty { mismatches.append("U+\(String(v, radix: 16, uppercase: true)): \(wrong.joined(separator: ", "))") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) scalars differ: \(mismatches.prefix(20).joined(separator: "; "))")
    }
}

/// Behaviour beyond the golden file, on a small vocabulary written for the test.
struct WordPieceUnitTests {
    static let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ",", "!", "a", "##a", "un", "##aff", "##able"]

    static func vocabulary(_ lines: [String], file: String = #function) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appending(path: "wordpiece-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appending(path: file.filter(\.isLetter) + ".txt")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url
    }

    @Test func missingFileIsAnError() {
        let url = URL(fileURLWithPath: "/nonexistent/vocab.txt")
        #expect(throws: TokenizerError.missingFile(path: url.path)) { try WordPieceTokenizer(vocabulary: url) }
    }

    @Test func emptyVocabularyIsAnError() throws {
        let url = try Self.vocabulary([])
        #expect(throws: TokenizerError.malformedVocabulary(path: url.path, reason: "the file is empty")) {
            try WordPieceTokenizer(vocabulary: url)
        }
    }

    @Test func duplicateTokenIsAnError() throws {
        let url = try Self.vocabulary(Self.tokens + ["hello"])
        let error = #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabulary: url) }
        guard case .malformedVocabulary(_, let reason) = error else {
            Issue.record("expected a malformed vocabulary, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("\"hello\" on lines 6 and 16"), "\(reason)")
    }

    @Test func missingUnknownTokenIsAnError() throws {
        let url = try Self.vocabulary(Self.tokens.filter { $0 != "[UNK]" })
        #expect(throws: TokenizerError.missingSpecialToken(token: "[UNK]", path: url.path)) {
            try WordPieceTokenizer(vocabulary: url)
        }
    }

    @Test func emptyTextIsClsSep() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.vocabulary(Self.tokens))
        let e = try tokenizer.encode("")
        #expect(e.tokens == ["[CLS]", "[SEP]"])
        #expect(e.ids == [2, 3])
        #expect(e.typeIds == [0, 0])
        #expect(e.offsets == [0..<0, 0..<0])
        #expect(tokenizer.padId == 0)
    }

    @Test func splitsWordsIntoPieces() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.vocabulary(Self.tokens))
        let e = try tokenizer.encode("Hello, worlds! Unaffable xyz", pair: "aaa")
        #expect(e.tokens == ["[CLS]", "hello", ",", "world", "##s", "!", "un", "##aff", "##able", "[UNK]", "[SEP]", "a", "##a", "##a", "[SEP]"])
        #expect(e.offsets == [0..<0, 0..<5, 5..<6, 7..<12, 12..<13, 13..<14, 15..<17, 17..<20, 20..<24, 25..<28, 0..<0, 0..<1, 1..<2, 2..<3, 0..<0])
        #expect(e.typeIds == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    }

    @Test func maxLengthTooSmallForSpecialsIsAnError() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.vocabulary(Self.tokens))
        #expect(throws: TokenizerError.sequenceTooShortForSpecials(maxLength: 1)) { try tokenizer.encode("hello", maxLength: 1) }
        #expect(throws: TokenizerError.sequenceTooShortForSpecials(maxLength: 2)) {
            try tokenizer.encode("hello", pair: "world", maxLength: 2)
        }
        #expect(try tokenizer.encode("hello", maxLength: 2).tokens == ["[CLS]", "[SEP]"])
        #expect(try tokenizer.encode("hello", pair: "world", maxLength: 3).tokens == ["[CLS]", "[SEP]", "[SEP]"])
    }

    @Test func defaultMaxLengthTruncates() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.vocabulary(Self.tokens), maxLength: 4)
        #expect(try tokenizer.encode("hello world hello world").tokens == ["[CLS]", "hello", "world", "[SEP]"])
        #expect(try tokenizer.encode("hello world hello", maxLength: 3).tokens == ["[CLS]", "hello", "[SEP]"])
    }

    /// Linear time: a 1 MB line without spaces is one word, hence one [UNK], and must not go
    /// quadratic in the pre-tokenizer or the matcher. Wall time belongs to benchmarks, not
    /// tests (a loaded machine makes it meaningless), so this checks growth instead: 8× the
    /// text may take at most 24× the time (linear is 8×, quadratic 64×), best of 3 each.
    @Test func megabyteLineWithoutSpacesIsLinear() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: Self.vocabulary(Self.tokens))
        func line(_ bytes: Int) -> [String] {
            [String(repeating: "a", count: bytes), String(repeating: "é", count: bytes / 2)]  // é goes through NFD
        }
        let (small, large) = (line(1 << 17), line(1 << 20))
        let encodings = try large.map { try tokenizer.encode($0) }
        #expect(encodings.map(\.tokens) == [["[CLS]", "[UNK]", "[SEP]"], ["[CLS]", "[UNK]", "[SEP]"]])
        #expect(encodings.map(\.offsets) == [[0..<0, 0..<(1 << 20), 0..<0], [0..<0, 0..<(1 << 19), 0..<0]])
        func fastest(_ texts: [String]) throws -> Duration {
            try (0..<3).map { _ in try ContinuousClock().measure { for t in texts { _ = try tokenizer.encode(t) } } }.min()!
        }
        let (t1, t8) = (try fastest(small), try fastest(large))
        #expect(t8 < t1 * 24, "128 KB took \(t1), 1 MB took \(t8)")
    }
}
