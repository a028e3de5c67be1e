import Foundation
import Tokenizers

/// One entity (or, with `.none`, one token) found by a token classifier, as transformers'
/// token-classification pipeline reports it.
public struct TaggedEntity: Sendable, Equatable {
    /// The label (`entity`: "B-PER"), or with aggregation the group's label without its
    /// B-/I- prefix (`entity_group`: "PER").
    public let label: String
    public let score: Float
    /// The token's position in the encoding (special tokens counted); aggregation: nil.
    public let index: Int?
    /// The token as the vocabulary spells it ("##son"), or the group's words joined.
    public let word: String
    /// Offsets in Unicode scalars (Python string indices) into the original text.
    public let start: Int
    public let end: Int
}

/// Named-entity tagging (and any per-token labelling) with a *ForTokenClassification model.
///
///     let tagger = try TokenTagger(model: "models/my-ner")
///     for e in try tagger.tag(["My name is Wolfgang and I live in Berlin"], aggregation: .simple)[0] {
///         print(e.label, e.word, e.start, e.end)   // PER wolfgang 11 19 …
///     }
///
/// Safe to call from concurrent tasks; a call's result is the one it gets alone.
public final class TokenTagger: @unchecked Sendable {
    /// The pipeline's aggregation_strategy.
    public enum Aggregation: String, Sendable, CaseIterable {
        /// Every token with its best label.
        case none
        /// Adjacent tokens of one label (B- starts a new group) grouped.
        case simple
        /// Words first (a word's label: its first token's, the best mean, or its most certain token's), then grouped.
        case first, average, max
    }

    public let config: Config
    public let tokenizer: any TokenDecoding
    public let context: ExecutionContext
    let encoder: Encoder
    let head: TokenClassifierHead

    public convenience init(model: String, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), context: context)
    }

    public init(directory: ModelDirectory, context: ExecutionContext? = nil) throws {
        self.context = context ?? ExecutionContext()
        let config = directory.config
        self.config = config
        guard config.runtime.tokenClassifier != nil else {
            throw ModelError.missingHead(path: directory.url.appendingPathComponent("model.safetensors").path,
                                         needed: "token-classification head (token_classifier.*)", has: directory.headDescription,
                                         hint: "convert a \(config.architecture.classPrefix(config))ForTokenClassification checkpoint with tools/convert")
        }
        guard let tokenizer = try directory.loadTokenizer() as? any TokenDecoding else {
            throw ModelError.tokenizer(path: directory.url.path, reason: "this tokenizer cannot map tokens back to text")
        }
        self.tokenizer = tokenizer
        let (encoder, _, _, head, _) = try directory.loadAll()
        self.encoder = encoder
        self.head = head!
    }

    public var labels: [String] { head.labels }

    /// Per text, its entities (tokens labelled "O" left out, as the pipeline does), in text order.
    /// Texts longer than the model's limit are truncated.
    public func tag(_ texts: [String], aggregation: Aggregation = .none, batchSize: Int = 32) throws -> [[TaggedEntity]] {
        let encodings = try texts.map { try tokenizer.encode($0, pair: nil, maxLength: config.maxLength, truncation: .longestFirst) }
        let (C, L) = (config.hiddenSize, labels.count)
        var out = [[TaggedEntity]](repeating: [], count: texts.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            for (b, i) in indices.enumerated() {
                let T = encodings[i].count
                var logits = [Float](repeating: 0, count: T * L)
                logits.withUnsafeMutableBufferPointer { y in
                    head(hidden.pointer + b * batch.length * C, rows: T, into: y.baseAddress!)
                }
                let scores = (0..<T).map { t in Self.softmax(Array(logits[t * L..<(t + 1) * L])) }
                out[i] = entities(Array(texts[i].unicodeScalars), encodings[i], scores, aggregation)
            }
        }
        return out
    }

    static func softmax(_ x: [Float]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp(Double($0 - m)) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    struct Token { let word: String; let scores: [Double]; let start: Int; let end: Int; let index: Int; let subword: Bool }
    struct Labelled { let label: String; let score: Double; let index: Int?; let word: String; let start: Int; let end: Int }

    /// The pipeline's gather_pre_entities, aggregate and group_entities.
    func entities(_ text: [Unicode.Scalar], _ e: Encoding, _ scores: [[Double]], _ aggregation: Aggregation) -> [TaggedEntity] {
        var tokens: [Token] = []
        for t in 0..<e.count {
            let r = e.offsets[t]
            if r.isEmpty && tokenizer.isSpecial(e.ids[t]) { continue }
            let reference = String(String.UnicodeScalarView(text[max(0, r.lowerBound)..<min(text.count, r.upperBound)]))
            var word = e.tokens[t]
            var subword = tokenizer.marksContinuations
                ? word.unicodeScalars.count != reference.unicodeScalars.count
                : r.lowerBound > 0 && !text[(r.lowerBound - 1)..<min(text.count, r.lowerBound + 1)].contains(" ")
            if e.ids[t] == tokenizer.unknownTokenId {
                word = reference
                subword = false
            }
            tokens.append(Token(word: word, scores: scores[t], start: r.lowerBound, end: r.upperBound, index: t, subword: subword))
        }
        func best(_ s: [Double]) -> Int { s.indices.max { s[$0] < s[$1] || (s[$0] == s[$1] && $0 > $1) } ?? 0 }
        var labelled: [Labelled]
        switch aggregation {
        case .none, .simple:
            labelled = tokens.map { let k = best($0.scores); return Labelled(label: labels[k], score: $0.scores[k], index: $0.index, word: $0.word, start: $0.start, end: $0.end) }
        case .first, .average, .max:
            var words: [[Token]] = []
            for token in tokens {
                if token.subword, !words.isEmpty { words[words.count - 1].append(token) } else { words.append([token]) }
            }
            labelled = words.map { group in
                let scores: [Double]
                switch aggregation {
                case .first: scores = group[0].scores
                case .max: scores = group.max { ($0.scores.max() ?? 0) < ($1.scores.max() ?? 0) }!.scores
                default: scores = (0..<labels.count).map { k in group.reduce(0.0) { $0 + $1.scores[k] } / Double(group.count) }
                }
                let k = best(scores)
                return Labelled(label: labels[k], score: scores[k], index: nil, word: tokenizer.join(tokens: group.map(\.word)),
                                start: group[0].start, end: group[group.count - 1].end)
            }
        }
        if aggregation != .none { labelled = group(labelled) }
        return labelled.filter { $0.label != "O" }.map {
            TaggedEntity(label: $0.label, score: Float($0.score), index: $0.index, word: $0.word, start: $0.start, end: $0.end)
        }
    }

    /// Adjacent entities of one tag join unless the next begins with B-; the group's score is the mean.
    func group(_ entities: [Labelled]) -> [Labelled] {
        func tag(_ label: String) -> (begins: Bool, tag: String) {
            if label.hasPrefix("B-") { return (true, String(label.dropFirst(2))) }
            if label.hasPrefix("I-") { return (false, String(label.dropFirst(2))) }
            return (false, label)
        }
        var groups: [[Labelled]] = []
        for entity in entities {
            if let last = groups.last?.last, tag(entity.label).tag == tag(last.label).tag, !tag(entity.label).begins {
                groups[groups.count - 1].append(entity)
            } else {
                groups.append([entity])
            }
        }
        return groups.map { g in
            let label = g[0].label.split(separator: "-", maxSplits: 1).last.map(String.init) ?? g[0].label
            return Labelled(label: label, score: g.reduce(0.0) { $0 + $1.score } / Double(g.count), index: nil,
                            word: tokenizer.join(tokens: g.map(\.word)), start: g[0].start, end: g[g.count - 1].end)
        }
    }
}

