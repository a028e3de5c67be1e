import Foundation
import Tokenizers

/// A labelled text dataset from CSV, TSV (RFC 4180 quoting) or JSON Lines. Columns are
/// found by header name: `text` or `sentence`, optional `text_pair`, and `label`
/// (strings or integers).
///
///     let train = try Dataset(contentsOf: URL(fileURLWithPath: "train.csv"))
///     train.texts[0], train.labels[0]   // ("a gorgeous film", "positive")
public struct Dataset: Sendable {
    public let url: URL
    public private(set) var texts: [String] = []
    public private(set) var pairs: [String]?
    public private(set) var labels: [String] = []
    /// The line each example starts on (1-based), for error messages.
    public private(set) var lines: [Int] = []
    /// The label lists of JSON Lines rows whose label is an array (multi-label), by row.
    private var labelArrays: [Int: [String]] = [:]
    private let emptyLabels: Bool

    public var count: Int { texts.count }

    /// `emptyLabels`: a row may have an empty label (a multi-label row with no labels).
    public init(contentsOf url: URL, emptyLabels: Bool = false) throws {
        self.url = url
        self.emptyLabels = emptyLabels
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileContents.read(path) else {
            throw DatasetError.missingFile(path: path)
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw DatasetError.badRow(path: path, line: 1, reason: "the file is not UTF-8 text")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        switch url.pathExtension.lowercased() {
        case "csv": try readDelimited(text, separator: ",")
        case "tsv", "tab": try readDelimited(text, separator: "\t")
        case "jsonl", "ndjson", "json": try readJSONLines(text)
        default: throw DatasetError.unknownFormat(path: path)
        }
        guard !texts.isEmpty else { throw DatasetError.empty(path: path) }
    }

    /// The rows at `indices`, in that order (a validation split).
    public func subset(_ indices: [Int]) -> Dataset {
        var d = self
        d.texts = indices.map { texts[$0] }
        d.pairs = pairs.map { p in indices.map { p[$0] } }
        d.labels = indices.map { labels[$0] }
        d.lines = indices.map { lines[$0] }
        d.labelArrays = [:]
        for (k, i) in indices.enumerated() { if let a = labelArrays[i] { d.labelArrays[k] = a } }
        return d
    }

    /// Each row's labels for a multi-label task: a JSON array as it is, otherwise the label
    /// split on `separator` (blank parts dropped; an empty label is no labels, see `emptyLabels`).
    public func labelLists(separator: String) -> [[String]] {
        labels.indices.map { k in
            labelArrays[k] ?? labels[k].components(separatedBy: separator)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// Each row's label for single-label classification; a JSON Lines label list is an error naming its line.
    public func singleLabels() throws -> [String] {
        if let k = labelArrays.keys.min() {
            throw DatasetError.badRow(path: url.path, line: lines[k], reason: "the label is a list; several labels a row need --task multi-label")
        }
        return labels
    }

    /// Each row's label as a number, for regression; a row whose label is not one is an
    /// error naming its line.
    public func values() throws -> [Double] {
        try labels.indices.map { k in
            guard labelArrays[k] == nil, let v = Double(labels[k]), Float(v).isFinite else {
                throw DatasetError.badRow(path: url.path, line: lines[k], reason: "the label '\(labels[k])' is not a number within Float's range, which regression needs")
            }
            return v
        }
    }

    /// The distinct labels in class-id order: numerically when all are integers, else
    /// by code point.
    public var labelSet: [String] { Self.ordered(Set(labels)) }

    /// Labels in class-id order: numerically when all are integers, else by code point.
    static func ordered(_ distinct: Set<String>) -> [String] {
        if distinct.allSatisfy({ Int($0) != nil }) { return distinct.sorted { Int($0)! < Int($1)! } }
        return distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }

    private static let textColumns = ["text", "sentence"]

    private mutating func add(text: String?, pair: String?, label: String?, line: Int) throws {
        let path = url.path
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw DatasetError.badRow(path: path, line: line, reason: "the text is empty")
        }
        guard let label, emptyLabels || !label.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DatasetError.badRow(path: path, line: line, reason: "the label is empty")
        }
        texts.append(text)
        if pairs != nil { pairs!.append(pair ?? "") }
        labels.append(label.trimmingCharacters(in: .whitespaces))
        lines.append(line)
    }

    private mutating func readDelimited(_ text: String, separator: Character) throws {
        let path = url.path
        var records = CSVRecords(text, separator: separator)
        guard let (header, _) = try records.next(path: path) else { throw DatasetError.empty(path: path) }
        let names = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let textColumn = names.firstIndex(where: { Self.textColumns.contains($0) }) else {
            throw DatasetError.missingColumn(path: path, wanted: "text (or sentence)", found: header)
        }
        guard let labelColumn = names.firstIndex(of: "label") else {
            throw DatasetError.missingColumn(path: path, wanted: "label", found: header)
        }
        let pairColumn = names.firstIndex(of: "text_pair")
        if pairColumn != nil { pairs = [] }
        while let (fields, line) = try records.next(path: path) {
            if fields == [""] { continue }  // a blank line
            guard fields.count == names.count else {
                throw DatasetError.badRow(path: path, line: line,
                                          reason: "\(fields.count) field(s) where the header has \(names.count); quote fields that contain '\(separator == "\t" ? "\\t" : String(separator))'")
            }
            try add(text: fields[textColumn], pair: pairColumn.map { fields[$0] }, label: fields[labelColumn], line: line)
        }
    }

    private mutating func readJSONLines(_ text: String) throws {
        let path = url.path
        var sawPair = false
        for (k, raw) in TextLines.split(text).enumerated() {
            let line = k + 1
            if raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
                throw DatasetError.badRow(path: path, line: line, reason: "not a JSON object")
            }
            let keys = Set(object.keys.map { $0.lowercased() })
            func value(_ key: String) -> Any? { object.first { $0.key.lowercased() == key }?.value }
            guard let textKey = Self.textColumns.first(where: keys.contains) else {
                throw DatasetError.missingColumn(path: path, wanted: "text (or sentence)", found: object.keys.sorted())
            }
            guard keys.contains("label") else {
                throw DatasetError.missingColumn(path: path, wanted: "label", found: object.keys.sorted())
            }
            if texts.isEmpty, keys.contains("text_pair") { pairs = []; sawPair = true }
            func string(_ v: Any?) -> String? {
                switch v {
                case let s as String: return s
                case let n as NSNumber:  // an integer as one (not intValue, which reads 1e300 as Int.min);
                    // any other number only within Float's range, which training computes in
                    let d = n.doubleValue
                    return Int(exactly: d).map(String.init) ?? (Float(d).isFinite ? String(d) : nil)
                default: return nil
                }
            }
            var array: [String]? = nil
            if let list = value("label") as? [Any] {
                let items = list.map(string)
                guard items.allSatisfy({ $0 != nil && !$0!.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                    throw DatasetError.badRow(path: path, line: line, reason: "a label list must hold non-empty strings or integers")
                }
                array = items.map { $0!.trimmingCharacters(in: .whitespaces) }
            }
            guard let label = array.map({ "[" + $0.joined(separator: ", ") + "]" }) ?? string(value("label")) else {
                throw DatasetError.badRow(path: path, line: line, reason: "the label must be a string, a number within Float's range or a list of labels")
            }
            guard let text = value(textKey) as? String else {
                throw DatasetError.badRow(path: path, line: line, reason: "'\(textKey)' must be a string")
            }
            if let array { labelArrays[texts.count] = array }
            try add(text: text, pair: sawPair ? value("text_pair") as? String : nil, label: label, line: line)
        }
    }
}

/// RFC 4180 records: fields split on the separator, double-quoted fields may hold the
/// separator, newlines and doubled quotes. Each record comes with the line it starts on.
struct CSVRecords {
    private let scalars: [Unicode.Scalar]
    private let separator: Unicode.Scalar
    private var at = 0
    private var line = 1

