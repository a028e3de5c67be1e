import Foundation
import Tokenizers

/// Raw text for masked-LM training: one document per line (UTF-8; blank lines skipped, as
/// run_mlm's line_by_line reading skips them). Any extension but the structured ones: a
/// .csv, .tsv or .jsonl file is refused, since its columns would be trained on as text.
public struct TextLines: Sendable {
    public let url: URL
    public private(set) var texts: [String] = []
    /// The line each document is on (1-based), for error messages.
    public private(set) var lines: [Int] = []
    public var count: Int { texts.count }

    public init(contentsOf url: URL) throws {
        self.url = url
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileContents.read(path) else { throw DatasetError.missingFile(path: path) }
        if ["csv", "tsv", "tab", "jsonl", "ndjson", "json"].contains(url.pathExtension.lowercased()) {
            throw DatasetError.badRow(path: path, line: 1, reason: "--task mlm reads raw text, one document per line (a .txt file), not .\(url.pathExtension) rows")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DatasetError.badRow(path: path, line: Self.firstInvalidLine(data), reason: "the line is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        for (k, line) in Self.split(text).enumerated() {
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            texts.append(String(line))
            lines.append(k + 1)
        }
        guard !texts.isEmpty else { throw DatasetError.empty(path: path) }
    }

    /// `text`'s lines, "\n" or "\r\n" ending each ("\r\n" is one Character in Swift, so a
    /// split on "\n" alone would leave a CRLF file in one piece).
    static func split(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    }

    /// The 1-based line of the first byte sequence that is not UTF-8.
    static func firstInvalidLine(_ data: Data) -> Int {
        var line = 1
        for piece in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if String(data: Data(piece), encoding: .utf8) == nil { return line }
            line += 1
        }
        return 1
    }
}
