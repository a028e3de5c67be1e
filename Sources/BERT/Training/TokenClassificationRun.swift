import Foundation
import Kernels
import Tokenizers

extension FineTuner {
    /// `--task token-classification`: full fine-tuning of `TokenClassifierTraining` on TaggedWords
    /// (or, with --freeze-encoder, `TokenHeadTraining`'s head on the cached hidden states),
    /// the same schedule, epochs, validation split, atomic best epoch and resumable state as
    /// the other tasks. The tag set: the training file's distinct tags by code point. The
    /// validation figure that picks the best epoch: entity F1 (seqeval's, `EntityMetrics`).
    func runTokenClassification(train: URL, validation: URL?, output: URL, resume: Bool) throws -> FinetuneSummary {
        let o = options
        let checkpoint = Self.checkpointURL(for: output)
        let trainSet = try TaggedWords(contentsOf: train)
        var dataRNG = SplitMix64(seed: o.seed)
        var words = trainSet.words, tags = trainSet.tags
        let validationSet = try validation.map { try TaggedWords(contentsOf: $0) }
        if let validation, let v = validationSet {
            let known = Set(trainSet.tags.joined())
            for (k, row) in v.tags.enumerated() {
                if let tag = row.first(where: { !known.contains($0) }) {
                    throw DatasetError.unknownLabel(path: validation.path, line: v.lines[k], label: tag, known: TokenTagSet.ordered(Array(known)))
                }
            }
            words += v.words
            tags += v.tags
        }
        let (trainIndices, validationIndices) = try Self.split(count: trainSet.count, validationCount: validationSet?.count, rng: &dataRNG,
                                                               tooFew: { DatasetError.badRow(path: train.path, line: trainSet.lines[0], reason: "one row cannot be split into training and validation; add rows or pass --validation") })
        let labels = TokenTagSet.ordered(trainIndices.flatMap { tags[$0] } + (validation == nil ? validationIndices.flatMap { tags[$0] } : []))
        guard labels.count >= 2 else { throw DatasetError.oneLabel(path: train.path, label: labels.first ?? "") }
        try TaskTargets.checkLabelCount(labels.count, path: train.path)
        let id = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })

        guard let tokenizer = try source.loadTokenizer() as? any TokenDecoding else {
            throw ModelError.tokenizer(path: source.url.path, reason: "this tokenizer cannot tell its special tokens, which word alignment needs")
        }
        let maxLength = min(o.maxLength, source.config.maxPositions)
        let examples = try words.indices.map { k in
            try WordEncoding(words: words[k], tags: tags[k].map { id[$0]! }, tokenizer: tokenizer, maxLength: maxLength)
        }
        _ = try source.load()
        let checkpointFile = try SafetensorsFile(path: source.url.appendingPathComponent("model.safetensors").path)
        let fingerprint = Self.fingerprint(o, train: train, validation: validation, source: source, rows: words.count, labels: labels)
        var state = State(fingerprint: fingerprint, dataRNG: dataRNG, dropoutRNG: SplitMix64(seed: o.seed &+ 2), workers: workers)
        var saved: SafetensorsFile?
        if resume { (state, saved) = try readState(checkpoint, fingerprint: fingerprint) }
        let model: TokenClassifierModel
        if o.freezeEncoder {
            onStatus?("encoding \(examples.count) rows once for the cached hidden states")
            let encoder = try source.loadAll(precision: .fp32).encoder
            model = TokenHeadTraining(features: try TokenHeadTraining.features(of: examples, encoder: encoder, padId: tokenizer.padId, context: context),
                                      examples: examples, labels: labels, config: source.config, checkpoint: checkpointFile,
                                      seed: o.seed, dropout: o.dropout)
        } else {
            model = try TokenClassifierTraining(config: source.config, checkpoint: checkpointFile, labels: labels, seed: o.seed,
                                                examples: examples, padId: tokenizer.padId, dropout: o.dropout, workers: state.workers ?? 1,
                                                precision: o.effectivePrecision)
        }
        if let saved {
            try loadParameters(from: saved, into: model.parameters)
            onStatus?("resuming at epoch \(state.epoch + 1), step \(state.step)")
        }
        let writer = TokenTaggerDirectoryWriter(
            source: source, labels: labels,
            provenance: ["task": o.task.rawValue, "train": train.lastPathComponent, "epochs": o.epochs, "learning_rate": o.effectiveLearningRate,
                         "batch_size": o.batchSize, "max_length": o.maxLength, "seed": o.seed, "freeze_encoder": o.freezeEncoder])
        let work = EpochWork(
            parameters: model.parameters, dropout: o.dropout > 0,
            step: { batch, _, rng in model.run(batch, training: true, rng: &rng).loss },
            validate: { self.evaluateTokens(model, validationIndices) },
            write: {
                var tensors = model.parameters.tensors()
                for name in checkpointFile.names where tensors[name] == nil && !name.hasPrefix("classifier.") && !name.hasPrefix("pooler.") {
                    tensors[name] = try checkpointFile.tensor(name)
                }
                try writer.write(tensors: tensors, to: output)
            })
        return try trainEpochs(work, trainIndices: trainIndices, validationRows: validationIndices.count, state: state,
                               output: output, checkpoint: checkpoint, labels: labels)
    }

    /// The mean loss over labelled tokens and, on the words' tags as seqeval reads them (each
    /// word's first sub-token; words cut by --max-length left out on both sides), entity F1,
    /// precision, recall and token accuracy, dropout off.
    func evaluateTokens(_ model: TokenClassifierModel, _ indices: [Int]) -> (loss: Double, figures: [Figure]) {
        let names = model.labelNames
        let L = names.count
        var (lossSum, labelled) = (0.0, 0)
        var predicted: [[String]] = [], gold: [[String]] = []
        var noRNG: SplitMix64? = nil
        for start in stride(from: 0, to: indices.count, by: 64) {
            let batch = Array(indices[start..<min(start + 64, indices.count)])
            let (loss, logits) = model.run(batch, training: false, rng: &noRNG)
            var t = 0
            for e in batch {
                var p: [String] = [], g: [String] = []
                for label in model.examples[e].labels {
                    defer { t += 1 }
                    guard label != WordEncoding.ignored else { continue }
                    let row = logits[t * L..<(t + 1) * L]
                    p.append(names[row.indices.max { row[$0] < row[$1] }! - t * L])
                    g.append(names[label])
                }
                labelled += g.count
                lossSum += Double(loss) * Double(g.count)  // the batch mean, weighted by this row's share
                predicted.append(p)
                gold.append(g)
            }
        }
        let m = EntityMetrics(predicted: predicted, gold: gold)
        return (lossSum / Double(max(labelled, 1)),
                [Figure(name: "entity F1", value: m.f1), Figure(name: "precision", value: m.precision),
                 Figure(name: "recall", value: m.recall), Figure(name: "token accuracy", value: m.accuracy)])
    }
}

/// A fine-tuned token tagger directory: the source's config with id2label, the
/// *ForTokenClassification architecture and runtime.token_classifier, every tensor, the
/// tokenizer file copied; `TokenTagger` and `bert tag` load it.
struct TokenTaggerDirectoryWriter {
    let source: ModelDirectory
    let labels: [String]
    let provenance: [String: Any]

    func write(tensors: [String: Tensor], to url: URL) throws {
        var config = try ModelDirectoryOutput.sourceConfig(source)
        config["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
        config["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
        config.removeValue(forKey: "problem_type")
        config["architectures"] = ["\(source.config.architecture.classPrefix(source.config))ForTokenClassification"]
        var runtime = config["runtime"] as? [String: Any] ?? [:]
        runtime.removeValue(forKey: "classifier")
        runtime["token_classifier"] = ["labels": labels.count]
        runtime["finetune"] = provenance
        config["runtime"] = runtime
        try ModelDirectoryOutput.write(config: config, tensors: tensors, tokenizerOf: source, to: url)
    }
}