    init(_ text: String, separator: Character) {
        scalars = Array(text.unicodeScalars)
        self.separator = separator.unicodeScalars.first!
    }

    mutating func next(path: String) throws -> ([String], Int)? {
        guard at < scalars.count else { return nil }
        let start = line
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var quoted = false, wasQuoted = false
        while at < scalars.count {
            let c = scalars[at]
            at += 1
            if quoted {
                if c == "\"" {
                    if at < scalars.count, scalars[at] == "\"" { field.append("\""); at += 1 } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
            case "\"":
                throw DatasetError.badRow(path: path, line: line, reason: "a stray '\"' inside an unquoted field (write \"\" inside a quoted field)")
            case separator:
                fields.append(String(field))
                field = String.UnicodeScalarView()
                wasQuoted = false
            case "\r" where at < scalars.count && scalars[at] == "\n":
                continue
            case "\n":
                line += 1
                fields.append(String(field))
                return (fields, start)
            default:
                if wasQuoted {
                    throw DatasetError.badRow(path: path, line: line, reason: "text after a closing quote")
                }
                field.append(c)
            }
        }
        if quoted { throw DatasetError.badRow(path: path, line: start, reason: "a quoted field is never closed") }
        fields.append(String(field))
        return (fields, start)
    }
}

/// What can be wrong with a dataset or the fine-tuning run's files; each description is
/// one line naming the file and what to do.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case unknownFormat(path: String)
    case empty(path: String)
    case missingColumn(path: String, wanted: String, found: [String])
    case badRow(path: String, line: Int, reason: String)
    case oneLabel(path: String, label: String)
    case unknownLabel(path: String, line: Int, label: String, known: [String])
    case tooManyLabels(path: String, count: Int, limit: Int)

