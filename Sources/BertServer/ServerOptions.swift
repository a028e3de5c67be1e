import BERT

/// What `bert serve` was asked for; every limit the server enforces comes from here.
public struct ServerOptions: Sendable {
    /// Model directories or names under models/; the first able to answer a route does, unless a request names one.
    public var models: [String]
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed when the server listens).
    public var port = 8080
    /// Real tokens per forward pass (padding is not counted: the engine packs by length).
    public var maxBatchTokens = 16384
    /// Batches run at once, each drawn by its own thread when it is free (see `InferenceEngine`).
    public var inferenceThreads = 2
    /// Inputs admitted at once, over all requests; past that, 429.
    public var maxConcurrentRequests = 512
    /// Inputs in one request; past that, 422.
    public var maxClientBatchSize = 1024
    /// Bytes in one request body; past that, 413.
    public var payloadLimit = 2_000_000
    /// When set, every route but /health needs `Authorization: Bearer KEY`.
    public var apiKey: String?
    /// Whether inputs over the model's length are cut (else 422), unless a request says `truncate`.
    public var autoTruncate = true
    public var precision: Precision?
    /// Seconds a connection may stay idle before it is closed.
    public var idleTimeout = 60
    /// Seconds a request body may take to arrive; past that, 408 and the connection closes.
    public var bodyTimeout = 30

    public init(models: [String]) { self.models = models }

    /// The first problem with these options, in the flags' words.
    public func problem() -> String? {
        if models.isEmpty { return "--model: give at least one model" }
        if !(0...65535).contains(port) { return "--port \(port) is not a port (0...65535)" }
        if maxBatchTokens < 1 { return "--max-batch-tokens must be positive" }
        if !(1...64).contains(inferenceThreads) { return "--inference-threads \(inferenceThreads) is not 1...64" }
        if maxConcurrentRequests < 1 { return "--max-concurrent-requests must be positive" }
        if maxClientBatchSize < 1 { return "--max-client-batch-size must be positive" }
        if payloadLimit < 1 { return "--payload-limit must be positive" }
        if idleTimeout < 1 { return "--idle-timeout must be positive" }
        if bodyTimeout < 1 { return "--body-timeout must be positive" }
        if let k = apiKey, k.isEmpty { return "--api-key must not be empty" }
        return nil
    }
}
