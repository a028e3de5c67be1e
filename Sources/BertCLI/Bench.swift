import ArgumentParser
import BERT
import Foundation
import Kernels

/// `bert bench`: hidden; the in-process timings tools/bench asks of our side. It prints
/// one JSON object; tools/bench compares it with PyTorch and ONNX Runtime.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time embedding in-process for tools/bench (prints one JSON object).",
        shouldDisplay: false)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Sentences, one per line.")
    var sentences: String?
    @Flag(help: "Time full fine-tuning steps instead (forward, backward, AdamW) on random tokens.")
    var trainStep = false
    @Option(help: "Tokens per row for --train-step.")
    var length = 64
    @Option(help: "Timed steps for --train-step (after 2 warm-up steps).")
    var steps = 5
    @Option(help: "Sentences per forward pass.")
    var batchSize = 32
    @Option(help: "Timed passes over all sentences (after one warm-up pass).")
    var passes = 3
    @Option(help: "Timed single-sentence calls (after 10 warm-up calls).")
    var calls = 200
    @Option(help: "Square size of the sgemm that measures this machine's peak (0: skip).")
    var peakSize = 1536

    func validate() throws {
        if !trainStep, sentences == nil { throw ValidationError("--sentences is needed (or --train-step)") }
    }

    func run() throws {
        try reportingErrors {
            if trainStep {
                let seconds = try FineTuner.timeSteps(source: model.directory(default: "all-MiniLM-L6-v2"),
                                                      batchSize: batchSize, length: length, steps: steps,
                                                      precision: try precision.precision ?? Precision.fromEnvironment())
                emit("{\"core\":\(JSON.string(BLAS.coreName)),\"blas_threads\":\(BLAS.threads),\"step_seconds\":\(JSON.array(seconds) { "\($0)" })}")
                return
            }
            let text = try String(contentsOfFile: sentences!, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            let embedder = try SentenceEmbedder(directory: model.directory(default: "all-MiniLM-L6-v2"),
                                                precision: precision.precision)
            let c = embedder.config
            let lengths = try lines.map { try embedder.tokenizer.encode($0, maxLength: c.maxLength).count }
            // Useful work: the encoder's products over real tokens only (no padding), 2 flops a MAC.
            let perToken = 2.0 * Double(c.numHiddenLayers) * Double(4 * c.hiddenSize * c.hiddenSize + 2 * c.hiddenSize * c.intermediateSize)
            let attention = lengths.reduce(0.0) { $0 + 4.0 * Double(c.numHiddenLayers) * Double($1 * $1 * c.hiddenSize) }
            let flops = perToken * Double(lengths.reduce(0, +)) + attention

            _ = try embedder.embed(lines, batchSize: batchSize)
            var passTimes: [Double] = [], passCPU: [Double] = []
            for _ in 0..<passes {
                let (t, c) = (Self.clock(), Self.clock(CLOCK_PROCESS_CPUTIME_ID))
                _ = try embedder.embed(lines, batchSize: batchSize)
                passTimes.append(Self.clock() - t)
                passCPU.append(Self.clock(CLOCK_PROCESS_CPUTIME_ID) - c)
            }
            for i in 0..<10 { _ = try embedder.embed(lines[i % lines.count]) }
            var callTimes: [Double] = [], callCPU: [Double] = []
            for i in 0..<calls {
                let (t, c) = (Self.clock(), Self.clock(CLOCK_PROCESS_CPUTIME_ID))
                _ = try embedder.embed(lines[i % lines.count])
                callTimes.append(Self.clock() - t)
                callCPU.append(Self.clock(CLOCK_PROCESS_CPUTIME_ID) - c)
            }
            var peak = [String: Double]()
            if peakSize > 0 {
                let saved = BLAS.threads
                for threads in [1, ProcessInfo.processInfo.activeProcessorCount] {
                    BLAS.threads = threads
                    peak["\(threads)"] = Self.peakGflops(size: peakSize)
                }
                BLAS.threads = saved
            }
            let env = ProcessInfo.processInfo.environment
            let fields: [(String, String)] = [
                ("core", JSON.string(BLAS.coreName)),
                ("core_detected", JSON.string(BLAS.selection.detected)),
                ("precision", JSON.string(embedder.precision.rawValue)),
                ("product_engine", JSON.string(embedder.precision == .fp32
                    ? (F32Products.packed ? F32Products.engine : "OpenBLAS " + BLAS.coreName) : "oneDNN " + DNNL.version)),
                ("blas_threads", "\(BLAS.threads)"),
                ("workers", "\(embedder.context.workers)"),
                ("blas_threads_per_worker", "1"),
                ("lone_batch", JSON.string(embedder.context.splitsLoneBatch
                    ? "2 lanes × 1 OpenBLAS thread" : "1 thread")),
                ("openblas_coretype_env", env["OPENBLAS_CORETYPE"].map(JSON.string) ?? "null"),
                ("openblas_num_threads_env", env["OPENBLAS_NUM_THREADS"].map(JSON.string) ?? "null"),
                ("sentences", "\(lines.count)"),
                ("tokens", "\(lengths.reduce(0, +))"),
                ("useful_flops", "\(flops)"),
                ("pass_seconds", JSON.array(passTimes) { "\($0)" }),
                ("pass_cpu_seconds", JSON.array(passCPU) { "\($0)" }),
                ("call_seconds", JSON.array(callTimes) { "\($0)" }),
                ("call_cpu_seconds", JSON.array(callCPU) { "\($0)" }),
                ("peak_gflops", "{" + peak.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"),
            ]
            emit("{" + fields.map { "\(JSON.string($0.0)):\($0.1)" }.joined(separator: ",") + "}")
        }
    }

    /// Best rate of ten n×n×n sgemms, in GFLOP/s.
    static func peakGflops(size n: Int) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var out = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<10 {
            let t = Self.clock()
            Gemm.multiply(a, b, into: &out, m: n, n: n, k: n, transposeB: true)
            best = min(best, clock() - t)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    static func clock(_ id: clockid_t = CLOCK_MONOTONIC) -> Double {
        var t = timespec()
        clock_gettime(id, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
