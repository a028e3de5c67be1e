import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// What a route hands back: the response and, for inference routes, where the time went.
struct RouteResult: Sendable {
    var response: Response
    var timings: Timings?
    var tokens = 0
    var inputs = 0
}

extension ServerState {
    /// Runs one route: reads the body within --payload-limit (413) and --body-timeout, calls
    /// `body` (cancelled if the client's connection closes first), answers any `APIError` in
    /// the route's shape, adds TEI's timing headers, records the metrics and logs one line.
    func handle(_ route: String, _ request: Request, _ context: ServeContext,
                _ body: @escaping @Sendable (Data) async throws -> RouteResult) async -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let shape = ErrorShape(path: request.uri.path)
        var result: RouteResult
        var failure: APIError?
        do {
            let data = try await readBody(request, context.channel)
            result = try await connections.run(on: context.channel) { try await body(data) }
        } catch let error as APIError {
            failure = error
            result = RouteResult(response: shape.response(error))
        } catch is CancellationError {
            failure = APIError(kind: .cancelled, message: "the request was cancelled: its client disconnected")
            result = RouteResult(response: shape.response(failure!))
        } catch {
            failure = APIError(kind: .backend, message: "\(error)")
            result = RouteResult(response: shape.response(failure!))
        }
        let total = clock.now - start
        if var timings = result.timings, failure == nil {
            timings.total = total
            result.timings = timings
            let ms = { (d: Duration) in String(Int(d.milliseconds.rounded())) }
            result.response.headers[HTTPField.Name("x-compute-time")!] = ms(total)
            result.response.headers[HTTPField.Name("x-total-time")!] = ms(total)
            result.response.headers[HTTPField.Name("x-tokenization-time")!] = ms(timings.tokenization)
            result.response.headers[HTTPField.Name("x-queue-time")!] = ms(timings.queue)
            result.response.headers[HTTPField.Name("x-inference-time")!] = ms(timings.inference)
            result.response.headers[HTTPField.Name("x-compute-tokens")!] = String(result.tokens)
        }
        metrics.record(route: route, failure: failure?.kind, timings: failure == nil ? result.timings : nil)
        var line: Logger.Metadata = [
            "route": "\(route)", "status": "\(result.response.status.code)", "inputs": "\(result.inputs)",
            "tokens": "\(result.tokens)", "total_ms": "\(total.milliseconds)",
        ]
        if let t = result.timings {
            line["tokenization_ms"] = "\(t.tokenization.milliseconds)"
            line["queue_ms"] = "\(t.queue.milliseconds)"
            line["inference_ms"] = "\(t.inference.milliseconds)"
        }
        if let failure { line["error"] = "\(failure.message)" }
        logger.info("request", metadata: line)
        return result.response
    }

    /// The body, within --payload-limit (413) and --body-timeout seconds (408, and the
    /// connection's input is closed, so that a client trickling bytes cannot hold it).
    private func readBody(_ request: Request, _ channel: any Channel) async throws -> Data {
        let limit = options.payloadLimit, seconds = options.bodyTimeout
        let tooLarge = APIError(kind: .tooLarge, message: "the request body is over --payload-limit \(limit) bytes; send fewer or shorter inputs")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw tooLarge }
        do {
            return try await withThrowingTaskGroup(of: Data?.self) { group in
                group.addTask {
                    var buffer = try await request.body.collect(upTo: limit)
                    return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(seconds))
                    return nil
                }
                defer { group.cancelAll() }
                guard let body = try await group.next() ?? nil else {
                    channel.close(mode: .input, promise: nil)
                    throw APIError(kind: .timedOut, message: "the request body did not arrive within --body-timeout \(seconds) s")
                }
                return body
            }
        } catch is NIOTooManyBytesError {
            throw tooLarge
        }
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) * 1e-15
    }
}
