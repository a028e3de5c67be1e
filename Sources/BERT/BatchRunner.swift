import Foundation
import Kernels
import Tokenizers

/// How the runtime uses the machine's cores.
public enum Threading {
    /// Workers that each run whole batches, with one OpenBLAS thread each, when there are
    /// at least two batches. Defaults to the core count, or `BERT_WORKERS` when set.
    /// With one batch, or one worker, the batch runs alone on OpenBLAS's own threads.
    nonisolated(unsafe) public static var batchWorkers: Int = {
        if let s = ProcessInfo.processInfo.environment["BERT_WORKERS"], let n = Int(s), n > 0 { return n }
        return ProcessInfo.processInfo.activeProcessorCount
    }()
}

extension Encoder {
    /// Runs `encodings` through the encoder in batches of similar length, so each batch
    /// pads only to its own longest row. `body` gets each batch's indices into
    /// `encodings`, the batch, and its last hidden states (B, T, C); calls to `body` never
    /// overlap, but come in no particular order.
    func run(_ encodings: [Encoding], batchSize: Int, padId: Int, _ body: ([Int], Batch, Tensor) -> Void) {
        let size = max(batchSize, 1)
        let order = encodings.indices.sorted { encodings[$0].count < encodings[$1].count }
        // Longest first, so the last batches, taken while the other worker finishes, are short.
        let chunks = stride(from: 0, to: order.count, by: size).reversed().map {
            Array(order[$0..<min($0 + size, order.count)])
        }
        let workers = min(Threading.batchWorkers, chunks.count)
        let (C, I) = (config.hiddenSize, config.intermediateSize)
        guard workers > 1 else {
            let scratch = Scratch(hidden: C, intermediate: I)
            for chunk in chunks {
                let batch = Batch(chunk.map { encodings[$0] }, padId: padId)
                body(chunk, batch, self(batch, scratch: scratch))
            }
            return
        }
        // Small products split over OpenBLAS threads leave a core spinning through every
        // element-wise step; whole batches per core keep both busy.
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        withoutActuallyEscaping(body) { body in
            let queue = WorkQueue(count: chunks.count, body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let scratch = Scratch(hidden: C, intermediate: I)
                while let i = queue.next() {
                    let batch = Batch(chunks[i].map { encodings[$0] }, padId: padId)
                    let hidden = self(batch, scratch: scratch)
                    queue.deliver(chunks[i], batch, hidden)
                }
            }
        }
    }
}

/// Hands out 0..<count once each to whichever worker asks, and passes results to `body`
/// one at a time (so `body` needs no locking of its own).
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let count: Int
    private var taken = 0
    private let body: ([Int], Batch, Tensor) -> Void

    init(count: Int, body: @escaping ([Int], Batch, Tensor) -> Void) {
        self.count = count
        self.body = body
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < count else { return nil }
        taken += 1
        return taken - 1
    }

    func deliver(_ indices: [Int], _ batch: Batch, _ hidden: Tensor) {
        lock.lock()
        defer { lock.unlock() }
        body(indices, batch, hidden)
    }
}
