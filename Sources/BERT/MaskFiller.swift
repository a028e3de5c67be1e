import Foundation
import Tokenizers

/// One proposal for a masked token, as transformers' fill-mask pipeline gives it.
public struct MaskPrediction: Sendable, Equatable {
    /// The probability of the token at this mask.
    public let score: Float
    /// The token's id.
    public let token: Int
    /// The token decoded alone (`tokenizer.decode([token])`).
    public let tokenString: String
    /// The input with this token in the mask, decoded (special tokens left out when the text
    /// has one mask; kept, the other masks included, when it has several).
    public let sequence: String
}

/// Fill-mask with a model that kept its masked-LM head (tools/convert of a *ForMaskedLM).
///
///     let filler = try MaskFiller(model: "antiberty")
///     let best = try filler.fill(["E V Q L [MASK] E S G G G L V Q P G G S L R L S C A A S"])[0][0][0]
///     print(best.tokenString, best.score)   // L 0.833
///
/// Safe to call from concurrent tasks; a call's result is the one it gets alone.
public final class MaskFiller: @unchecked Sendable {
    public let config: Config
    public let tokenizer: any TokenDecoding
    /// The threads it runs on.
    public let context: ExecutionContext
    let encoder: Encoder
    let head: MaskedLMHead
    let maskId: Int

    public convenience init(model: String, context: ExecutionContext? = nil) throws {
        try self.init(directory: ModelDirectory(resolving: model), context: context)
    }

    public init(directory: ModelDirectory, context: ExecutionContext? = nil) throws {
        self.context = context ?? ExecutionContext()
        let config = directory.config
        self.config = config
        let path = directory.url.appendingPathComponent("model.safetensors").path
        guard config.runtime.maskedLM != nil else {
            throw ModelError.missingHead(path: path, needed: "masked-LM head (mlm.*)", has: directory.headDescription,
                                         hint: config.architecture.maskedLMHead.map {
                                             "convert a \(config.architecture.classPrefix(config))ForMaskedLM checkpoint (its \($0)) with tools/convert"
                                         } ?? "this architecture has no masked-LM head")
        }
        guard let tokenizer = try directory.loadTokenizer() as? any TokenDecoding, let mask = tokenizer.maskId else {
            throw ModelError.tokenizer(path: directory.url.path, reason: "the tokenizer has no mask token; fill-mask needs one")
        }
        self.tokenizer = tokenizer
        maskId = mask
        let (encoder, _, head, _, _) = try directory.loadAll()
        self.encoder = encoder
        self.head = head!
    }

    /// The mask token as the text must spell it ("[MASK]", "<mask>").
    public var maskToken: String { tokenizer.token(for: maskId) }

    /// For each text, for each of its masks in order, the `topK` likeliest tokens, best first.
    /// A text without a mask, or longer than the model's limit, is an error naming it.
    public func fill(_ texts: [String], topK: Int = 5, batchSize: Int = 32) throws -> [[[MaskPrediction]]] {
        guard topK >= 1 else { throw ModelError.invalidOption(name: "--top-k", reason: "must be at least 1, not \(topK)") }
        let encodings = try texts.map { try tokenizer.encode($0, pair: nil, maxLength: Int.max, truncation: .longestFirst) }
        for (i, e) in encodings.enumerated() where !e.ids.contains(maskId) {
            throw ModelError.invalidInput(index: i, reason: "no mask token \(maskToken) in the text; write \(maskToken) where a token should be predicted")
        }
        let (C, V) = (config.hiddenSize, head.vocabularySize)
        var out = [[[MaskPrediction]]](repeating: [], count: texts.count)
        try encoder.run(encodings, batchSize: batchSize, padId: tokenizer.padId, context: context) { indices, batch, hidden in
            for (b, i) in indices.enumerated() {
                let ids = encodings[i].ids
                let masks = ids.indices.filter { ids[$0] == maskId }
                var rows = [Float](repeating: 0, count: masks.count * C)
                for (k, t) in masks.enumerated() {
                    for c in 0..<C { rows[k * C + c] = hidden.pointer[(b * batch.length + t) * C + c] }
                }
                var logits = [Float](repeating: 0, count: masks.count * V)
                rows.withUnsafeBufferPointer { x in
                    logits.withUnsafeMutableBufferPointer { y in head(x.baseAddress!, rows: masks.count, into: y.baseAddress!) }
                }
                out[i] = masks.enumerated().map { k, t in
                    predictions(Array(logits[k * V..<(k + 1) * V]), at: t, of: ids, masks: masks.count, topK: topK)
                }
            }
        }
        return out
    }

    /// The pipeline's postprocess for one mask: softmax, top k, each token put in the mask
    /// and the whole decoded without padding tokens.
    func predictions(_ logits: [Float], at position: Int, of ids: [Int], masks: Int, topK: Int) -> [MaskPrediction] {
        let m = logits.max() ?? 0
        let e = logits.map { Foundation.exp(Double($0 - m)) }
        let total = e.reduce(0, +)
        let order = e.indices.sorted { e[$0] != e[$1] ? e[$0] > e[$1] : $0 < $1 }.prefix(topK)
        return order.map { token in
            var filled = ids
            filled[position] = token
            return MaskPrediction(score: Float(e[token] / total), token: token,
                                  tokenString: tokenizer.decode([token], skipSpecialTokens: false),
                                  sequence: tokenizer.decode(filled.filter { $0 != tokenizer.padId }, skipSpecialTokens: masks == 1))
        }
    }
}
