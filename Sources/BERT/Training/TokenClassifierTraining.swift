import Foundation
import Kernels
import Tokenizers

/// Words tokenized as transformers does with `is_split_into_words=True`: each word on its
/// own, the sub-tokens joined between the tokenizer's special tokens, cut to `maxLength`
/// (specials included). `labels[t]`: the word's tag id on its first sub-token, `ignored`
/// on its other sub-tokens and on the specials (BertForTokenClassification's -100).
struct WordEncoding {
    static let ignored = -100
    let encoding: Encoding
    let labels: [Int]
    /// The word each token comes from (nil: a special token), as `word_ids()`.
    let words: [Int?]

    init(words: [String], tags: [Int], tokenizer: any TokenDecoding, maxLength: Int) throws {
        precondition(words.count == tags.count && !words.isEmpty)
        func special(_ e: Encoding, _ t: Int) -> Bool { e.offsets[t].isEmpty && tokenizer.isSpecial(e.ids[t]) }
        var ids: [Int] = [], tokens: [String] = [], labels: [Int] = [], wordOf: [Int?] = []
        var lead: (ids: [Int], tokens: [String]) = ([], []), tail: (ids: [Int], tokens: [String]) = ([], [])
        for (w, word) in words.enumerated() {
            let e = try tokenizer.encode(word, pair: nil, maxLength: nil, truncation: .longestFirst)
            let inner = (0..<e.count).filter { !special(e, $0) }
            if w == 0 {
                let first = inner.first ?? e.count
                let last = inner.last.map { $0 + 1 } ?? e.count
                lead = (Array(e.ids[..<first]), Array(e.tokens[..<first]))
                tail = (Array(e.ids[last...]), Array(e.tokens[last...]))
            }
            for (k, t) in inner.enumerated() {
                ids.append(e.ids[t]); tokens.append(e.tokens[t])
                labels.append(k == 0 ? tags[w] : Self.ignored)
                wordOf.append(w)
            }
        }
        let room = max(0, maxLength - lead.ids.count - tail.ids.count)
        if ids.count > room { (ids, tokens, labels, wordOf) = (Array(ids[..<room]), Array(tokens[..<room]), Array(labels[..<room]), Array(wordOf[..<room])) }
        let allIds = lead.ids + ids + tail.ids
        let n = allIds.count
        encoding = Encoding(ids: allIds, tokens: lead.tokens + tokens + tail.tokens, typeIds: [Int](repeating: 0, count: n),
                            attentionMask: [Int](repeating: 1, count: n), offsets: [Range<Int>](repeating: 0..<0, count: n))
        self.labels = [Int](repeating: Self.ignored, count: lead.ids.count) + labels + [Int](repeating: Self.ignored, count: tail.ids.count)
        self.words = [Int?](repeating: nil, count: lead.ids.count) + wordOf + [Int?](repeating: nil, count: tail.ids.count)
    }
}

/// Cross-entropy over the labelled tokens only, their mean, as BertForTokenClassification's
/// CrossEntropyLoss(ignore_index=-100): logits (N, L), labels (N) → the mean over labelled
/// tokens, scaled by `weight` in the gradient (written as zero on ignored tokens).
func tokenCrossEntropy(_ logits: UnsafePointer<Float>, labels: [Int], cols L: Int, weight: Float,
                       grad: UnsafeMutablePointer<Float>?) -> (loss: Float, labelled: Int) {
    let kept = labels.indices.filter { labels[$0] != WordEncoding.ignored }
    if let grad { grad.update(repeating: 0, count: labels.count * L) }
    guard !kept.isEmpty else { return (0, 0) }
    let x = Buffer(kept.count * L), dx = Buffer(kept.count * L)  // (labelled, L)
    for (k, t) in kept.enumerated() { (x.pointer + k * L).update(from: logits + t * L, count: L) }
    let loss = TrainingKernels.crossEntropy(logits: x.pointer, labels: kept.map { labels[$0] }, rows: kept.count, cols: L,
                                            grad: grad == nil ? nil : dx.pointer)
    if let grad {
        if weight != 1 { TrainingKernels.scale(dx.pointer, by: weight, count: kept.count * L) }
        for (k, t) in kept.enumerated() { (grad + t * L).update(from: dx.pointer + k * L, count: L) }
    }
    return (loss, kept.count)
}

