import BERT
import Dispatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `bert serve`: TEI's and OpenAI's HTTP APIs over the served models.
///
///     let server = try BertHTTPServer(options: ServerOptions(models: ["all-MiniLM-L6-v2"]))
///     try server.runUntilSignalled()   // loads, warms up, listens; returns after SIGTERM/SIGINT
public final class BertHTTPServer: Sendable {
    public static let version = "0.1.0"
    let state: ServerState

    /// Loads every model (nothing listens yet).
    public init(options: ServerOptions, logger: Logger = Logger(label: "bert-serve")) throws {
        if let problem = options.problem() { throw ServerError.invalidOption(problem) }
        var seen = Set<String>()
        let models = try options.models.map { spec -> ServedModel in
            let m = try ServedModel(loading: spec, precision: options.precision)
            guard seen.insert(m.name).inserted else { throw ServerError.invalidOption("--model \(spec): a model named '\(m.name)' is already served") }
            guard options.maxBatchTokens >= m.maxLength else {
                throw ServerError.invalidOption("--max-batch-tokens \(options.maxBatchTokens) is below \(m.name)'s input limit of \(m.maxLength) tokens")
            }
            return m
        }
        state = ServerState(options: options, models: ModelSet(models: models), metrics: ServerMetrics(), logger: logger)
    }

    /// Warms every model up with a one-token forward pass, opens the port, and serves
    /// until SIGTERM or SIGINT; then stops accepting, answers what was accepted, returns.
    /// `onListening` gets the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let state = self.state
        state.engine.start()
        defer { state.engine.stop() }
        do {
            try await state.healthCheck()
        } catch {
            throw ServerError.warmUpFailed("\(error)")
        }
        let options = state.options
        let app = Application(
            router: Routes.router(state),
            server: .http1(configuration: .init(additionalChannelHandlers: [state.connections.handler()],
                                                idleTimeout: .seconds(Int64(options.idleTimeout)))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "bert-serve"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                state.logger.info("listening", metadata: ["address": "http://\(options.host):\(port)",
                                                          "models": "\(state.models.models.map(\.name).joined(separator: ","))"])
                onListening(port)
            },
            logger: state.logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: state.logger))
        try await group.run()
        state.logger.info("stopped")
    }

    /// `run` for synchronous callers (the command line): blocks until the server has stopped.
    public func runUntilSignalled(onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await self.run(onListening: onListening) } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    private final class Outcome: @unchecked Sendable {
        var error: (any Error)?
    }
}

/// Why the server cannot start.
public enum ServerError: Error, CustomStringConvertible {
    case invalidOption(String)
    case warmUpFailed(String)

    public var description: String {
        switch self {
        case .invalidOption(let s): return s
        case .warmUpFailed(let s): return "warm-up forward pass failed: \(s); check the model directory (tools/convert)"
        }
    }
}
