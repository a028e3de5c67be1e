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

    /// Whether a lone batch runs on two threads of ours (`Lanes`, one OpenBLAS thread
    /// each) rather than on OpenBLAS's threads, when two or more workers are allowed.
    /// On unless `BERT_LANES=0`.
    nonisolated(unsafe) public static var laneSplit: Bool = {
        ProcessInfo.processInfo.environment["BERT_LANES"] != "0"
    }()
}

extension Encoder {
    /// Runs `encodings` through the encoder in batches of similar length, so each batch
    /// pads only to its own longest row. `body` gets each batch's indices into
    /// `encodings`, the batch, and its last hidden states (B, T, C); calls to `body` never
    /// overlap, but come in no particular order.
    func run(_ encodings: [Encoding], batchSize: Int, padId: Int, workers: Int = Threading.batchWorkers,
             _ body: ([Int], Batch, Tensor) -> Void) {
        let chunks = Self.batches(lengths: encodings.map(\.count), batchSize: batchSize)
        let requested = workers, workers = min(workers, chunks.count)
        let (C, I) = (config.hiddenSize, config.intermediateSize)
        guard workers > 1 else {
            let scratch = Scratch(hidden: C, intermediate: I)
            // A lone batch (one sentence, say) on our two lanes, when two workers were allowed.
            let lanes = requested > 1 && Threading.laneSplit ? Lanes.shared.acquire() : nil
            let saved = BLAS.threads
            if lanes != nil { BLAS.threads = 1 }
            defer {
                if let lanes {
                    BLAS.threads = saved
                    lanes.release()
                }
            }
            for chunk in chunks {
                let batch = Batch(chunk.map { encodings[$0] }, padId: padId)
                body(chunk, batch, self(batch, scratch: scratch, lanes: lanes))
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
