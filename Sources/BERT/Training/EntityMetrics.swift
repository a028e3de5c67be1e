import Foundation

/// Entity-level precision, recall and F1 (micro over entity types) and token accuracy of
/// predicted tag sequences against gold ones, as seqeval's default mode computes them
/// (conlleval's chunking: an I- after O or after another type starts an entity; 0 on
/// an empty denominator, as seqeval's zero_division).
public struct EntityMetrics: Sendable, Equatable, Codable {
    public let precision: Double
    public let recall: Double
    public let f1: Double
    public let accuracy: Double

    /// predicted, gold: per sentence, one tag per word.
    public init(predicted: [[String]], gold: [[String]]) {
        precondition(predicted.count == gold.count && zip(predicted, gold).allSatisfy { $0.count == $1.count })
        let p = Set(Self.entities(predicted)), g = Set(Self.entities(gold))
        let tp = Double(p.intersection(g).count)
        precision = p.isEmpty ? 0 : tp / Double(p.count)
        recall = g.isEmpty ? 0 : tp / Double(g.count)
        f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        let tags = gold.joined().count
        accuracy = tags == 0 ? 0 : Double(zip(predicted.joined(), gold.joined()).filter { $0 == $1 }.count) / Double(tags)
    }

    struct Entity: Hashable { let type: String, start: Int, end: Int }

    /// seqeval's get_entities over the sentences joined with an "O" after each.
    static func entities(_ sentences: [[String]]) -> [Entity] {
        let seq = sentences.flatMap { $0 + ["O"] } + ["O"]
        var (prevTag, prevType, begin) = ("O", "", 0)
        var out: [Entity] = []
        for (i, chunk) in seq.enumerated() {
            let scalars = chunk.unicodeScalars
            let tag = scalars.first.map { String($0) } ?? ""
            let rest = String(String.UnicodeScalarView(scalars.dropFirst()))
            let parts = rest.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            let last = parts.last.map(String.init) ?? ""
            let type = last.isEmpty ? "_" : last
            if endOfChunk(prevTag, tag, prevType, type) { out.append(Entity(type: prevType, start: begin, end: i - 1)) }
            if startOfChunk(prevTag, tag, prevType, type) { begin = i }
            (prevTag, prevType) = (tag, type)
        }
        return out
    }

    static func endOfChunk(_ prevTag: String, _ tag: String, _ prevType: String, _ type: String) -> Bool {
        if prevTag == "E" || prevTag == "S" { return true }
        if (prevTag == "B" || prevTag == "I") && (tag == "B" || tag == "S" || tag == "O") { return true }
        return prevTag != "O" && prevTag != "." && prevType != type
    }

    static func startOfChunk(_ prevTag: String, _ tag: String, _ prevType: String, _ type: String) -> Bool {
        if tag == "B" || tag == "S" { return true }
        if (prevTag == "E" || prevTag == "S" || prevTag == "O") && (tag == "E" || tag == "I") { return true }
        return tag != "O" && tag != "." && prevType != type
    }
}
