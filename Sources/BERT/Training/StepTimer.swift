import Foundation
import Tokenizers

extension FineTuner {
    /// Seconds per full fine-tuning step — forward, backward and AdamW over every tensor,
    /// dropout 0.1 — on `batchSize` rows of `length` seeded random tokens with two labels,
    /// after two warm-up steps; what tools/bench compares with PyTorch's step.
    ///
    ///     let seconds = try FineTuner.timeSteps(source: dir, batchSize: 32, length: 64, steps: 5)
    public static func timeSteps(source: ModelDirectory, batchSize: Int, length: Int, steps: Int,
                                 precision: Precision = .fp32, context: ExecutionContext? = nil) throws -> [Double] {
        try precision.checkForTraining()
        let context = context ?? ExecutionContext()
        let config = source.config
        let tokenizer = try source.loadTokenizer()
        let checkpoint = try SafetensorsFile(path: source.url.appendingPathComponent("model.safetensors").path)
        let cls = try tokenizer.encode("", maxLength: length)  // the specials around an empty text
        var rng = SplitMix64(seed: 0)
        let encodings = (0..<batchSize).map { _ -> Encoding in
            let body = (0..<max(length - cls.count, 0)).map { _ in 1000 + Int(rng.next() % UInt64(min(config.vocabSize, 30000) - 1000)) }
            let ids = [cls.ids[0]] + body + Array(cls.ids.dropFirst())
            return Encoding(ids: ids, tokens: ids.map(String.init), typeIds: ids.map { _ in 0 },
                            attentionMask: ids.map { _ in 1 }, offsets: ids.map { _ in 0..<0 })
        }
        let model = try SequenceClassifierTraining(
            config: config, checkpoint: checkpoint,
            head: .new(features: config.architecture.sequenceClassifier, labels: ["0", "1"], seed: 0),
            encodings: encodings, padId: tokenizer.padId, dropout: 0.1, workers: context.trainingWorkers, precision: precision)
        let optimizer = Optimizer(model.parameters, learningRate: 2e-5, schedule: LinearSchedule(totalSteps: steps + 2), step: 0)
        let rows = Array(0..<batchSize), labels = rows.map { $0 % 2 }
        var dropout: SplitMix64? = SplitMix64(seed: 1)
        var seconds: [Double] = []
        for k in 0..<(steps + 2) {
            let start = Date()
            _ = model.run(rows, labels: labels, training: true, rng: &dropout)
            _ = optimizer.apply()
            if k >= 2 { seconds.append(Date().timeIntervalSince(start)) }
        }
        return seconds
    }
}