/// What token-classification epochs and validation run: a step (or a forward) on examples,
/// giving the mean loss over their labelled tokens and the logits (ΣL, L) in their order.
protocol TokenClassifierModel: AnyObject {
    var parameters: ParameterSet { get }
    var examples: [WordEncoding] { get }
    /// The tag of each output.
    var labelNames: [String] { get }
    func run(_ examples: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float])
}

/// `*ForTokenClassification` with gradients: the encoder of any architecture (no pooler),
/// dropout and a Linear over every token, cross-entropy on the labelled tokens. Two workers
/// split a batch in halves as `SequenceClassifierTraining` does; each half's gradient is
/// scaled by its share of the batch's labelled tokens, so the sum is the whole batch's mean.
final class TokenClassifierTraining: TokenClassifierModel {
    let config: Config
    let parameters: ParameterSet
    let encoder: Encoder
    let head: TokenClassifierHead
    let examples: [WordEncoding]
    let padId: Int
    private let replica: TokenClassifierTraining?
    var labelCount: Int { head.labels.count }
    var labelNames: [String] { head.labels }

    init(config c: Config, checkpoint: SafetensorsFile, labels: [String], seed: UInt64,
         examples: [WordEncoding], padId: Int, dropout p: Float, workers: Int = 1, precision: Precision = .fp32,
         sharingValuesOf owner: ParameterSet? = nil) throws {
        config = c
        let parameters = ParameterSet(owner.map { .replica(of: $0) } ?? .training)
        self.parameters = parameters
        let root = Weights(checkpoint, parameters: parameters, precision: precision).scope("")
        encoder = try Encoder(root, config: c, dropout: p, pooler: false)
        head = TokenClassifierHead(new: labels, config: c, seed: seed, parameters: root, dropout: p)
        if owner == nil { try encoder.check(examples.map(\.encoding)) }
        self.examples = examples
        self.padId = padId
        replica = workers > 1 && owner == nil
            ? try TokenClassifierTraining(config: c, checkpoint: checkpoint, labels: labels, seed: seed, examples: examples,
                                          padId: padId, dropout: p, workers: 1, precision: precision, sharingValuesOf: parameters)
            : nil
    }

    /// The labels of `examples`' tokens, packed in batch order: (ΣL).
    func labels(_ examples: [Int]) -> [Int] { examples.flatMap { self.examples[$0].labels } }

    /// The mean loss over the labelled tokens of `examples` and the logits (ΣL, L), packed in
    /// `examples`' order; training: gradients accumulated, dropout drawn from `rng` (the
    /// second half's from a generator seeded by its next value).
    func run(_ examples: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let total = labels(examples).filter { $0 != WordEncoding.ignored }.count
        var generators: [SplitMix64?] = [training ? rng : nil, nil]
        guard let replica, examples.count >= 2 else {
            let r = pass(examples, backward: training, labelledInBatch: total, rng: &generators[0])
            if training { rng = generators[0] }
            return (r.loss, r.logits)
        }
        if training, rng != nil { generators[1] = SplitMix64(seed: generators[0]!.next()) }
        let cut = (examples.count + 1) / 2
        let halves = [Array(examples[..<cut]), Array(examples[cut...])]
        let models = [self, replica]
        var results: [(loss: Float, labelled: Int, logits: [Float])] = [(0, 0, []), (0, 0, [])]
        results.withUnsafeMutableBufferPointer { out in
            generators.withUnsafeMutableBufferPointer { gens in
                let shared = UncheckedSendable((out, gens))
                Halves.run { k in
                    let (out, gens) = shared.value
                    out[k] = models[k].pass(halves[k], backward: training, labelledInBatch: total, rng: &gens[k])
                }
            }
        }
        if training {
            parameters.absorbGradients(of: replica.parameters)
            rng = generators[0]
        }
        let loss = total == 0 ? 0 : (results[0].loss * Float(results[0].labelled) + results[1].loss * Float(results[1].labelled)) / Float(total)
        return (loss, results[0].logits + results[1].logits)
    }