extension TokenTagger {
    /// Entity-level precision, recall, F1 (seqeval's default mode) and token accuracy on
    /// tagged words, each word tokenized on its own and read at its first sub-token, as
    /// `bert finetune --task token-classification` trains; words cut by the model's
    /// length are left out on both sides. A tag the model does not know is an error naming its line.
    public func evaluate(_ data: TaggedWords, batchSize: Int = 32) throws -> (rows: Int, metrics: EntityMetrics) {
        let id = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        let examples = try data.tags.indices.map { k -> WordEncoding in
            if let tag = data.tags[k].first(where: { id[$0] == nil }) {
                throw DatasetError.unknownLabel(path: data.url.path, line: data.lines[k], label: tag, known: labels)
            }
            return try WordEncoding(words: data.words[k], tags: data.tags[k].map { id[$0]! }, tokenizer: tokenizer, maxLength: config.maxLength)
        }
        let (C, L) = (config.hiddenSize, labels.count)
        var predicted = [[String]](repeating: [], count: examples.count), gold = predicted
        try encoder.run(examples.map(\.encoding), batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            for (b, i) in indices.enumerated() {
                let T = examples[i].encoding.count
                var logits = [Float](repeating: 0, count: T * L)
                logits.withUnsafeMutableBufferPointer { y in head(hidden.pointer + b * batch.length * C, rows: T, into: y.baseAddress!) }
                for (t, label) in examples[i].labels.enumerated() where label != WordEncoding.ignored {
                    let row = logits[t * L..<(t + 1) * L]
                    predicted[i].append(labels[row.indices.max { row[$0] < row[$1] }! - t * L])
                    gold[i].append(labels[label])
                }
            }
        }
        return (examples.count, EntityMetrics(predicted: predicted, gold: gold))
    }
}
