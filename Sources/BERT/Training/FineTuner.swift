import Foundation
import Kernels
import Tokenizers

/// The recipe's knobs, with the defaults `bert finetune` shows.
public struct FinetuneOptions: Codable, Sendable, Equatable {
    /// Full fine-tuning's default learning rate (Hugging Face's usual 2e-5).
    public static let defaultLearningRate = 2e-5
    /// --freeze-encoder's: a linear head on fixed, unit-length features wants larger steps.
    public static let defaultHeadLearningRate = 1e-2

    /// What the head learns and the loss it learns it by.
    public var task: FinetuneTask = .classification
    /// Multi-label CSV/TSV: what joins a row's labels in its label column.
    public var labelSeparator = ","
    /// Multi-label: a label is predicted when its sigmoid reaches this (the validation figures).
    public var threshold = 0.5
    public var freezeEncoder = false
    public var epochs = 3
    public var learningRate: Double?
    public var batchSize = 32
    public var maxLength = 128
    public var seed: UInt64 = 42
    /// Stop after this many epochs without a better validation score (`EpochReport.score`).
    public var patience: Int?
    /// Save the training state every this many steps too (it is always saved after each epoch).
    public var checkpointSteps: Int?
    public var dropout: Float = 0.1
    /// --task embedding: the loss (nil: MultipleNegativesRankingLoss for anchor/positive rows;
    /// scored rows must name cosent or cosine).
    public var loss: EmbeddingLoss?
    /// --task embedding: scores are divided by this before training and validation
    /// (CosineSimilarityLoss wants 0…1: pass 5 for STS's 0…5 scores).
    public var scoreScale = 1.0
    /// --task mlm: the share of tokens chosen for the masked-LM loss (BERT's 15%).
    public var maskProbability = 0.15
    /// --task mlm: choose whole words (every sub-token of a chosen word), not single tokens.
    public var wholeWordMask = false
    /// The encoder layers' weight products: nil (fp32, the default: PyTorch-matched) or bf16
    /// (mixed precision: operands rounded to bf16 for each product, fp32 accumulation; fp32
    /// weights, gradients, AdamW and loss, as PyTorch's CPU autocast keeps them). Every task's
    /// full fine-tuning, not --freeze-encoder; nil is left out of the fingerprint, so runs from
    /// before the option resume.
    public var precision: Precision?

    public init() {}

    /// The precision the encoder trains in: `precision`, fp32 when nil.
    public var effectivePrecision: Precision { precision ?? .fp32 }

    public var effectiveLearningRate: Double {
        learningRate ?? (freezeEncoder ? Self.defaultHeadLearningRate : Self.defaultLearningRate)
    }
}

/// One named figure on the validation rows.
public struct Figure: Codable, Sendable, Equatable {
    public let name: String
    public let value: Double
    /// The name as a JSON key: "macro-F1" → "macro_f1".
    public var key: String { name.lowercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_") }
}

/// One epoch's line: train loss, and loss and the task's figures on the validation rows
/// (classification: accuracy, macro-F1; regression: Spearman, Pearson, the loss being the
/// MSE; multi-label: micro-F1, macro-F1, subset accuracy). The first figure picks the best epoch.
public struct EpochReport: Codable, Sendable, Equatable {
    public let epoch: Int
    public let trainLoss: Double
    public let validationLoss: Double
    public let figures: [Figure]
    public let best: Bool
    public let seconds: Double

