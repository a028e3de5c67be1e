import Hummingbird
import NIOCore
import Kernels

/// The request context of every route: Hummingbird's basic context plus the connection
/// the request came on, so that a request's work can end when its client goes away.
struct ServeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Cancels the work of requests whose client goes away before they are answered: a client
/// that disconnects loses its queued inputs (the engine drops a cancelled request's queue
/// entries), not anyone else's.
///
/// Hummingbird allows remote half-closure, so a client's close reaches the server as the
/// end of the connection's input (`ChannelEvent.inputClosed`), which `ClientGoneHandler`
/// in each connection's pipeline reports here; the channel itself stays open until the
/// handler answers. What is held is bounded by the requests in flight and the open
/// connections whose client has gone.
final class ConnectionWatch: Sendable {
    private struct State {
        /// Per connection, the cancel of each request in flight on it.
        var running: [ObjectIdentifier: [UInt64: @Sendable () -> Void]] = [:]
        /// Connections whose input has ended and that are not yet closed.
        var gone: Set<ObjectIdentifier> = []
        var next: UInt64 = 0
    }
    private let state = Locked(State())

    /// Runs `work`, cancelling it if `channel`'s client goes away first.
    func run<T: Sendable>(on channel: any Channel, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        let key = ObjectIdentifier(channel)
        let (token, gone) = state.withLock { s -> (UInt64, Bool) in
            s.next += 1
            s.running[key, default: [:]][s.next] = { task.cancel() }
            return (s.next, s.gone.contains(key))
        }
        if gone { task.cancel() }
        defer {
            state.withLock { s in
                s.running[key]?.removeValue(forKey: token)
                if s.running[key]?.isEmpty == true { s.running[key] = nil }
            }
        }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    fileprivate func inputClosed(_ key: ObjectIdentifier) {
        let cancels = state.withLock { s -> [@Sendable () -> Void] in
            s.gone.insert(key)
            return s.running[key].map { Array($0.values) } ?? []
        }
        for cancel in cancels { cancel() }
    }

    fileprivate func closed(_ key: ObjectIdentifier) {
        inputClosed(key)
        state.withLock { _ = $0.gone.remove(key) }
    }

    /// A new handler for one connection's pipeline.
    func handler() -> ClientGoneHandler { ClientGoneHandler(watch: self) }
}

/// Reports the end of a connection's input, and its close, to the `ConnectionWatch`.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            watch.inputClosed(ObjectIdentifier(context.channel))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.closed(ObjectIdentifier(context.channel))
        context.fireChannelInactive()
    }
}
