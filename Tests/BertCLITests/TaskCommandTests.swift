import Foundation
import Testing

/// `bert classify --candidate-labels`, `bert answer` and `bert embed --stride --output` as a user
/// runs them, against the pipelines' goldens (tools/golden/zero_shot.py, question_answering.py,
/// embed_windows.py).
struct TaskCommandTests {
    static let resources = TokenizeCommandTests.root.appendingPathComponent("Tests/BERTTests/Resources")

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: resources.appendingPathComponent(path)))
    }

    @Test func zeroShotJSONIsThePipelines() throws {
        let golden = try #require((try Self.json("nli/zero_shot_golden.json") as? [String: Any])?["bert"] as? [String: Any])
        let c = try #require((golden["cases"] as? [[String: Any]])?[1])  // multi-label
        let labels = try #require(c["candidate_labels"] as? [String])
        let texts = try #require(c["texts"] as? [String])
        let expected = try #require(c["pipeline"] as? [[String: Any]])
        let r = try TokenizeCommandTests.run(["classify", "--model", "Tests/BERTTests/Resources/nli/bert", "--json", "--multi-label",
                                              "--candidate-labels", labels.joined(separator: ","), texts[0], texts[1]])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        for (line, e) in zip(lines, expected) {
            let ours = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(ours["sequence"] as? String == e["sequence"] as? String)
            #expect(ours["labels"] as? [String] == e["labels"] as? [String])
            for (a, b) in zip(ours["scores"] as? [Double] ?? [], e["scores"] as? [Double] ?? []) { #expect(abs(a - b) < 1e-5) }
        }
        let empty = try TokenizeCommandTests.run(["classify", "--model", "Tests/BERTTests/Resources/nli/bert", "--candidate-labels", " ,", "x"])
        #expect(empty.status != 0 && empty.stderr.contains("--candidate-labels is empty"))
    }

    @Test func answerJSONIsThePipelines() throws {
        let golden = try #require((try Self.json("qa/question_answering_golden.json") as? [String: Any])?["bert"] as? [String: Any])
        let c = try #require((golden["cases"] as? [[String: Any]])?[5])  // the long context, top 3
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("context-\(UUID().uuidString).txt")
        try Data((c["context"] as! String).utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try TokenizeCommandTests.run(["answer", "--model", "Tests/BERTTests/Resources/qa/bert", "--json", "--top-k", "\(c["top_k"] as! Int)",
                                              "--context-file", file.path, c["question"] as! String])
        #expect(r.status == 0, "\(r.stderr)")
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let expected = try #require(c["answers"] as? [[String: Any]])
        #expect(ours.map { $0["answer"] as? String } == expected.map { $0["answer"] as? String })
        #expect(ours.map { $0["start"] as? Int } == expected.map { $0["start"] as? Int })
        for (a, b) in zip(ours, expected) { #expect(abs((a["score"] as! Double) - (b["score"] as! Double)) < 1e-5) }
        let noHead = try TokenizeCommandTests.run(["answer", "--model", "Tests/BERTTests/Resources/nli/bert", "--context", "x", "y"])
        #expect(noHead.status != 0 && noHead.stderr.contains("no question-answering head"))
    }

    /// The vectors in the .npy, row by row, are sentence-transformers' over the same windows.
    @Test func embedStrideToNPY() throws {
        guard FileManager.default.fileExists(atPath: TokenizeCommandTests.root.appendingPathComponent("models/all-MiniLM-L6-v2/config.json").path) else {
            Issue.record("models/all-MiniLM-L6-v2 is missing: run tools/setup first")
            return
        }
        let golden = try #require(try Self.json("embed_windows_golden.json") as? [String: Any])
        let texts = try #require(golden["texts"] as? [String])
        let expected = try #require(((golden["strides"] as? [String: Any])?["64"] as? [String: Any])?["embeddings"] as? [[Double]])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("v.npy")
        let r = try TokenizeCommandTests.run(["embed", "--stride", "64", "--output", out.path] + texts)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty && r.stderr.contains("(\(texts.count) × 384 float32)"))
        let data = try Data(contentsOf: out)
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.contains("'shape': (\(texts.count), 384)"))
        let floats = data[(10 + headerLength)...].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(floats.count == texts.count * 384)
        for (k, row) in expected.enumerated() {
            let d = zip(floats[(k * 384)..<((k + 1) * 384)], row).map { abs(Double($0) - $1) }.max() ?? 1
            #expect(d < 1e-5, "text \(k): \(d)")
        }
    }
}