    /// The figure the best epoch is chosen by.
    public var score: Figure { figures[0] }
    public subscript(name: String) -> Double? { figures.first { $0.name == name }?.value }
    /// Classification's figures (0 for the other tasks).
    public var accuracy: Double { self["accuracy"] ?? 0 }
    public var macroF1: Double { self["macro-F1"] ?? 0 }
}

/// Where a run is, for a progress bar.
public struct FinetuneProgress: Sendable {
    public let epoch: Int, epochs: Int
    public let step: Int, stepsPerEpoch: Int
    public let loss: Double
    /// Seconds per step so far in this process.
    public let secondsPerStep: Double
}

public struct FinetuneSummary: Sendable {
    public let epochs: [EpochReport]
    public let output: URL
    /// Stopped on purpose before the end (tests), the state kept for --resume.
    public let interrupted: Bool
    public let trainRows: Int, validationRows: Int
    public let labels: [String]
    public var best: EpochReport? { epochs.last { $0.best } }
}

/// What `FineTuner.trainEpochs` drives for a task: one step on a batch of example indices
/// (the batch's mean loss, gradients accumulated; `epoch` 0-based; dropout from `rng`, nil
/// without dropout), the validation loss and figures (the first picks the best epoch), and
/// the writing of the best epoch's model directory.
struct EpochWork {
    let parameters: ParameterSet
    let dropout: Bool
    let step: (_ batch: [Int], _ epoch: Int, _ rng: inout SplitMix64?) -> Float
    let validate: () -> (loss: Double, figures: [Figure])
    let write: () throws -> Void
}

/// Fine-tunes a classifier on a labelled dataset and writes a model directory that
/// `TextClassifier` and `bert classify` load.
///
///     var options = FinetuneOptions()
///     options.epochs = 3
///     let tuner = FineTuner(source: try ModelDirectory(resolving: "all-MiniLM-L6-v2"), options: options)
///     let summary = try tuner.run(train: URL(fileURLWithPath: "train.csv"), output: URL(fileURLWithPath: "models/mine"))
///
/// Full fine-tuning trains every tensor of BertForSequenceClassification (pooler
/// features, dropout); `freezeEncoder` encodes each example once and trains a linear
/// head on the sentence embedding. The training state (weights, Adam moments, step,
/// generators, data order) is saved atomically beside the output after every epoch, so
/// `resume: true` continues an interrupted run to the same weights.
public final class FineTuner {
    public let source: ModelDirectory
    public let options: FinetuneOptions
    public var onProgress: ((FinetuneProgress) -> Void)?
    public var onEpoch: ((EpochReport) -> Void)?
    public var onStatus: ((String) -> Void)?
    /// Tests: save the state and stop after this many steps, as an interruption would.
    var haltAfterSteps: Int?
    /// The threads it runs on.
    public let context: ExecutionContext
    /// Workers splitting each batch in a fresh run (a resumed run keeps its saved count).
    var workers: Int
    /// The weights at the end of the last run (not only the best epoch's), for tests.
    var finalParameters: ParameterSet?

    public init(source: ModelDirectory, options: FinetuneOptions, context: ExecutionContext? = nil) {
        self.source = source
        self.options = options
        self.context = context ?? ExecutionContext()
        workers = self.context.trainingWorkers
    }

    /// Where the training state of a run writing `output` lives.
    public static func checkpointURL(for output: URL) -> URL {
        URL(fileURLWithPath: output.standardizedFileURL.path + ".checkpoint.safetensors")
    }

    struct State: Codable {
        var fingerprint: String
        var epoch = 0
        var position = 0
        var order: [Int] = []
        var step = 0
        var dataRNG: SplitMix64
        var dropoutRNG: SplitMix64
        var lossSum = 0.0
        var lossCount = 0
        var history: [EpochReport] = []
        var bestScore: Double?
        var badEpochs = 0
        /// How many workers split each batch: their dropout masks differ, so a resumed run
        /// keeps the count it started with (nil in states saved before it was recorded: 1).
        var workers: Int?
    }

