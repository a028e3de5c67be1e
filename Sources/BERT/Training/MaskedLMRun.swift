import Foundation
import Kernels
import Tokenizers

extension FineTuner {
    /// `--task mlm`: continued masked-LM pre-training of the encoder with its head on raw
    /// text (`TextLines`), BERT's masking drawn anew each epoch (`TokenMasking`), the same
    /// schedule, epochs, validation split, atomic best epoch and resumable state as the other
    /// tasks. A source without a masked-LM head (all-MiniLM-L6-v2) gets a new one, and a status
    /// line says so. The validation rows are masked once, with a fixed draw, so epochs compare;
    /// the negated masked-token loss picks the best epoch.
    func runMaskedLM(train: URL, validation: URL?, output: URL, resume: Bool) throws -> FinetuneSummary {
        let o = options
        guard !o.freezeEncoder else { throw FinetuneError.invalidOption("--task mlm trains the encoder with its head; drop --freeze-encoder") }
        guard o.maskProbability > 0, o.maskProbability < 1 else { throw FinetuneError.invalidOption("--mask-probability must be between 0 and 1") }
        let c = source.config
        guard let headName = c.architecture.maskedLMHead else {
            throw FinetuneError.invalidOption("\(source.url.path): --task mlm trains BERT's masked-LM head; this runtime has none for model_type \(c.modelType)")
        }
        guard let tokenizer = try source.loadTokenizer() as? any TokenDecoding, let maskId = tokenizer.maskId else {
            throw ModelError.tokenizer(path: source.url.path, reason: "the tokenizer has no mask token, which masked-LM training needs")
        }
        let checkpoint = Self.checkpointURL(for: output)
        let trainSet = try TextLines(contentsOf: train)
        var dataRNG = SplitMix64(seed: o.seed)
        let validationSet = try validation.map { try TextLines(contentsOf: $0) }
        let documents = trainSet.texts + (validationSet?.texts ?? [])
        let (trainIndices, validationIndices) = try Self.split(count: trainSet.count, validationCount: validationSet?.count, rng: &dataRNG,
                                                               tooFew: { DatasetError.badRow(path: train.path, line: trainSet.lines[0], reason: "one document cannot be split into training and validation; add lines or pass --validation") })
        let maxLength = min(o.maxLength, c.maxPositions)
        let texts = try documents.map { MaskableText(try tokenizer.encode($0, maxLength: maxLength), tokenizer: tokenizer) }
        _ = try source.load()
        let checkpointFile = try SafetensorsFile(path: source.url.appendingPathComponent("model.safetensors").path)
        let head: MaskedLMTraining.InitialHead
        let settings: Config.MaskedLMSettings
        if let s = c.runtime.maskedLM {
            (head, settings) = (.checkpoint(s), s)
        } else {
            settings = MaskedLMHead.newSettings(for: c)
            head = .new(settings, seed: o.seed)
            onStatus?("\(source.url.lastPathComponent) has no masked-LM head: training a new one (\(headName), tied to the word embeddings, seeded init)")
        }
        let fingerprint = Self.fingerprint(o, train: train, validation: validation, source: source, rows: documents.count, labels: ["mlm"])
        var state = State(fingerprint: fingerprint, dataRNG: dataRNG, dropoutRNG: SplitMix64(seed: o.seed &+ 2), workers: workers)
        var saved: SafetensorsFile?
        if resume { (state, saved) = try readState(checkpoint, fingerprint: fingerprint) }
        let masking = TokenMasking(maskId: maskId, vocabularySize: min(tokenizer.vocabularySize, c.vocabSize),
                                   probability: o.maskProbability, wholeWords: o.wholeWordMask)
        let model = try MaskedLMTraining(config: c, checkpoint: checkpointFile, head: head, texts: texts, masking: masking, seed: o.seed,
                                         padId: tokenizer.padId, dropout: o.dropout, workers: state.workers ?? 1,
                                         precision: o.effectivePrecision)
        if let saved {
            try loadParameters(from: saved, into: model.parameters)
            onStatus?("resuming at epoch \(state.epoch + 1), step \(state.step)")
        }
        let heldOut = model.maskedHeldOut(validationIndices)
        let writer = MaskedLMDirectoryWriter(
            source: source, settings: settings,
            provenance: ["task": o.task.rawValue, "train": train.lastPathComponent, "epochs": o.epochs, "learning_rate": o.effectiveLearningRate,
                         "batch_size": o.batchSize, "max_length": o.maxLength, "seed": o.seed, "mask_probability": o.maskProbability,
                         "whole_word_mask": o.wholeWordMask, "new_head": c.runtime.maskedLM == nil])
        let work = EpochWork(
            parameters: model.parameters, dropout: o.dropout > 0,
            step: { batch, epoch, rng in model.run(model.masked(batch, epoch: UInt64(epoch)), training: true, rng: &rng).loss },
            validate: {
                let m = MaskedLMTraining.evaluate(model, heldOut)
                return (m.loss, [Figure(name: "negated loss", value: -m.loss), Figure(name: "perplexity", value: m.perplexity)])
            },
            write: {
                var tensors = model.parameters.tensors()
                for name in checkpointFile.names where tensors[name] == nil && !MaskedLMDirectoryWriter.dropped(name) {
                    tensors[name] = try checkpointFile.tensor(name)
                }
                try writer.write(tensors: tensors, to: output)
            })
        return try trainEpochs(work, trainIndices: trainIndices, validationRows: validationIndices.count, state: state,
                               output: output, checkpoint: checkpoint, labels: [])
    }
}

