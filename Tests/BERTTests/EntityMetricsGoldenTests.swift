import Foundation
import Testing
@testable import BERT

/// EntityMetrics against seqeval (tools/golden/seqeval_figures.py) on fixed tag sequences,
/// ill-formed ones included: precision, recall, F1 and accuracy within 1e-12.
struct EntityMetricsGoldenTests {
    struct Case: Decodable { let gold: [[String]], predicted: [[String]], precision: Double, recall: Double, f1: Double, accuracy: Double }

    @Test func matchesSeqeval() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Checkout.resources.appendingPathComponent("seqeval_golden.json")))
        #expect(cases.count == 11)
        for (k, c) in cases.enumerated() {
            let m = EntityMetrics(predicted: c.predicted, gold: c.gold)
            #expect(abs(m.precision - c.precision) < 1e-12, "case \(k) precision \(m.precision) vs \(c.precision)")
            #expect(abs(m.recall - c.recall) < 1e-12, "case \(k) recall \(m.recall) vs \(c.recall)")
            #expect(abs(m.f1 - c.f1) < 1e-12, "case \(k) F1 \(m.f1) vs \(c.f1)")
            #expect(abs(m.accuracy - c.accuracy) < 1e-12, "case \(k) accuracy \(m.accuracy) vs \(c.accuracy)")
        }
    }
}