    /// One forward (and backward) over `examples`; the gradient is that of the batch's mean,
    /// these examples holding their share of its `labelledInBatch` labelled tokens.
    private func pass(_ examples: [Int], backward: Bool, labelledInBatch: Int, rng: inout SplitMix64?)
        -> (loss: Float, labelled: Int, logits: [Float]) {
        let batch = Batch(examples.map { self.examples[$0].encoding }, padId: padId)
        let pass = ForwardPass(batch: batch, scratch: Scratch(config: config), saving: true, rng: rng)
        let (N, C, L) = (batch.tokens, config.hiddenSize, labelCount)
        let x = Buffer(N * C)  // (ΣL, C): real tokens only
        let saved = encoder.forward(pass, into: x.pointer)!
        let logits = Buffer(N * L)
        let savedHead = head.forward(x.pointer, rows: N, rng: &pass.rng, into: logits.pointer)
        rng = pass.rng
        let targets = labels(examples)
        let dLogits = Buffer(N * L)
        let mine = targets.filter { $0 != WordEncoding.ignored }.count
        let weight = labelledInBatch == 0 ? 0 : Float(mine) / Float(labelledInBatch)
        let (loss, labelled) = tokenCrossEntropy(logits.pointer, labels: targets, cols: L, weight: weight,
                                                 grad: backward ? dLogits.pointer : nil)
        guard backward else { return (loss, labelled, logits.values) }
        let dx = Buffer(N * C)
        head.backward(dLogits.pointer, saved: savedHead, rows: N, into: dx.pointer)
        encoder.backward(dx.pointer, saved: saved, pass: pass)
        return (loss, labelled, logits.values)
    }
}

/// --freeze-encoder for token classification: the encoder's last hidden states computed once
/// (fp32, dropout off in the encoder) and a new `TokenClassifierHead` trained on them, its
/// dropout on. Memory: every example's (L, C) floats.
final class TokenHeadTraining: TokenClassifierModel {
    let parameters = ParameterSet(.training)
    let head: TokenClassifierHead
    let examples: [WordEncoding]
    /// Each example's last hidden states, (L, C) row-major.
    private let features: [[Float]]
    var labelNames: [String] { head.labels }

    init(features: [[Float]], examples: [WordEncoding], labels: [String], config c: Config, checkpoint: SafetensorsFile,
         seed: UInt64, dropout p: Float) {
        precondition(features.count == examples.count)
        self.features = features
        self.examples = examples
        head = TokenClassifierHead(new: labels, config: c, seed: seed, parameters: Weights(checkpoint, parameters: parameters).scope(""), dropout: p)
    }

    /// The last hidden states of `examples` by `encoder` (inference, fp32), each (L, C).
    static func features(of examples: [WordEncoding], encoder: Encoder, padId: Int, context: ExecutionContext) throws -> [[Float]] {
        let C = encoder.config.hiddenSize
        var out = [[Float]](repeating: [], count: examples.count)
        try encoder.run(examples.map(\.encoding), batchSize: 32, padId: padId, context: context) { indices, batch, hidden in
            for (b, i) in indices.enumerated() {
                let start = hidden.pointer + b * batch.length * C
                out[i] = Array(UnsafeBufferPointer(start: start, count: examples[i].encoding.count * C))
            }
        }
        return out
    }

    func run(_ batch: [Int], training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let (C, L) = (head.output.inFeatures, head.labels.count)
        let N = batch.reduce(0) { $0 + examples[$1].encoding.count }
        let x = Buffer(N * C)  // (ΣL, C)
        var row = 0
        for e in batch {
            (x.pointer + row * C).update(from: features[e], count: features[e].count)
            row += examples[e].encoding.count
        }
        let logits = Buffer(N * L), dLogits = Buffer(N * L)
        var noDropout: SplitMix64? = nil
        let saved = training ? head.forward(x.pointer, rows: N, rng: &rng, into: logits.pointer)
                             : head.forward(x.pointer, rows: N, rng: &noDropout, into: logits.pointer)
        let (loss, _) = tokenCrossEntropy(logits.pointer, labels: batch.flatMap { examples[$0].labels }, cols: L, weight: 1,
                                          grad: training ? dLogits.pointer : nil)
        if training { head.backward(dLogits.pointer, saved: saved, rows: N, into: nil) }
        return (loss, logits.values)
    }
}

/// The tag set of a token-classification run: the distinct tags by code point (as
/// Dataset orders string labels), so "O" and the B-/I- tags get stable ids.
enum TokenTagSet {
    static func ordered(_ tags: [String]) -> [String] {
        Set(tags).sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    }
}
