import Foundation
import Kernels

/// How the runtime uses the machine's cores, handed to `SentenceEmbedder`,
/// `TextClassifier` and `FineTuner` (each makes its own when given none):
///
///     let context = ExecutionContext(workers: 2)
///     let embedder = try SentenceEmbedder(model: "all-MiniLM-L6-v2", context: context)
///
/// - several batches: `workers` threads each take whole batches;
/// - one batch alone (a single sentence, say): two lanes, the caller and a helper thread
///   of this context, share its heads and each product's columns (unless `lanes` is off);
/// - training: each batch's two halves on two workers.
///
/// OpenBLAS runs one thread per product everywhere: the parallelism is ours (measured:
/// OpenBLAS's own threads on these small products spent a sixth of the time spinning).
/// Setting that once, the same way for every context, is what lets concurrent calls
/// never change each other's arithmetic.
public final class ExecutionContext: Sendable {
    /// Threads running whole batches at once; also the training workers (at most 2).
    public let workers: Int
    /// Whether a lone batch uses two lanes.
    public let lanes: Bool
    /// The lone batch's helper thread, started on first use.
    let laneHelper = Lanes()

    /// - Parameters:
    ///   - workers: default `BERT_WORKERS` when set, else the core count.
    ///   - lanes: default on unless `BERT_LANES=0`.
    public init(workers: Int? = nil, lanes: Bool? = nil) {
        let env = ProcessInfo.processInfo.environment
        let fromEnvironment = env["BERT_WORKERS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
        self.workers = max(1, workers ?? fromEnvironment ?? ProcessInfo.processInfo.activeProcessorCount)
        self.lanes = lanes ?? (env["BERT_LANES"] != "0")
        BLAS.threads = 1
    }

    deinit { laneHelper.stop() }

    /// Workers splitting each training batch: two where there are two cores, else one.
    public var trainingWorkers: Int { min(workers, 2) }

    /// The lanes for one lone batch, if this context uses them and no other pass holds them.
    func acquireLanes() -> Lanes? { workers > 1 && lanes ? laneHelper.acquire() : nil }

    /// Whether a batch running alone is cut in the lanes' parts (whether or not it gets them).
    public var splitsLoneBatch: Bool { workers > 1 && lanes }
}