    public func run(train: URL, validation: URL? = nil, output: URL, resume: Bool = false) throws -> FinetuneSummary {
        let o = options
        guard o.epochs > 0, o.batchSize > 0, o.maxLength >= 2, o.effectiveLearningRate > 0 else {
            throw FinetuneError.invalidOption("epochs, batch size and learning rate must be positive and max length at least 2")
        }
        if o.effectivePrecision != .fp32 {
            try o.effectivePrecision.checkForTraining()
            guard !o.freezeEncoder else {
                throw FinetuneError.invalidOption("--precision bf16 is for full fine-tuning; --freeze-encoder trains only the head, in fp32")
            }
        }
        try AtomicDirectory.checkWritable(output)
        if o.task == .tokenClassification {
            return try runTokenClassification(train: train, validation: validation, output: output, resume: resume)
        }
        let checkpoint = Self.checkpointURL(for: output)

        if o.task == .embedding { return try runEmbedding(train: train, validation: validation, output: output, resume: resume) }
        if o.task == .mlm { return try runMaskedLM(train: train, validation: validation, output: output, resume: resume) }

        // Data: the training rows, and validation rows from a file or a seeded 10% split.
        let trainSet = try Dataset(contentsOf: train, emptyLabels: o.task == .multiLabel)
        var dataRNG = SplitMix64(seed: o.seed)
        let all = trainSet
        let validationSet = try validation.map { try Dataset(contentsOf: $0, emptyLabels: o.task == .multiLabel) }
        let (trainIndices, validationIndices) = try Self.split(count: trainSet.count, validationCount: validationSet?.count, rng: &dataRNG,
                                                               tooFew: { DatasetError.badRow(path: train.path, line: trainSet.lines[0], reason: "one row cannot be split into training and validation; add rows or pass --validation") })
        let texts = all.texts + (validationSet?.texts ?? [])
        let pairs: [String]? = (all.pairs != nil || validationSet?.pairs != nil)
            ? (all.pairs ?? Array(repeating: "", count: all.count)) + (validationSet.map { $0.pairs ?? Array(repeating: "", count: $0.count) } ?? [])
            : nil
        let targets = try TaskTargets(o, train: all, validation: validationSet)
        let labels = targets.labels

        // The model.
        let tokenizer = try source.loadTokenizer()
        let maxLength = min(o.maxLength, source.config.maxPositions)
        let encodings = try texts.indices.map { k -> Encoding in
            let pair = pairs?[k]
            return try tokenizer.encode(texts[k], pair: (pair?.isEmpty ?? true) ? nil : pair, maxLength: maxLength, truncation: .longestFirst)
        }
        _ = try source.load()  // checks every tensor and shape before training starts
        let checkpointFile = try SafetensorsFile(path: source.url.appendingPathComponent("model.safetensors").path)
        let features: ClassifierHead.Features = o.freezeEncoder ? .embedding : source.config.architecture.sequenceClassifier
        // The state: fresh, or the saved one (its weights are loaded once the model exists).
        let problem = o.task.problem
        let fingerprint = Self.fingerprint(o, train: train, validation: validation, source: source, rows: texts.count, labels: labels)
        var state = State(fingerprint: fingerprint, dataRNG: dataRNG, dropoutRNG: SplitMix64(seed: o.seed &+ 2),
                          workers: workers)
        var saved: SafetensorsFile?
        if resume {
            (state, saved) = try readState(checkpoint, fingerprint: fingerprint)
        }

        let model: TrainableClassifier
        if o.freezeEncoder {
            onStatus?("encoding \(encodings.count) examples once for the cached sentence embeddings")
            let embedder = try SentenceEmbedder(directory: source, precision: .fp32, context: context)  // the head trains on fp32 features
            model = LinearHeadTraining(features: try embedder.embed(encodings: encodings, batchSize: 64),
                                       classifier: initialClassifier(labels: labels.count, hidden: source.config.hiddenSize, seed: o.seed),
                                       problem: problem)
        } else {
            model = try SequenceClassifierTraining(config: source.config, checkpoint: checkpointFile,
                                                   head: .new(features: features, labels: labels, seed: o.seed, problem: problem),
                                                   encodings: encodings, padId: tokenizer.padId, dropout: o.dropout,
                                                   workers: state.workers ?? 1, precision: o.effectivePrecision)
        }
        if let saved {
            try loadParameters(from: saved, into: model.parameters)
            onStatus?("resuming at epoch \(state.epoch + 1), step \(state.step)")
        }

        let writer = ClassifierDirectoryWriter(
            source: source, labels: labels, features: features, problem: problem,
            provenance: ["task": o.task.rawValue, "train": train.lastPathComponent, "epochs": o.epochs, "learning_rate": o.effectiveLearningRate,
                         "batch_size": o.batchSize, "max_length": o.maxLength, "seed": o.seed,
                         "freeze_encoder": o.freezeEncoder])
        let work = work(model, targets: targets, encodings: encodings, validationIndices: validationIndices,
                        write: { try writer.write(tensors: self.outputTensors(model, checkpointFile), to: output) })
        return try trainEpochs(work, trainIndices: trainIndices, validationRows: validationIndices.count, state: state,
                               output: output, checkpoint: checkpoint, labels: labels)
    }

    /// The rows a run trains and validates on: with a validation file of `validationCount`
    /// rows, every training row and then the file's rows (indexed after them); without one, a
    /// seeded 10% (at least one) of the `count` training rows held out, drawn by shuffling with
    /// `rng`, which the epochs' data order then continues from. `tooFew`: the error for a
    /// single training row and no validation file.
    static func split(count: Int, validationCount: Int?, rng: inout SplitMix64,
                      tooFew: () -> Error) throws -> (train: [Int], validation: [Int]) {
        if let validationCount { return (Array(0..<count), Array(count..<count + validationCount)) }
        guard count >= 2 else { throw tooFew() }
        var order = Array(0..<count)
        rng.shuffle(&order)
        let held = Set(order.prefix(max(1, count / 10)))
        return ((0..<count).filter { !held.contains($0) }, Array(order.prefix(held.count)))
    }

