import Foundation
import Kernels
import Tokenizers

extension Encoder {
    /// Runs `encodings` through the encoder in batches of similar length, so each batch
    /// pads only to its own longest row; refuses encodings the tables cannot take
    /// (`check`). `body` gets each batch's indices into `encodings`, the batch, and its
    /// last hidden states (B, T, C); calls to `body` never overlap, but come in no
    /// particular order.
    func run(_ encodings: [Encoding], batchSize: Int, padId: Int, context: ExecutionContext,
             _ body: ([Int], Batch, Tensor) -> Void) throws {
        try check(encodings)
        let chunks = Self.batches(lengths: encodings.map(\.count), batchSize: batchSize)
        let workers = min(context.workers, chunks.count)
        guard workers > 1 else {
            let scratch = Scratch(config: config)
            // A lone batch (one sentence, say): cut in two parts, on the lanes when free.
            let lone = chunks.count == 1 && context.splitsLoneBatch
            let lanes = lone ? context.acquireLanes() : nil
            defer { lanes?.release() }
            for chunk in chunks {
                let batch = Batch(chunk.map { encodings[$0] }, padId: padId)
                body(chunk, batch, self(batch, scratch: scratch, lone: lone, lanes: lanes))
            }
            return
        }
        // Small products split over OpenBLAS threads leave a core spinning through every
        // element-wise step; whole batches per core keep both busy.
        withoutActuallyEscaping(body) { body in
            let queue = WorkQueue(count: chunks.count, body: body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let scratch = Scratch(config: config)
                while let i = queue.next() {
                    let batch = Batch(chunks[i].map { encodings[$0] }, padId: padId)
                    let hidden = self(batch, scratch: scratch)
                    queue.deliver(chunks[i], batch, hidden)
                }
            }
        }
    }
}

extension Encoder {
    /// Rows (B·T, padding included) a batch may hold: bigger batches are cut in parts, which
    /// keeps each worker's scratch near 8 MB (MiniLM) and changes no result.
    static let maxBatchRows = 1024

    /// Indices into `lengths`, grouped into batches of at most `batchSize` texts of similar
    /// length and at most `maxBatchRows` padded rows, longest batch first (so the last ones,
    /// taken while another worker finishes, are short).
    static func batches(lengths: [Int], batchSize: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] > lengths[$1] }
        var batches: [[Int]] = []
        var current: [Int] = []
        for i in order {
            // sorted longest first: the batch's first text sets its padded length
            let longest = current.first.map { lengths[$0] } ?? lengths[i]
            if !current.isEmpty, current.count >= max(batchSize, 1) || (current.count + 1) * longest > maxBatchRows {
                batches.append(current)
                current = []
            }
            current.append(i)
        }
        if !current.isEmpty { batches.append(current) }
        return batches
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
