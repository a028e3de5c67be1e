import Foundation
import Testing
import Tokenizers

/// Tokenizer files that crashed or leaked, found by tools/fuzz (kept as fuzz inputs under
/// tools/fuzzers/regressions/); each is now a typed error.
@Suite struct TokenizerRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/fuzzers/regressions")

    /// A model with an empty piece: libsentencepiece's darts-clone threw a C++ exception
    /// ("zero-length key") through the shim, which aborted the process.
    @Test(arguments: [SentencePieceTokenizer.Convention.plain, .xlmRoberta])
    func sentencePieceModelWithAnEmptyPiece(convention: SentencePieceTokenizer.Convention) {
        let url = Self.regressions.appendingPathComponent("sentencepiece-model/empty-piece-throws.model")
        do {
            _ = try SentencePieceTokenizer(model: url, convention: convention)
            Issue.record("accepted")
        } catch let error as TokenizerError {
            guard case .unreadableModel(let path, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == url.path)
            #expect(reason.contains("zero-length key"), "\(reason)")
        } catch {
            Issue.record("untyped \(error)")
        }
    }

    /// A model whose duplicate piece holds a line break: libsentencepiece's message quotes
    /// it, and the error spanned two lines (fuzz: sentencepiece-model).
    @Test func sentencePieceErrorQuotingALineBreakStaysOneLine() {
        let url = Self.regressions.appendingPathComponent("sentencepiece-model/multiline-error-piece.model")
        do {
            _ = try SentencePieceTokenizer(model: url)
            Issue.record("accepted")
        } catch {
            #expect(error is TokenizerError && !"\(error)".contains("\n") && "\(error)".contains("already defined"), "\(error)")
        }
    }

    /// An empty vocab.txt (reading it through FileManager leaked 4 KB).
    @Test func emptyVocabulary() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("empty-vocab-\(UUID().uuidString).txt")
        try Data().write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: TokenizerError.malformedVocabulary(path: url.path, reason: "the file is empty")) {
            try WordPieceTokenizer(vocabulary: url)
        }
    }

    /// A directory where vocab.txt should be: missing, not a crash or an empty read.
    @Test func vocabularyThatIsADirectory() {
        let url = FileManager.default.temporaryDirectory
        #expect(throws: TokenizerError.missingFile(path: url.path)) { try WordPieceTokenizer(vocabulary: url) }
    }
}