    /// The epochs of a run from `state`, any task: `work`'s steps over shuffled batches of
    /// `trainIndices`, its validation after each epoch, the best epoch written by it, the
    /// training state saved after each epoch (and every --checkpoint-steps).
    func trainEpochs(_ work: EpochWork, trainIndices: [Int], validationRows: Int, state initial: State,
                     output: URL, checkpoint: URL, labels: [String]) throws -> FinetuneSummary {
        let o = options
        var state = initial
        let stepsPerEpoch = (trainIndices.count + o.batchSize - 1) / o.batchSize
        let schedule = LinearSchedule(totalSteps: o.epochs * stepsPerEpoch)
        let optimizer = Optimizer(work.parameters, learningRate: o.effectiveLearningRate, schedule: schedule, step: state.step)
        let started = Date()
        var stepsHere = 0
        func summary(interrupted: Bool) -> FinetuneSummary {
            FinetuneSummary(epochs: state.history, output: output, interrupted: interrupted,
                            trainRows: trainIndices.count, validationRows: validationRows, labels: labels)
        }

        while state.epoch < o.epochs {
            if state.order.isEmpty {
                state.order = trainIndices
                state.dataRNG.shuffle(&state.order)
                (state.position, state.lossSum, state.lossCount) = (0, 0, 0)
            }
            while state.position < stepsPerEpoch {
                let batch = Array(state.order[state.position * o.batchSize..<min((state.position + 1) * o.batchSize, state.order.count)])
                var rng: SplitMix64? = work.dropout ? state.dropoutRNG : nil
                let loss = work.step(batch, state.epoch, &rng)
                if let rng { state.dropoutRNG = rng }
                optimizer.apply()
                state.step = optimizer.step
                state.position += 1
                state.lossSum += Double(loss) * Double(batch.count)
                state.lossCount += batch.count
                stepsHere += 1
                onProgress?(FinetuneProgress(epoch: state.epoch + 1, epochs: o.epochs, step: state.position, stepsPerEpoch: stepsPerEpoch,
                                             loss: state.lossSum / Double(state.lossCount),
                                             secondsPerStep: Date().timeIntervalSince(started) / Double(stepsHere)))
                if let n = o.checkpointSteps, n > 0, state.step % n == 0 { try saveState(state, work.parameters, to: checkpoint) }
                if let halt = haltAfterSteps, state.step >= halt {
                    try saveState(state, work.parameters, to: checkpoint)
                    finalParameters = work.parameters
                    return summary(interrupted: true)
                }
            }
            let (validationLoss, figures) = work.validate()
            let improved = state.bestScore.map { figures[0].value > $0 } ?? true
            if improved {
                try work.write()
                state.bestScore = figures[0].value
                state.badEpochs = 0
            } else {
                state.badEpochs += 1
            }
            let report = EpochReport(epoch: state.epoch + 1, trainLoss: state.lossSum / Double(max(state.lossCount, 1)),
                                     validationLoss: validationLoss, figures: figures, best: improved, seconds: Date().timeIntervalSince(started))
            state.history.append(report)
            state.epoch += 1
            state.order = []
            state.position = 0
            onEpoch?(report)
            if let patience = o.patience, state.badEpochs >= patience, state.epoch < o.epochs {
                onStatus?("no better validation \(figures[0].name) for \(patience) epoch(s): stopping early")
                break
            }
            if state.epoch < o.epochs { try saveState(state, work.parameters, to: checkpoint) }
        }
        try? FileManager.default.removeItem(at: checkpoint)
        finalParameters = work.parameters
        return summary(interrupted: false)
    }

    /// A head-and-targets task's `EpochWork`: `model`'s steps on `targets`, validated by `evaluate`.
    func work(_ model: TrainableClassifier, targets: TaskTargets, encodings: [Encoding], validationIndices: [Int],
              write: @escaping () throws -> Void) -> EpochWork {
        EpochWork(parameters: model.parameters, dropout: options.dropout > 0 && !options.freezeEncoder,
                  step: { batch, _, rng in model.run(batch, targets: targets.rows(batch), training: true, rng: &rng).loss },
                  validate: { self.evaluate(model, validationIndices, targets: targets, encodings: encodings) },
                  write: write)
    }

