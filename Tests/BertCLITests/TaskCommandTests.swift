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
    /// `bert finetune --task embedding` then `bert evaluate --task sts` on its output: the
    /// evaluation's Spearman (x100) is the best epoch's validation Spearman on the same rows,
    /// and `bert embed` loads the output; scored rows without --loss are a one-line error.
    @Test func finetuneEmbeddingThenEvaluateSTS() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pairs = dir.appendingPathComponent("pairs.csv"), scored = dir.appendingPathComponent("sts.tsv")
        try "anchor,positive\nthe cat sat,a cat on the mat\nthe dog ran,a dog in the park\nbirds fly,a bird in the sky\nfish swim,a fish in the sea\n"
            .write(to: pairs, atomically: true, encoding: .utf8)
        try "sentence1\tsentence2\tscore\nthe cat sat\ta cat on the mat\t5\nthe dog ran\ta bird in the sky\t1\nfish swim\ta fish in the sea\t4\nbirds fly\tthe cat sat\t0\n"
            .write(to: scored, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out"), log = dir.appendingPathComponent("log.jsonl")
        let tiny = "Tests/BERTTests/Resources/heads/regression"
        let f = try TokenizeCommandTests.run(["finetune", pairs.path, "--task", "embedding", "--model", tiny, "--output", out.path,
                                              "--validation", scored.path, "--epochs", "1", "--batch-size", "2", "--json-log", log.path])
        #expect(f.status == 0, "\(f.stderr)")
        let epoch = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: log)) as? [String: Any])
        let e = try TokenizeCommandTests.run(["evaluate", scored.path, "--model", out.path, "--task", "sts", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let m = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        #expect(m["examples"] as? Int == 4)
        #expect(abs((m["spearman"] as? Double ?? .nan) - 100 * (epoch["spearman"] as? Double ?? .nan)) < 1e-3, "\(m) vs \(epoch)")
        #expect(try TokenizeCommandTests.run(["embed", "--model", out.path, "the cat"]).status == 0)
        let bad = try TokenizeCommandTests.run(["finetune", scored.path, "--task", "embedding", "--model", tiny, "--output", dir.appendingPathComponent("x").path])
        #expect(bad.status != 0 && bad.stderr.contains("pass --loss cosent or --loss cosine") && bad.stderr.split(separator: "\n").count == 1)
    }

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
