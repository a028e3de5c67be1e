import Foundation
import Tokenizers

/// The rows `bert finetune --task embedding` trains on, from CSV, TSV or JSON Lines with
/// `Dataset`'s conventions (header names, any case; RFC 4180 quoting): `anchor`, `positive`
/// and optionally `negative` (MultipleNegativesRankingLoss), or `sentence1`, `sentence2` and
/// `score` (CoSENT, CosineSimilarityLoss; also the validation figure).
public struct EmbeddingDataset: Sendable {
    public let url: URL
    /// Each row's texts: (anchor, positive[, negative]) or (sentence1, sentence2).
    public private(set) var texts: [[String]] = []
    /// Each row's score, when the file has a score column.
    public private(set) var scores: [Double]?
    /// The line each row starts on (1-based), for error messages.
    public private(set) var lines: [Int] = []
    public var count: Int { texts.count }
    /// Texts per row: 2 or 3.
    public var columns: Int { texts.first?.count ?? 2 }

    private static let layouts: [[String]] = [["anchor", "positive", "negative"], ["anchor", "positive"], ["sentence1", "sentence2"]]

    public init(contentsOf url: URL) throws {
        self.url = url
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileContents.read(path) else { throw DatasetError.missingFile(path: path) }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DatasetError.badRow(path: path, line: 1, reason: "the file is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        switch url.pathExtension.lowercased() {
        case "csv", "tsv", "tab":
            var records = CSVRecords(text, separator: url.pathExtension.lowercased() == "csv" ? "," : "\t")
            guard let (header, _) = try records.next(path: path) else { throw DatasetError.empty(path: path) }
            let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let (columns, scoreColumn) = try Self.layout(names, path: path, found: header)
            while let (fields, line) = try records.next(path: path) {
                if fields == [""] { continue }
                guard fields.count == names.count else {
                    throw DatasetError.badRow(path: path, line: line, reason: "\(fields.count) field(s) where the header has \(names.count)")
                }
                try add(columns.map { fields[$0] }, score: scoreColumn.map { fields[$0] }, line: line)
            }
        case "jsonl", "ndjson", "json":
            var layout: ([String], Bool)?
            for (k, raw) in TextLines.split(text).enumerated() {
                if raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
                guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
                    throw DatasetError.badRow(path: path, line: k + 1, reason: "not a JSON object")
                }
                let lower = Dictionary(object.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
                if layout == nil {
                    let names = lower.keys.sorted()
                    let (columns, score) = try Self.layout(names, path: path, found: object.keys.sorted())
                    layout = (columns.map { names[$0] }, score != nil)
                }
                let (keys, scored) = layout!
                let score: String? = scored ? (lower["score"] as? NSNumber).map { "\($0.doubleValue)" } ?? (lower["score"] as? String) ?? "" : nil
                try add(keys.map { lower[$0] as? String ?? "" }, score: score, line: k + 1)
            }
        default: throw DatasetError.unknownFormat(path: path)
        }
        guard !texts.isEmpty else { throw DatasetError.empty(path: path) }
    }

    /// The text columns' indices and the score's, by header name.
    private static func layout(_ names: [String], path: String, found: [String]) throws -> ([Int], Int?) {
        for layout in layouts where layout.allSatisfy(names.contains) {
            let score = layout[0] == "sentence1" ? names.firstIndex(of: "score") : nil
            if layout[0] == "sentence1", score == nil {
                throw DatasetError.missingColumn(path: path, wanted: "score", found: found)
            }
            return (layout.map { names.firstIndex(of: $0)! }, score)
        }
        throw DatasetError.missingColumn(path: path, wanted: "anchor,positive[,negative] or sentence1,sentence2,score", found: found)
    }

    private mutating func add(_ row: [String], score: String?, line: Int) throws {
        let path = url.path
        for (k, t) in row.enumerated() where t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw DatasetError.badRow(path: path, line: line, reason: "text \(k + 1) of the row is empty or not a string")
        }
        if let score {
            guard let v = Double(score.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw DatasetError.badRow(path: path, line: line, reason: "the score '\(score)' is not a number")
            }
            scores = (scores ?? []) + [v]
        }
        texts.append(row)
        lines.append(line)
    }
}

/// An embedding model's figures on scored sentence pairs (`bert evaluate --task sts`).
public struct STSMetrics: Sendable, Equatable, Codable {
    public let count: Int
    /// Spearman's and Pearson's correlations of the cosine against the scores, ×100 (MTEB's and sentence-transformers' tables).
    public let spearman: Double
    public let pearson: Double
}

extension SentenceEmbedder {
    /// Spearman and Pearson (×100) of the cosine of each row's sentence1 and sentence2
    /// embeddings against its score; the rows must have a score column.
    public func evaluateSTS(_ data: EmbeddingDataset, batchSize: Int = 32) throws -> STSMetrics {
        guard let scores = data.scores, data.texts.first?.count == 2 else {
            throw DatasetError.missingColumn(path: data.url.path, wanted: "sentence1,sentence2,score", found: ["anchor", "positive"])
        }
        let encodings = try data.texts.flatMap { row in try row.map { try tokenizer.encode($0, maxLength: config.maxLength) } }
        try encoder.check(encodings)
        let v = try embed(encodings: encodings, batchSize: batchSize)
        let cosines = (0..<data.count).map { Double(Self.cosine(v[2 * $0], v[2 * $0 + 1])) }
        return STSMetrics(count: data.count, spearman: 100 * Correlation.spearman(cosines, scores),
                          pearson: 100 * Correlation.pearson(cosines, scores))
    }
}
