import ArgumentParser
import BERT
import BertServer
import Foundation

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the models over HTTP: Text Embeddings Inference's routes and OpenAI's /v1/embeddings.",
        discussion: "The port opens once every model is loaded and warmed up. SIGTERM or SIGINT stops accepting, "
            + "answers every accepted request, and exits 0. Routes: GET /openapi.json.")

    @Option(name: .customLong("model"), help: "A model directory, or the name of one under models/ (repeat for several).")
    var models: [String] = []
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 8080
    @Option(help: "Real tokens per forward pass.") var maxBatchTokens = 16384
    @Option(help: "Batches run at once, each on its own thread (1...64); two keep both cores busy under many one-input clients.")
    var inferenceThreads = 2
    @Option(help: "Inputs admitted at once over all requests; past that, 429.") var maxConcurrentRequests = 512
    @Option(help: "Inputs in one request; past that, 422.") var maxClientBatchSize = 1024
    @Option(help: "Bytes in one request body; past that, 413.") var payloadLimit = 2_000_000
    @Option(help: "Require Authorization: Bearer KEY on every route but /health.") var apiKey: String?
    @Flag(inversion: .prefixedNo, help: "Cut inputs over the model's length (else 422), unless a request says truncate.")
    var autoTruncate = true
    @Option(help: "Seconds a connection may stay idle before it is closed.") var idleTimeout = 60
    @Option(help: "Seconds a request body may take to arrive; past that, 408 and the connection closes.") var bodyTimeout = 30

    var options: ServerOptions {
        var o = ServerOptions(models: models.isEmpty ? ["all-MiniLM-L6-v2"] : models)
        o.host = host
        o.port = port
        o.maxBatchTokens = maxBatchTokens
        o.inferenceThreads = inferenceThreads
        o.maxConcurrentRequests = maxConcurrentRequests
        o.maxClientBatchSize = maxClientBatchSize
        o.payloadLimit = payloadLimit
        o.apiKey = apiKey
        o.autoTruncate = autoTruncate
        o.idleTimeout = idleTimeout
        o.bodyTimeout = bodyTimeout
        o.precision = precision.precision
        return o
    }

    func validate() throws {
        if let problem = options.problem() { throw ValidationError(problem) }
    }

    func run() throws {
        try reportingErrors {
            let host = self.host
            try BertHTTPServer(options: options).runUntilSignalled { port in
                emit("listening on http://\(host):\(port)")
            }
        }
    }
}