extension MaskedLMMetrics {
    /// `bert evaluate --task mlm`: a masked-LM model directory's loss on `data`, masked as a
    /// `bert finetune --task mlm` run with this seed masks its validation file (fp32, no dropout).
    public init(directory: ModelDirectory, data: TextLines, seed: UInt64, maskProbability: Double = 0.15,
                wholeWords: Bool = false, maxLength: Int? = nil) throws {
        let c = directory.config
        guard let settings = c.runtime.maskedLM else {
            throw ModelError.missingHead(path: directory.url.appendingPathComponent("model.safetensors").path, needed: "masked-LM head (mlm.*)",
                                         has: directory.headDescription, hint: "train one with bert finetune --task mlm, or convert a *ForMaskedLM checkpoint")
        }
        guard let tokenizer = try directory.loadTokenizer() as? any TokenDecoding, let maskId = tokenizer.maskId else {
            throw ModelError.tokenizer(path: directory.url.path, reason: "the tokenizer has no mask token, which masked-LM evaluation needs")
        }
        let length = min(maxLength ?? c.maxLength, c.maxPositions)
        let texts = try data.texts.map { MaskableText(try tokenizer.encode($0, maxLength: length), tokenizer: tokenizer) }
        _ = try directory.load()
        let checkpoint = try SafetensorsFile(path: directory.url.appendingPathComponent("model.safetensors").path)
        let masking = TokenMasking(maskId: maskId, vocabularySize: min(tokenizer.vocabularySize, c.vocabSize),
                                   probability: maskProbability, wholeWords: wholeWords)
        let model = try MaskedLMTraining(config: c, checkpoint: checkpoint, head: .checkpoint(settings), texts: texts, masking: masking,
                                         seed: seed, padId: tokenizer.padId, dropout: 0)
        self = MaskedLMTraining.evaluate(model, model.maskedHeldOut(Array(texts.indices)))
    }
}

/// Held-out masked-LM figures: the mean cross-entropy over every masked token and its exponent.
public struct MaskedLMMetrics: Sendable, Equatable, Codable {
    public let maskedTokens: Int
    public let loss: Double
    public var perplexity: Double { Foundation.exp(loss) }
}

extension MaskedLMTraining {
    /// The mean loss over every masked token of `texts` (batches of 32, dropout off).
    static func evaluate(_ model: MaskedLMTraining, _ texts: [MaskedText]) -> MaskedLMMetrics {
        var (sum, count) = (0.0, 0)
        var noRNG: SplitMix64? = nil
        for start in stride(from: 0, to: texts.count, by: 32) {
            let (loss, masked) = model.run(Array(texts[start..<min(start + 32, texts.count)]), training: false, rng: &noRNG)
            sum += Double(loss) * Double(masked)
            count += masked
        }
        return MaskedLMMetrics(maskedTokens: count, loss: count == 0 ? 0 : sum / Double(count))
    }
}

/// A masked-LM directory: the source's config with *ForMaskedLM and runtime.masked_lm (the
/// head it was trained with), the encoder and `mlm.*` tensors (the source's pooler kept; other
/// tasks' heads dropped), the tokenizer file copied. `bert fill-mask` loads it, `bert embed`
/// embeds with it, and `bert finetune --model` starts from it.
struct MaskedLMDirectoryWriter {
    let source: ModelDirectory
    let settings: Config.MaskedLMSettings
    let provenance: [String: Any]

    /// A source tensor left out: another task's head.
    static func dropped(_ name: String) -> Bool {
        name.hasPrefix("classifier.") || name.hasPrefix("token_classifier.") || name.hasPrefix("qa_outputs.")
    }

    func write(tensors: [String: Tensor], to url: URL) throws {
        var config = try ModelDirectoryOutput.sourceConfig(source)
        for key in ["id2label", "label2id", "problem_type", "num_labels"] { config.removeValue(forKey: key) }
        config["architectures"] = ["\(source.config.architecture.classPrefix(source.config))ForMaskedLM"]
        var runtime = config["runtime"] as? [String: Any] ?? [:]
        for key in ["classifier", "token_classifier", "question_answering"] { runtime.removeValue(forKey: key) }
        runtime["masked_lm"] = ["activation": settings.activation, "layer_norm_eps": Double(settings.layerNormEps), "tied": settings.tied]
        runtime["finetune"] = provenance
        config["runtime"] = runtime
        try ModelDirectoryOutput.write(config: config, tensors: tensors, tokenizerOf: source, to: url)
    }
}
