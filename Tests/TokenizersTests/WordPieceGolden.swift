import Foundation
@testable import Tokenizers

/// The golden file written by tools/golden/wordpiece.py, and helpers to compare against it.
struct Golden: Decodable {
    struct Config: Decodable {
        let doLowerCase: Bool
        let stripAccents: Bool?
        let tokenizeChineseChars: Bool
    }

    struct Record: Decodable {
        let config: String
        let text: String
        let pair: String?
        let maxLength: Int?
        let strategy: String
        let ids: [Int]?
        let tokens: [String]?
        let typeIds: [Int]?
        let offsets: [[Int]]?
        let error: String?
    }

    struct UnicodeTables: Decodable {
        let removed, whitespace, punctuation, chinese, nonspacingMarks: [[UInt32]]
        let decompositions, lowercase: [String: String]
    }

    let vocabulary: String
    let vocabularySize: Int
    let configs: [String: Config]
    let records: [Record]
    let unicode: UnicodeTables
}

struct Row {
    let ids: [Int]
    let tokens: [String]
    let typeIds: [Int]
    let offsets: [Range<Int>]

    func firstDifference(from other: Row) -> Int? {
        let n = max(ids.count, other.ids.count)
        return (0..<n).first { i in
            ids[safe: i] != other.ids[safe: i] || tokens[safe: i] != other.tokens[safe: i]
                || typeIds[safe: i] != other.typeIds[safe: i] || offsets[safe: i] != other.offsets[safe: i]
        }
    }

    func describe(_ i: Int) -> String {
        guard i < ids.count else { return "end after \(ids.count) tokens" }
        return "\(debug(tokens[i])) id \(ids[i]) type \(typeIds[i]) offsets \(offsets[i]) (of \(ids.count) tokens)"
    }
}

struct ScalarRanges {
    private let ranges: [[UInt32]]
    init(_ ranges: [[UInt32]]) { self.ranges = ranges }

    func contains(_ v: UInt32) -> Bool {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid][1] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo][0] <= v
    }
}

extension TokenizerError {
    /// The names tools/golden/wordpiece.py gives Hugging Face's truncation errors.
    var goldenName: String? {
        switch self {
        case .sequenceTooShortToTruncate: "sequence_too_short"
        case .pairRequiredForTruncation: "pair_required"
        default: nil
        }
    }
}

extension Dictionary where Key == String, Value == String {
    /// Hex code point → space-separated hex code points, as scalars.
    func mapKeysToScalars() -> [UInt32: [Unicode.Scalar]] {
        func scalar(_ hex: Substring) -> Unicode.Scalar { Unicode.Scalar(UInt32(hex, radix: 16)!)! }
        return Dictionary<UInt32, [Unicode.Scalar]>(uniqueKeysWithValues: map { key, value in
            (UInt32(key, radix: 16)!, value.split(separator: " ").map(scalar))
        })
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i < count ? self[i] : nil }
}

func debug(_ s: String) -> String {
    let short = s.unicodeScalars.count > 60 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(60))) + "…" : s
    return String(reflecting: short)
}
