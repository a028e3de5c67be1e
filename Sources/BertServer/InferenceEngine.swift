import BERT
import CoreMetrics
import Foundation
import Kernels
import Tokenizers

/// What the engine computes for one input.
enum Work: Sendable, Equatable {
    /// The pooled sentence vector (C), not normalized.
    case pooled
    /// Every token's last hidden state (T, C).
    case tokenStates
    /// The classifier's logits (L).
    case logits
}

/// One input's answer and how long it waited and ran.
struct Inferred: Sendable {
    enum Value: Sendable {
        case vector([Float])
        case matrix([[Float]])
    }
    let value: Value
    let queueTime: Duration
    let inferenceTime: Duration

    var vector: [Float] {
        if case .vector(let v) = value { return v }
        return []
    }
    var matrix: [[Float]] {
        if case .matrix(let m) = value { return m }
        return []
    }
}

/// One queue for every input of every request, and `threads` threads that run it.
///
/// Requests add their inputs one by one; as soon as the engine is free it draws a batch:
/// the oldest input, then every queued input for the same model and work, oldest first,
/// while the batch stays within `maxBatchTokens` real tokens (the encoder packs by length,
/// longest together, so padding is not counted). A client batch larger than that is run in
/// several batches. Each thread draws its own batch when it is free, so with two, one batch
/// runs while the other's answers go out and its clients send again: under many one-input
/// clients a single thread left a third of the two cores idle in that gap (measured, see
/// README). The façades take concurrent calls; each call's results do not depend on what
/// else runs (SeamRegressionTests).
/// The queue holds only inputs that hold a permit (`Permits`), so it is bounded.
final class InferenceEngine: @unchecked Sendable {
    private struct Item {
        let request: UInt64
        let index: Int
        let model: ServedModel
        let work: Work
        let encoding: Encoding
        let enqueued: ContinuousClock.Instant
        let collector: Collector
    }

    /// Gathers one request's answers and resumes it once, when the last arrives or on failure.
    private final class Collector: @unchecked Sendable {
        private var results: [Inferred?]
        private var remaining: Int
        private var continuation: CheckedContinuation<[Inferred], any Error>?
        private let lock = NSLock()

        init(count: Int, continuation: CheckedContinuation<[Inferred], any Error>) {
            results = Array(repeating: nil, count: count)
            remaining = count
            self.continuation = continuation
        }

        func deliver(_ index: Int, _ value: Inferred) {
            lock.lock()
            guard continuation != nil, results[index] == nil else { lock.unlock(); return }
            results[index] = value
            remaining -= 1
            let done = remaining == 0 ? continuation : nil
            if done != nil { continuation = nil }
            let all = results
            lock.unlock()
            done?.resume(returning: all.map { $0! })
        }

        func fail(_ error: any Error) {
            lock.lock()
            let c = continuation
            continuation = nil
            lock.unlock()
            c?.resume(throwing: error)
        }
    }

    let maxBatchTokens: Int
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var stopping = false
    private var running = 0
    private var nextRequest: UInt64 = 0
    private let metrics: ServerMetrics
    /// Threads started and not yet ended.
    private var started = false
    let threads: Int

    init(maxBatchTokens: Int, threads: Int, metrics: ServerMetrics) {
        precondition(threads > 0)
        self.maxBatchTokens = maxBatchTokens
        self.threads = threads
        self.metrics = metrics
    }

    func start() {
        condition.withLock {
            started = true
            running = threads
        }
        for _ in 0..<threads {
            let thread = Thread { [self] in loop() }
            thread.name = "bert-inference"
            thread.stackSize = 16 << 20
            thread.start()
        }
    }

