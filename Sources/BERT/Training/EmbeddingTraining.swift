import Foundation
import Kernels
import Tokenizers

/// The losses of `bert finetune --task embedding`, on sentence embeddings, as
/// sentence-transformers' loss classes compute them.
public enum EmbeddingLoss: String, Codable, Sendable, CaseIterable {
    /// MultipleNegativesRankingLoss: rows (anchor, positive[, negative]); cosine × 20 of each
    /// anchor against every positive and negative of the batch, cross-entropy toward its own positive.
    case multipleNegatives = "mnrl"
    /// CoSENTLoss: rows (sentence1, sentence2, score); log(1 + Σ exp(20·(cos_kl − cos_ij)))
    /// over the pairs (i,j), (k,l) with score_ij > score_kl.
    case cosent
    /// CosineSimilarityLoss: rows (sentence1, sentence2, score); the mean squared error of
    /// the cosine against the score (which sentence-transformers expects in 0…1).
    case cosine

    /// The scale of the similarities of MNRL and CoSENT (sentence-transformers' default).
    static let scale = 20.0

    /// Whether the rows carry a score (CoSENT, cosine) or are (anchor, positive[, negative]).
    public var scored: Bool { self != .multipleNegatives }

    /// e: the batch's embeddings (K·B, C), column-major over the rows: the B first texts,
    /// then the B second (then the B negatives); scores (B) for the scored losses → the
    /// loss, and dL/de (K·B, C) into `grad` when given.
    func callAsFunction(_ e: UnsafePointer<Float>, rows B: Int, columns K: Int, dimension C: Int,
                        scores: [Float], grad: UnsafeMutablePointer<Float>?) -> Float {
        let N = K * B
        // u = e / max(‖e‖, 1e-12) per row, as util.cos_sim / F.normalize: (N, C)
        var norms = [Double](repeating: 0, count: N)
        var u = [Double](repeating: 0, count: N * C)
        for n in 0..<N {
            var s = 0.0
            for c in 0..<C { s += Double(e[n * C + c]) * Double(e[n * C + c]) }
            norms[n] = max(s.squareRoot(), 1e-12)
            for c in 0..<C { u[n * C + c] = Double(e[n * C + c]) / norms[n] }
        }
        func cos(_ i: Int, _ j: Int) -> Double {
            var s = 0.0
            for c in 0..<C { s += u[i * C + c] * u[j * C + c] }
            return s
        }
        // dcos[i][j]: dL/dcos(u_i, u_j), accumulated into du below.
        var loss = 0.0
        var pairs: [(Int, Int, Double)] = []  // (i, j, dL/dcos(i, j))
        switch self {
        case .multipleNegatives:
            // scores (B, (K−1)·B): anchors × candidates, the positive of row b at column b
            let M = (K - 1) * B
            for b in 0..<B {
                let logits = (0..<M).map { Self.scale * cos(b, B + $0) }
                let top = logits.max()!
                let exps = logits.map { Foundation.exp($0 - top) }
                let sum = exps.reduce(0, +)
                loss += (top + Foundation.log(sum) - logits[b]) / Double(B)
                for m in 0..<M {
                    let d = (exps[m] / sum - (m == b ? 1 : 0)) / Double(B) * Self.scale
                    pairs.append((b, B + m, d))
                }
            }
        case .cosent:
            let s = (0..<B).map { Self.scale * cos($0, B + $0) }
            // log(1 + Σ_{(i,j): score_i > score_j} exp(s_j − s_i))
            var terms: [(Int, Int, Double)] = []
            for i in 0..<B { for j in 0..<B where scores[i] > scores[j] { terms.append((i, j, s[j] - s[i])) } }
            let top = max(0, terms.map(\.2).max() ?? 0)
            let exps = terms.map { Foundation.exp($0.2 - top) }
            let sum = Foundation.exp(-top) + exps.reduce(0, +)
            loss = top + Foundation.log(sum)
            var ds = [Double](repeating: 0, count: B)
            for (k, t) in terms.enumerated() {
                let p = exps[k] / sum
                ds[t.1] += p
                ds[t.0] -= p
            }
            for b in 0..<B { pairs.append((b, B + b, ds[b] * Self.scale)) }
        case .cosine:
            for b in 0..<B {
                let diff = cos(b, B + b) - Double(scores[b])
                loss += diff * diff / Double(B)
                pairs.append((b, B + b, 2 * diff / Double(B)))
            }
        }
        guard let grad else { return Float(loss) }
        // du_i += d · u_j, du_j += d · u_i; then de = (du − u (u·du)) / ‖e‖
        var du = [Double](repeating: 0, count: N * C)
        for (i, j, d) in pairs {
            for c in 0..<C {
                du[i * C + c] += d * u[j * C + c]
                du[j * C + c] += d * u[i * C + c]
            }
        }
        for n in 0..<N {
            var dot = 0.0
            for c in 0..<C { dot += u[n * C + c] * du[n * C + c] }
            for c in 0..<C { grad[n * C + c] = Float((du[n * C + c] - u[n * C + c] * dot) / norms[n]) }
        }
        return Float(loss)
    }
}