    /// --task embedding: the rows of `EmbeddingDataset`s (a seeded 10% held out without
    /// `validation`), the bi-encoder trained by `EmbeddingTraining`, an embedding model written.
    func runEmbedding(train: URL, validation: URL?, output: URL, resume: Bool) throws -> FinetuneSummary {
        let o = options
        guard o.scoreScale > 0, o.scoreScale.isFinite else { throw FinetuneError.invalidOption("--score-scale must be positive") }
        guard !o.freezeEncoder else { throw FinetuneError.invalidOption("--task embedding trains the encoder itself; drop --freeze-encoder") }
        let checkpoint = Self.checkpointURL(for: output)
        let trainSet = try EmbeddingDataset(contentsOf: train)
        let loss = o.loss ?? .multipleNegatives
        if loss.scored != (trainSet.scores != nil) {
            throw FinetuneError.invalidOption(loss.scored
                ? "\(train.path): --loss \(loss.rawValue) trains on sentence1,sentence2,score rows; this file has anchor,positive rows (use --loss mnrl)"
                : "\(train.path): the rows are sentence1,sentence2,score; pass --loss cosent or --loss cosine (mnrl trains on anchor,positive[,negative])")
        }
        let K = trainSet.columns
        var rows = trainSet.texts, scores = trainSet.scores ?? Array(repeating: 0, count: trainSet.count)
        var dataRNG = SplitMix64(seed: o.seed)
        var scored = trainSet.scores != nil
        let validationSet = try validation.map { try EmbeddingDataset(contentsOf: $0) }
        if let v = validationSet {
            // Missing columns repeat the second text (a scored validation file of a triplet run).
            rows += v.texts.map { r in (0..<K).map { $0 < r.count ? r[$0] : r[1] } }
            scores += v.scores ?? Array(repeating: 0, count: v.count)
            scored = v.scores != nil
        }
        let (trainIndices, validationIndices) = try Self.split(count: trainSet.count, validationCount: validationSet?.count, rng: &dataRNG,
                                                               tooFew: { DatasetError.badRow(path: train.path, line: trainSet.lines[0], reason: "one row cannot be split into training and validation; add rows or pass --validation") })
        let targets = TaskTargets(embedding: scores.map { Float($0 / o.scoreScale) }, scored: scored)

        let tokenizer = try source.loadTokenizer()
        let maxLength = min(o.maxLength, source.config.maxPositions)
        let encodings = try rows.flatMap { row in try row.map { try tokenizer.encode($0, maxLength: maxLength) } }  // row·K + column
        _ = try source.load()
        let checkpointFile = try SafetensorsFile(path: source.url.appendingPathComponent("model.safetensors").path)
        let fingerprint = Self.fingerprint(o, train: train, validation: validation, source: source, rows: rows.count, labels: [loss.rawValue])
        var state = State(fingerprint: fingerprint, dataRNG: dataRNG, dropoutRNG: SplitMix64(seed: o.seed &+ 2), workers: workers)
        var saved: SafetensorsFile?
        if resume { (state, saved) = try readState(checkpoint, fingerprint: fingerprint) }
        let model = try EmbeddingTraining(config: source.config, checkpoint: checkpointFile, loss: loss, columns: K, encodings: encodings,
                                          padId: tokenizer.padId, dropout: o.dropout, workers: state.workers ?? 1, precision: o.effectivePrecision)
        if let saved {
            try loadParameters(from: saved, into: model.parameters)
            onStatus?("resuming at epoch \(state.epoch + 1), step \(state.step)")
        }
        let writer = ClassifierDirectoryWriter(
            source: source, labels: [], features: .embedding, problem: .regression,
            provenance: ["task": o.task.rawValue, "loss": loss.rawValue, "score_scale": o.scoreScale, "train": train.lastPathComponent,
                         "epochs": o.epochs, "learning_rate": o.effectiveLearningRate, "batch_size": o.batchSize,
                         "max_length": o.maxLength, "seed": o.seed], headless: true)
        let work = work(model, targets: targets, encodings: encodings, validationIndices: validationIndices,
                        write: { try writer.write(tensors: self.outputTensors(model, checkpointFile), to: output) })
        return try trainEpochs(work, trainIndices: trainIndices, validationRows: validationIndices.count, state: state,
                               output: output, checkpoint: checkpoint, labels: [])
    }