    /// Lets the threads finish what is queued, then end; waits for them.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while started && running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Runs `encodings` (already checked against the model) and returns one answer per
    /// encoding, in order. A cancelled request's queued inputs leave the queue.
    func run(_ encodings: [Encoding], model: ServedModel, work: Work) async throws -> [Inferred] {
        if encodings.isEmpty { return [] }
        let request = newRequestNumber()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let collector = Collector(count: encodings.count, continuation: continuation)
                let now = ContinuousClock.now
                condition.lock()
                if stopping || Task.isCancelled {
                    condition.unlock()
                    if !stopping { metrics.cancelledInputs.increment(by: encodings.count) }
                    collector.fail(stopping ? APIError(kind: .unhealthy, message: "the server is shutting down") : CancellationError())
                    return
                }
                for (i, e) in encodings.enumerated() {
                    queue.append(Item(request: request, index: i, model: model, work: work, encoding: e, enqueued: now, collector: collector))
                }
                metrics.queueSize.record(queue.count)
                condition.signal()
                condition.unlock()
            }
        } onCancel: {
            drop(request: request)
        }
    }

    private func newRequestNumber() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextRequest += 1
        return nextRequest
    }

    private func drop(request: UInt64) {
        condition.lock()
        let dropped = queue.filter { $0.request == request }
        queue.removeAll { $0.request == request }
        metrics.queueSize.record(queue.count)
        condition.unlock()
        metrics.cancelledInputs.increment(by: dropped.count)
        dropped.first?.collector.fail(CancellationError())
    }

    private func loop() {
        while let batch = nextBatch() {
            let started = ContinuousClock.now
            let encodings = batch.map(\.encoding)
            metrics.batchSize.record(batch.count)
            metrics.batchTokens.record(encodings.reduce(0) { $0 + $1.count })
            do {
                let values = try compute(encodings, model: batch[0].model, work: batch[0].work)
                let ended = ContinuousClock.now
                for (item, value) in zip(batch, values) {
                    item.collector.deliver(item.index, Inferred(value: value, queueTime: started - item.enqueued, inferenceTime: ended - started))
                }
            } catch {
                let failure = APIError(kind: .backend, message: "inference failed: \(error)")
                for item in batch { item.collector.fail(failure) }
            }
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for work; nil once stopping and empty.
    private func nextBatch() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let first = queue[0]
        var taken: [Item] = [], kept: [Item] = [], tokens = 0
        kept.reserveCapacity(queue.count)
        for item in queue {
            if item.model === first.model, item.work == first.work,
               taken.isEmpty || tokens + item.encoding.count <= maxBatchTokens {
                taken.append(item)
                tokens += item.encoding.count
            } else {
                kept.append(item)
            }
        }
        queue = kept
        metrics.queueSize.record(queue.count)
        return taken
    }

    private func compute(_ encodings: [Encoding], model: ServedModel, work: Work) throws -> [Inferred.Value] {
        switch (model.facade, work) {
        case (.embedder(let e), .pooled):
            return try e.pooled(encodings: encodings).map { .vector($0) }
        case (.embedder(let e), .tokenStates):
            return try e.tokenStates(encodings: encodings).map { .matrix($0) }
        case (.classifier(let c), .logits):
            return try c.logits(checked: encodings).map { .vector($0) }
        default:
            throw APIError(kind: .backend, message: "model '\(model.name)' cannot compute \(work)")
        }
    }
}

/// Per-input admission: a request takes one permit per input or is refused at once (429).
final class Permits: Sendable {
    let limit: Int
    private let used = Locked(0)
    private let gauge: CoreMetrics.Gauge?
    /// Inputs ever admitted (what a test waits on: a gauge can fall before it is read).
    private let total: CoreMetrics.Counter?

    init(limit: Int, gauge: CoreMetrics.Gauge? = nil, total: CoreMetrics.Counter? = nil) {
        self.limit = limit
        self.gauge = gauge
        self.total = total
    }

    func acquire(_ n: Int) -> Bool {
        used.withLock { used in
            guard used + n <= limit else { return false }
            used += n
            gauge?.record(used)
            total?.increment(by: n)
            return true
        }
    }

    func release(_ n: Int) {
        used.withLock { used in
            used -= n
            gauge?.record(used)
        }
    }

    var inUse: Int { used.withLock { $0 } }
}