/// The sentence embedding of training, with its backward: the model's pooling (mean or
/// CLS) of the packed last hidden states, then unit length when the model normalizes.
struct SentencePoolingTraining {
    let pooling: Pooling
    let normalize: Bool

    struct Saved {
        let pooled: Buffer  // (B, C) before normalization
        let norms: [Float]  // (B) max(‖pooled‖, 1e-12)
    }

    /// x: (ΣL, C) → embeddings (B, C).
    func forward(_ x: UnsafePointer<Float>, _ pass: ForwardPass, dimension C: Int, into e: UnsafeMutablePointer<Float>) -> Saved {
        let B = pass.batch.size
        let pooled = Buffer(B * C)
        for b in 0..<B {
            let row = pooled.pointer + b * C
            switch pooling {
            case .cls, .max: row.update(from: x + pass.starts[b] * C, count: C)  // (max is refused at init)
            case .mean:
                let L = pass.batch.lengths[b]
                for t in 0..<L { Elementwise.add(x + (pass.starts[b] + t) * C, to: row, count: C) }
                TrainingKernels.scale(row, by: 1 / Float(L), count: C)
            }
        }
        var norms = [Float](repeating: 1, count: B)
        e.update(from: pooled.pointer, count: B * C)
        if normalize {
            for b in 0..<B {
                var s: Float = 0
                for c in 0..<C { s += pooled.pointer[b * C + c] * pooled.pointer[b * C + c] }
                norms[b] = max(s.squareRoot(), 1e-12)
                TrainingKernels.scale(e + b * C, by: 1 / norms[b], count: C)
            }
        }
        return Saved(pooled: pooled, norms: norms)
    }

    /// dE (B, C), consumed → adds dL/dx into dx (ΣL, C).
    func backward(_ dE: UnsafeMutablePointer<Float>, saved s: Saved, _ pass: ForwardPass, dimension C: Int, into dx: UnsafeMutablePointer<Float>) {
        let B = pass.batch.size
        for b in 0..<B {
            let d = dE + b * C
            if normalize {
                // y = p/‖p‖: dp = (dy − y (y·dy)) / ‖p‖
                let n = s.norms[b]
                var dot: Float = 0
                for c in 0..<C { dot += s.pooled.pointer[b * C + c] / n * d[c] }
                for c in 0..<C { d[c] = (d[c] - s.pooled.pointer[b * C + c] / n * dot) / n }
            }
            switch pooling {
            case .cls, .max: Elementwise.add(d, to: dx + pass.starts[b] * C, count: C)
            case .mean:
                let L = pass.batch.lengths[b]
                TrainingKernels.scale(d, by: 1 / Float(L), count: C)
                for t in 0..<L { Elementwise.add(d, to: dx + (pass.starts[b] + t) * C, count: C) }
            }
        }
    }
}

/// The bi-encoder itself trained (no head): each row's texts embedded as `SentenceEmbedder`
/// embeds (the model's pooling and normalization), an `EmbeddingLoss` on the batch's embeddings.
///
/// `encodings` holds each example's K texts at example·K + column. The loss couples the rows
/// of a batch (MNRL's similarity matrix needs every embedding before any gradient), so a step
/// runs in three phases: every text's forward (its activations kept), the loss and dL/de over
/// the whole batch, then every text's backward. With two workers the batch's texts are cut in
/// halves for the two forward and backward phases, each half on its own core through a replica
/// that shares the weights; the gradient is the same as one worker's, up to rounding.
final class EmbeddingTraining: TrainableClassifier {
    let config: Config
    let parameters: ParameterSet
    let encoder: Encoder
    let pooling: SentencePoolingTraining
    let loss: EmbeddingLoss
    let columns: Int
    let encodings: [Encoding]
    let padId: Int
    private let replica: EmbeddingTraining?
    /// One output per row: the cosine of its first two texts.
    var labelCount: Int { 1 }

