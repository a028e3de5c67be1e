import BERT
import Foundation
import Testing

/// Many clients at once, and SIGTERM with requests in flight.
@Suite(.serialized) struct LoadTests {
    /// 32 sentences of different lengths, so that the engine's batches mix clients.
    static let sentences = (0..<32).map { i in
        "Sentence \(i): " + Array(repeating: ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dogs"][i % 8], count: 1 + i % 13).joined(separator: " ")
    }

    /// 32 clients each send one sentence at once (and 4 more send 8 each): every answer is
    /// SentenceEmbedder.embed's for that sentence, to 1e-5 absolute, whatever batch it ran in
    /// and whichever of the engine's threads ran it (one, the default two, four).
    @Test(arguments: [1, 2, 4]) func concurrentClients(threads: Int) async throws {
        let server = try ServerProcess(["--model", ServerProcess.model("all-MiniLM-L6-v2"), "--max-batch-tokens", "512",
                                        "--inference-threads", "\(threads)"])
        defer { #expect(server.stop() == 0) }
        let expected = try SentenceEmbedder(directory: ModelDirectory(url: URL(fileURLWithPath: ServerProcess.model("all-MiniLM-L6-v2")))).embed(Self.sentences)
        let answers = try await withThrowingTaskGroup(of: (Int, [[Float]], Int).self) { group in
            for i in Self.sentences.indices {
                group.addTask {
                    let reply = try await server.post("/embed", ["inputs": Self.sentences[i]])
                    return (i, (reply.json as? [Any] ?? []).map(floats), reply.status)
                }
            }
            for k in 0..<4 {
                group.addTask {
                    let reply = try await server.post("/v1/embeddings", ["input": Array(Self.sentences[k * 8..<(k + 1) * 8])])
                    let rows = (reply.object["data"] as? [[String: Any]] ?? []).map { floats($0["embedding"]) }
                    return (1000 + k, rows, reply.status)
                }
            }
            return try await group.reduce(into: [(Int, [[Float]], Int)]()) { $0.append($1) }
        }
        #expect(answers.count == 36)
        for (i, rows, status) in answers {
            #expect(status == 200)
            if i < 1000 {
                #expect(rows.count == 1 && maxDifference(rows[0], expected[i]) <= 1e-5, "sentence \(i)")
            } else {
                let k = i - 1000
                #expect(rows.count == 8)
                for (j, row) in rows.enumerated() { #expect(maxDifference(row, expected[k * 8 + j]) <= 1e-5, "batch \(k) row \(j)") }
            }
        }
        // Batches held several clients' inputs: fewer batches than the 64 inputs.
        let metrics = try await server.get("/metrics").text
        let batches = metrics.split(separator: "\n").first { $0.hasPrefix("te_batch_next_size_count") }
            .flatMap { Int($0.split(separator: " ").last!) } ?? 0
        #expect(batches > 0 && batches < 64, "\(batches) batches for 64 inputs")
    }

    /// An engine thread count outside 1...64 is refused before anything loads, saying why.
    @Test(arguments: ["0", "65"]) func inferenceThreadsOutOfRangeAreRefused(value: String) throws {
        let process = Process()
        process.executableURL = try ServerProcess.bert()
        process.arguments = ["serve", "--model", ServerProcess.model("all-MiniLM-L6-v2"), "--port", "0", "--inference-threads", value]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("--inference-threads \(value) is not 1...64"), "\(text)")
    }

    /// SIGTERM while requests are queued and running: each accepted request is answered in
    /// full, the process exits 0, and the port then refuses connections.
    @Test func gracefulShutdown() async throws {
        let server = try ServerProcess(["--model", ServerProcess.model("all-MiniLM-L6-v2"), "--max-batch-tokens", "256"])
        let batch = Array(Self.sentences.prefix(16))
        func admittedTotal() async throws -> Double? {
            let text = try await server.get("/metrics").text
            return text.split(separator: "\n").first(where: { $0.hasPrefix("bert_inputs_admitted_total ") })
                .flatMap { Double($0.split(separator: " ").last!) }
        }
        let before = try await admittedTotal() ?? 0  // the warm-up's inputs count too
        let requests = Task {
            try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for i in 0..<4 {
                    group.addTask { (i, try await server.post("/embed", ["inputs": batch]).status) }
                }
                return try await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
            }
        }
        // Wait until all 4 requests were accepted (their 64 inputs took permits, counted by
        // bert_inputs_admitted_total, which, unlike the gauge, cannot fall before it is read), then signal.
        var admitted = false
        for _ in 0..<1000 where !admitted {
            try await Task.sleep(for: .milliseconds(10))
            if let n = try await admittedTotal(), n >= before + 64 { admitted = true }
        }
        #expect(admitted, "the requests never reached the queue")
        kill(server.process.processIdentifier, SIGTERM)
        let statuses = try await requests.value
        #expect(statuses.count == 4)
        #expect(statuses.allSatisfy { $0.1 == 200 }, "\(statuses)")
        #expect(server.stop() == 0)
        await #expect(throws: (any Error).self) { try await server.get("/health") }
    }
}
