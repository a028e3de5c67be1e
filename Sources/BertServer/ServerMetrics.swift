import CoreMetrics
import Metrics
import Prometheus

/// The server's metrics, under TEI's names, through swift-metrics into a Prometheus
/// registry of this server's own (no process-wide bootstrap).
final class ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    let queueSize: CoreMetrics.Gauge
    let batchSize: CoreMetrics.Recorder
    let batchTokens: CoreMetrics.Recorder
    /// Inputs holding a permit (queued or running); not one of TEI's.
    let admitted: CoreMetrics.Gauge
    let admittedTotal: CoreMetrics.Counter
    /// Inputs never run because their request was cancelled (its client disconnected): dropped
    /// from the queue, or refused on the way in.
    let cancelledInputs: CoreMetrics.Counter

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let sizes: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        factory.valueHistogramBuckets = [
            "te_batch_next_size": sizes,
            "te_batch_next_tokens": sizes.map { $0 * 16 },
        ]
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
        ]
        self.factory = factory
        queueSize = CoreMetrics.Gauge(label: "te_queue_size", factory: factory)
        batchSize = CoreMetrics.Recorder(label: "te_batch_next_size", aggregate: true, factory: factory)
        batchTokens = CoreMetrics.Recorder(label: "te_batch_next_tokens", aggregate: true, factory: factory)
        admitted = CoreMetrics.Gauge(label: "bert_inputs_admitted", factory: factory)
        admittedTotal = CoreMetrics.Counter(label: "bert_inputs_admitted_total", factory: factory)
        cancelledInputs = CoreMetrics.Counter(label: "bert_inputs_cancelled_total", factory: factory)
    }

    /// One finished request on `route`: counts, and on success its timings.
    func record(route: String, failure: APIError.Kind?, timings: Timings?) {
        let method = [("method", route)]
        CoreMetrics.Counter(label: "te_request_count", dimensions: method, factory: factory).increment()
        if let failure {
            CoreMetrics.Counter(label: "te_request_failure", dimensions: method + [("err", failure.teiType)], factory: factory).increment()
            return
        }
        CoreMetrics.Counter(label: "te_request_success", dimensions: method, factory: factory).increment()
        guard let timings else { return }
        CoreMetrics.Timer(label: "te_request_duration", dimensions: method, factory: factory).record(duration: timings.total)
        CoreMetrics.Timer(label: "te_request_tokenization_duration", dimensions: method, factory: factory).record(duration: timings.tokenization)
        CoreMetrics.Timer(label: "te_request_queue_duration", dimensions: method, factory: factory).record(duration: timings.queue)
        CoreMetrics.Timer(label: "te_request_inference_duration", dimensions: method, factory: factory).record(duration: timings.inference)
    }

    func text() -> String { registry.emitToString() }
}

/// Where one request's time went.
struct Timings: Sendable {
    var total: Duration = .zero
    var tokenization: Duration = .zero
    var queue: Duration = .zero
    var inference: Duration = .zero
}