    init(config c: Config, checkpoint: SafetensorsFile, loss: EmbeddingLoss, columns: Int, encodings: [Encoding],
         padId: Int, dropout p: Float, pooling: Pooling? = nil, normalize: Bool? = nil, workers: Int = 1,
         precision: Precision = .fp32, sharingValuesOf owner: ParameterSet? = nil) throws {
        config = c
        let parameters = ParameterSet(owner.map { .replica(of: $0) } ?? .training)
        self.parameters = parameters
        encoder = try Encoder(Weights(checkpoint, parameters: parameters, precision: precision).scope(""), config: c, dropout: p, pooler: false)
        let pool = pooling ?? c.runtime.pooling
        guard pool != .max else { throw FinetuneError.invalidOption("--task embedding trains mean or CLS pooling; this model pools with max") }
        self.pooling = SentencePoolingTraining(pooling: pool, normalize: normalize ?? c.runtime.normalize)
        self.loss = loss
        self.columns = columns
        if owner == nil { try encoder.check(encodings) }
        self.encodings = encodings
        self.padId = padId
        replica = workers > 1 && owner == nil
            ? try EmbeddingTraining(config: c, checkpoint: checkpoint, loss: loss, columns: columns, encodings: encodings, padId: padId,
                                    dropout: p, pooling: pool, normalize: self.pooling.normalize, workers: 1, precision: precision,
                                    sharingValuesOf: parameters)
            : nil
    }

    /// One part's forward, kept for its backward.
    private struct Part {
        let pass: ForwardPass
        let saved: Encoder.Saved?
        let pooled: SentencePoolingTraining.Saved
        let embeddings: Buffer  // (n, C)
    }

    private func forward(_ texts: [Int], saving: Bool, rng: inout SplitMix64?) -> Part {
        let batch = Batch(texts.map { encodings[$0] }, padId: padId)
        let pass = ForwardPass(batch: batch, scratch: Scratch(config: config), saving: true, rng: rng)
        let C = config.hiddenSize
        let x = Buffer(batch.tokens * C)
        let saved = encoder.forward(pass, into: x.pointer)
        let e = Buffer(batch.size * C)
        let pooled = pooling.forward(x.pointer, pass, dimension: C, into: e.pointer)
        rng = pass.rng
        return Part(pass: pass, saved: saving ? saved : nil, pooled: pooled, embeddings: e)
    }

    private func backward(_ part: Part, dE: UnsafeMutablePointer<Float>) {
        let C = config.hiddenSize
        let dx = Buffer(part.pass.batch.tokens * C)
        pooling.backward(dE, saved: part.pooled, part.pass, dimension: C, into: dx.pointer)
        encoder.backward(dx.pointer, saved: part.saved!, pass: part.pass)
    }

    /// targets: the rows' scores (`.values`, width 1) for a scored loss, else anything.
    /// Returns the loss and each row's cosine of its first two texts.
    func run(_ examples: [Int], targets: Targets, training: Bool, rng: inout SplitMix64?) -> (loss: Float, logits: [Float]) {
        let (B, K, C) = (examples.count, columns, config.hiddenSize)
        let texts = (0..<K).flatMap { k in examples.map { $0 * K + k } }  // column-major: (K·B)
        var scores: [Float] = []
        if loss.scored, case .values(let v, _) = targets { scores = v }
        let E = Buffer(texts.count * C)
        var parts: [Part] = []
        var generators: [SplitMix64?] = [training ? rng : nil, nil]
        if let replica, texts.count >= 2 {
            if training, rng != nil { generators[1] = SplitMix64(seed: generators[0]!.next()) }
            let halves = [Halves.range(0, of: texts.count), Halves.range(1, of: texts.count)]
            var out: [Part?] = [nil, nil]
            let models = [self, replica]
            out.withUnsafeMutableBufferPointer { out in
                generators.withUnsafeMutableBufferPointer { gens in
                    let shared = UncheckedSendable((out, gens))
                    Halves.run { k in
                        let (out, gens) = shared.value
                        out[k] = models[k].forward(Array(texts[halves[k]]), saving: training, rng: &gens[k])
                    }
                }
            }
            parts = out.map { $0! }
        } else {
            parts = [forward(texts, saving: training, rng: &generators[0])]
        }
        if training { rng = generators[0] }
        var offset = 0
        for p in parts {
            (E.pointer + offset).update(from: p.embeddings.pointer, count: p.embeddings.count)
            offset += p.embeddings.count
        }
        let dE = Buffer(texts.count * C)
        let l = loss(E.pointer, rows: B, columns: K, dimension: C, scores: scores, grad: training ? dE.pointer : nil)
        if training {
            if parts.count == 2, let replica {
                let cut = parts[0].embeddings.count
                let shared = UncheckedSendable(parts)
                let models = [self, replica]
                Halves.run { k in models[k].backward(shared.value[k], dE: dE.pointer + (k == 0 ? 0 : cut)) }
                parameters.absorbGradients(of: replica.parameters)
            } else {
                backward(parts[0], dE: dE.pointer)
            }
        }
        let cosines = (0..<B).map { b -> Float in
            SentenceEmbedder.cosine(Array(UnsafeBufferPointer(start: E.pointer + b * C, count: C)),
                                    Array(UnsafeBufferPointer(start: E.pointer + (B + b) * C, count: C)))
        }
        return (l, cosines)
    }
}
