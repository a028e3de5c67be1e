/// RobertaProcessing: `<s> A </s>` and `<s> A </s></s> B </s>`, every type id 0; offsets
/// trimmed of spaces as ByteLevel does when `trimOffsets`.
struct RobertaProcessor: PostProcessor {
    var cls: (token: String, id: Int)
    var sep: (token: String, id: Int)
    var trimOffsets: Bool
    var addPrefixSpace: Bool

    func addedTokens(pair: Bool) -> Int { pair ? 4 : 2 }
    var specialIds: [Int] { [cls.id, sep.id] }

    func process(_ parts: [EncodingPart]) -> [EncodingPart] {
        var out = EncodingPart()
        for (k, var part) in parts.enumerated() {
            if trimOffsets { ByteLevelOffsets.trim(&part, addPrefixSpace: addPrefixSpace) }
            part.typeIds = [Int](repeating: 0, count: part.count)
            if k == 0 {
                out.appendSpecial(id: cls.id, token: cls.token, typeId: 0)
            } else {
                out.appendSpecial(id: sep.id, token: sep.token, typeId: 0)
            }
            out.append(contentsOf: part)
            out.appendSpecial(id: sep.id, token: sep.token, typeId: 0)
        }
        return [out]
    }
}

/// BertProcessing: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]`, type ids 0 then 1.
struct BertProcessor: PostProcessor {
    var cls: (token: String, id: Int)
    var sep: (token: String, id: Int)

    func addedTokens(pair: Bool) -> Int { pair ? 3 : 2 }
    var specialIds: [Int] { [cls.id, sep.id] }

    func process(_ parts: [EncodingPart]) -> [EncodingPart] {
        var out = EncodingPart()
        for (k, part) in parts.enumerated() {
            if k == 0 { out.appendSpecial(id: cls.id, token: cls.token, typeId: 0) }
            out.append(contentsOf: part)
            out.appendSpecial(id: sep.id, token: sep.token, typeId: k == 0 ? 0 : 1)
        }
        return [out]
    }
}

/// TemplateProcessing: the `single` or `pair` template, each item a special token (one or more
/// ids) or sequence A or B, with the type id the template gives it.
struct TemplateProcessor: PostProcessor {
    enum Item: Sendable {
        case special(ids: [Int], tokens: [String], typeId: Int)
        case sequence(index: Int, typeId: Int)
    }
    var single: [Item]
    var pair: [Item]

    func addedTokens(pair isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, item in
            if case .special(let ids, _, _) = item { return n + ids.count }
            return n
        }
    }

    var specialIds: [Int] {
        (single + pair).flatMap { item -> [Int] in
            if case .special(let ids, _, _) = item { return ids }
            return []
        }
    }

    func process(_ parts: [EncodingPart]) -> [EncodingPart] {
        var out = EncodingPart()
        for item in parts.count == 2 ? pair : single {
            switch item {
            case .special(let ids, let tokens, let typeId):
                for (id, token) in zip(ids, tokens) { out.appendSpecial(id: id, token: token, typeId: typeId) }
            case .sequence(let index, let typeId):
                guard index < parts.count else { continue }
                var part = parts[index]
                part.typeIds = [Int](repeating: typeId, count: part.count)
                out.append(contentsOf: part)
            }
        }
        return [out]
    }
}

/// Sequence: each processor in turn.
struct SequenceProcessor: PostProcessor {
    var processors: [any PostProcessor]

    func addedTokens(pair: Bool) -> Int { processors.reduce(0) { $0 + $1.addedTokens(pair: pair) } }
    var specialIds: [Int] { processors.flatMap(\.specialIds) }

    func process(_ parts: [EncodingPart]) -> [EncodingPart] {
        processors.reduce(parts) { $1.process($0) }
    }
}