    /// The mean loss and the task's figures over `indices`, dropout off, in batches of similar length.
    func evaluate(_ model: TrainableClassifier, _ indices: [Int], targets: TaskTargets, encodings: [Encoding])
        -> (loss: Double, figures: [Figure]) {
        let sorted = indices.sorted { encodings[$0].count < encodings[$1].count }
        let L = model.labelCount
        var logits: [Int: ArraySlice<Float>] = [:]
        var total = 0.0
        var noRNG: SplitMix64? = nil
        for start in stride(from: 0, to: sorted.count, by: 64) {
            let batch = Array(sorted[start..<min(start + 64, sorted.count)])
            let (loss, out) = model.run(batch, targets: targets.rows(batch), training: false, rng: &noRNG)
            total += Double(loss) * Double(batch.count)
            for (b, e) in batch.enumerated() { logits[e] = out[b * L..<(b + 1) * L] }
        }
        let loss = total / Double(max(indices.count, 1))
        let figures = targets.figures(logits: indices.map { Array(logits[$0]!) }, of: indices, threshold: options.threshold)
        return (loss, figures.isEmpty ? [Figure(name: "negated loss", value: -loss)] : figures)
    }

    /// Every tensor of the output checkpoint: the trained ones, and for a frozen encoder
    /// the source's encoder tensors as they are.
    func outputTensors(_ model: TrainableClassifier, _ source: SafetensorsFile) throws -> [String: Tensor] {
        var tensors = model.parameters.tensors()
        for name in source.names where tensors[name] == nil && !name.hasPrefix("classifier.") {
            tensors[name] = try source.tensor(name)
        }
        return tensors
    }

    static func fingerprint(_ o: FinetuneOptions, train: URL, validation: URL?, source: ModelDirectory, rows: Int, labels: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let opts = (try? encoder.encode(o)).flatMap { String(data: $0, encoding: .utf8) } ?? ""
        return [opts, train.standardizedFileURL.path, validation?.standardizedFileURL.path ?? "-",
                source.url.standardizedFileURL.path, String(rows), labels.joined(separator: "\u{1F}")].joined(separator: "|")
    }

    func saveState(_ state: State, _ parameters: ParameterSet, to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for p in parameters.all {
            tensors["value.\(p.name)"] = p.tensor
            tensors["m.\(p.name)"] = Tensor(shape: p.shape, values: p.m.values)
            tensors["v.\(p.name)"] = Tensor(shape: p.shape, values: p.v.values)
        }
        let json = String(data: try JSONEncoder().encode(state), encoding: .utf8)!
        do {
            try SafetensorsWriter.write(tensors, metadata: ["finetune_state": json], to: url)
        } catch {
            throw FinetuneError.unwritableOutput(path: url.path, reason: "cannot save the training state (\(AtomicDirectory.describe(error)))")
        }
    }

    /// The saved state, checked against this run's fingerprint, and the file holding its tensors.
    func readState(_ url: URL, fingerprint: String) throws -> (State, SafetensorsFile) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FinetuneError.cannotResume(path: url.path, reason: "no saved training state (the run finished, or never started)")
        }
        // A damaged or truncated checkpoint is an error that says so, never a fresh start.
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(path: url.path)
        } catch let error as ModelError {
            guard case .malformedCheckpoint(_, let reason) = error else { throw error }
            throw FinetuneError.cannotResume(path: url.path, reason: "the saved training state is damaged or truncated (\(reason))")
        }
        guard file.hasChecksum else {
            throw FinetuneError.cannotResume(path: url.path, reason: "the saved training state records no checksum (an older version wrote it), so it cannot be verified")
        }
        guard let json = file.metadata["finetune_state"],
              let state = try? JSONDecoder().decode(State.self, from: Data(json.utf8)) else {
            throw FinetuneError.cannotResume(path: url.path, reason: "the file holds no readable training state")
        }
        guard state.fingerprint == fingerprint else {
            throw FinetuneError.cannotResume(path: url.path, reason: "it was saved by a run with other options, data or model")
        }
        return (state, file)
    }

    /// Weights and AdamW moments from a saved state.
    func loadParameters(from file: SafetensorsFile, into parameters: ParameterSet) throws {
        for p in parameters.all {
            for (prefix, buffer) in [("value", p.value), ("m", p.m), ("v", p.v)] {
                let name = "\(prefix).\(p.name)"
                guard file.shape(of: name) == p.shape else {
                    throw FinetuneError.cannotResume(path: file.path, reason: "tensor '\(name)' is missing or has the wrong shape")
                }
                buffer.pointer.update(from: try file.tensor(name).pointer, count: p.count)
            }
        }
    }
}
