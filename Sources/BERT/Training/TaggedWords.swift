import Foundation
import Tokenizers

/// A token-classification dataset: JSON Lines rows `{"tokens": ["John", "lives"], "tags": ["B-PER", "O"]}`
/// (the CoNLL layout of Hugging Face datasets, tags as strings). A row whose tags do not pair
/// with its tokens is an error naming the file and line.
public struct TaggedWords: Sendable {
    public let url: URL
    public private(set) var words: [[String]] = []
    public private(set) var tags: [[String]] = []
    /// The line each row is on (1-based), for error messages.
    public private(set) var lines: [Int] = []
    public var count: Int { words.count }

    public init(contentsOf url: URL) throws {
        self.url = url
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileContents.read(path) else { throw DatasetError.missingFile(path: path) }
        guard ["jsonl", "ndjson", "json"].contains(url.pathExtension.lowercased()) else {
            throw DatasetError.badRow(path: path, line: 1, reason: "token classification reads JSON Lines ({\"tokens\": [...], \"tags\": [...]}); name the file .jsonl")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DatasetError.badRow(path: path, line: 1, reason: "the file is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        for (k, raw) in TextLines.split(text).enumerated() {
            let line = k + 1
            if raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            func bad(_ reason: String) -> DatasetError { .badRow(path: path, line: line, reason: reason) }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else { throw bad("not a JSON object") }
            guard let tokens = object["tokens"] as? [Any] else { throw bad("no \"tokens\" list of words") }
            guard let tags = object["tags"] as? [Any] ?? object["ner_tags"] as? [Any] else { throw bad("no \"tags\" list (one string tag per word)") }
            guard !tokens.isEmpty else { throw bad("\"tokens\" is empty") }
            guard tokens.count == tags.count else { throw bad("\(tokens.count) tokens but \(tags.count) tags; give one tag per word") }
            guard let w = tokens as? [String], w.allSatisfy({ !$0.isEmpty }) else { throw bad("every token must be a non-empty string") }
            guard let t = tags as? [String], t.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw bad("every tag must be a non-empty string (\"B-PER\", \"O\"), not a number")
            }
            words.append(w)
            self.tags.append(t.map { $0.trimmingCharacters(in: .whitespaces) })
            lines.append(line)
        }
        guard !words.isEmpty else { throw DatasetError.empty(path: path) }
    }
}