    /// One line even when the headers or labels it quotes hold line breaks (escaped).
    public var description: String { message.oneLine }

    private var message: String {
        switch self {
        case .missingFile(let path):
            return "\(path): no such file; pass the path of a CSV, TSV or JSON Lines dataset"
        case .unknownFormat(let path):
            return "\(path): unknown dataset format; name the file .csv, .tsv or .jsonl"
        case .empty(let path):
            return "\(path): the dataset has no rows; it needs a header (text,label) and at least one row per label"
        case .missingColumn(let path, let wanted, let found):
            return "\(path): no '\(wanted)' column (found: \(found.joined(separator: ", "))); name the columns text (or sentence), label and optionally text_pair"
        case .badRow(let path, let line, let reason):
            return "\(path):\(line): \(reason); fix or remove that row"
        case .oneLabel(let path, let label):
            return "\(path): every row has the label '\(label)'; a classifier needs at least two labels"
        case .unknownLabel(let path, let line, let label, let known):
            let shown = known.count <= 20 ? known.joined(separator: ", ") : known.prefix(20).joined(separator: ", ") + ", … \(known.count - 20) more"
            return "\(path):\(line): label '\(label)' is not one the model knows (\(shown)); use the training labels"
        case .tooManyLabels(let path, let count, let limit):
            return "\(path): \(count) distinct labels, more than the \(limit) a classifier is trained with here; is the label column an id or a text? A label should name a class that several rows share"
        }
    }
}

/// Accuracy, macro-F1 and per-class counts of predictions against gold class ids.
public struct Metrics: Sendable, Equatable, Codable {
    public struct ClassCounts: Sendable, Equatable, Codable {
        public var support = 0, predicted = 0, correct = 0
    }
    public let accuracy: Double
    public let macroF1: Double
    public let perClass: [ClassCounts]

    public init(predictions: [Int], gold: [Int], classes: Int) {
        precondition(predictions.count == gold.count)
        var counts = [ClassCounts](repeating: ClassCounts(), count: classes)
        for (p, g) in zip(predictions, gold) {
            counts[g].support += 1
            counts[p].predicted += 1
            if p == g { counts[g].correct += 1 }
        }
        perClass = counts
        accuracy = gold.isEmpty ? 0 : Double(counts.map(\.correct).reduce(0, +)) / Double(gold.count)
        // F1 = 2·TP / (2·TP + FP + FN), 0 for a class never predicted correctly (sklearn's zero_division=0).
        let f1 = counts.map { c -> Double in
            c.correct == 0 ? 0 : 2 * Double(c.correct) / Double(c.support + c.predicted)
        }
        macroF1 = classes == 0 ? 0 : f1.reduce(0, +) / Double(classes)
    }
}
