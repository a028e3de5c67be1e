import BERT
import Foundation
import Logging
import Tokenizers

/// Everything a route needs: the models, the engine, the limits.
final class ServerState: Sendable {
    let options: ServerOptions
    let models: ModelSet
    let engine: InferenceEngine
    let permits: Permits
    let metrics: ServerMetrics
    let logger: Logger
    let connections = ConnectionWatch()

    init(options: ServerOptions, models: ModelSet, metrics: ServerMetrics, logger: Logger) {
        self.options = options
        self.models = models
        self.metrics = metrics
        self.logger = logger
        engine = InferenceEngine(maxBatchTokens: options.maxBatchTokens, threads: options.inferenceThreads, metrics: metrics)
        permits = Permits(limit: options.maxConcurrentRequests, gauge: metrics.admitted, total: metrics.admittedTotal)
    }

    /// What one inference call returns to a route.
    struct Answer {
        let values: [Inferred]
        /// Real tokens over every input (OpenAI's usage counts).
        let tokens: Int
        let timings: Timings
    }

    /// Admits `count` inputs (400 if none, 422 over --max-client-batch-size, 429 without
    /// permits), tokenizes them with `encode`, and runs them.
    func infer(count: Int, model: ServedModel, work: Work, encode: (Int) throws -> Encoding) async throws -> Answer {
        guard count > 0 else { throw APIError.empty() }
        guard count <= options.maxClientBatchSize else {
            throw APIError.validation("\(count) inputs is more than --max-client-batch-size \(options.maxClientBatchSize); send them in smaller requests")
        }
        guard permits.acquire(count) else {
            throw APIError(kind: .overloaded, message: "the model is overloaded: \(options.maxConcurrentRequests) inputs are already admitted; retry later")
        }
        defer { permits.release(count) }
        let clock = ContinuousClock()
        let start = clock.now
        let encodings = try (0..<count).map(encode)
        do {
            try model.config.check(encodings)
        } catch let error as ServingError {
            throw APIError.validation("\(error)")
        }
        var timings = Timings(tokenization: clock.now - start)
        let values = try await engine.run(encodings, model: model, work: work)
        timings.queue = values.map(\.queueTime).max() ?? .zero
        timings.inference = values.map(\.inferenceTime).max() ?? .zero
        return Answer(values: values, tokens: encodings.reduce(0) { $0 + $1.count }, timings: timings)
    }

    /// A one-token forward pass through every model, as /health and the warm-up do.
    func healthCheck() async throws {
        for model in models.models {
            let first = try model.tokenizer.encode("", pair: nil, maxLength: nil, truncation: .longestFirst).ids[0]
            let one = Encoding(ids: [first], tokens: [""], typeIds: [0], attentionMask: [1], offsets: [0..<0])
            guard permits.acquire(1) else { throw APIError(kind: .overloaded, message: "the model is overloaded; retry later") }
            defer { permits.release(1) }
            let out = try await engine.run([one], model: model, work: model.kind == .embedding ? .pooled : .logits)
            guard let v = out.first?.vector, !v.isEmpty, v.allSatisfy(\.isFinite) else {
                throw APIError(kind: .unhealthy, message: "model '\(model.name)' gave no finite output for one token")
            }
        }
    }
}
