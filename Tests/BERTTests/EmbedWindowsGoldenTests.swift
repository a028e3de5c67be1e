import Foundation
import Testing
@testable import BERT

/// What tools/golden/embed_windows.py wrote from sentence-transformers over the tokenizer's windows.
struct EmbedWindowsGolden: Decodable {
    struct Stride: Decodable { let windows: [Int]; let embeddings: [[Double]] }
    let model: String
    let maxLength: Int
    let texts: [String]
    let strides: [String: Stride]

    static func load() throws -> EmbedWindowsGolden {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(EmbedWindowsGolden.self,
                                  from: Data(contentsOf: Checkout.resources.appendingPathComponent("embed_windows_golden.json")))
    }
}

@Suite struct EmbedWindowsGoldenTests {
    /// all-MiniLM-L6-v2 (models/ from tools/setup) in windows of 256 tokens: every stride's
    /// windows as many as the tokenizer's, vectors within 1e-5 of the reference.
    @Test func windowsMatchSentenceTransformers() throws {
        let golden = try EmbedWindowsGolden.load()
        let embedder = try SentenceEmbedder(directory: Checkout.model(golden.model))
        #expect(embedder.config.maxLength == golden.maxLength)
        for (key, reference) in golden.strides.sorted(by: { $0.key < $1.key }) {
            let overlap = try #require(Int(key))
            let windows = try golden.texts.map {
                try embedder.tokenizer.encode($0, pair: nil, maxLength: Int.max, truncation: .longestFirst)
                    .windows(maxLength: golden.maxLength, overlap: overlap).count
            }
            #expect(windows == reference.windows, "stride \(key)")
            let ours = try embedder.embed(golden.texts, windowOverlap: overlap, batchSize: 3)
            for (k, (a, b)) in zip(ours, reference.embeddings).enumerated() {
                let d = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
                #expect(d < 1e-5, "stride \(key) text \(k): \(d)")
            }
            // A text that fits is one window: the plain embedding.
            let plain = try embedder.embed([golden.texts[0]])[0]
            #expect(zip(plain, ours[0]).allSatisfy { abs($0 - $1) < 1e-6 })
        }
        #expect(throws: ModelError.self) { try embedder.embed(["a"], windowOverlap: golden.maxLength) }
        #expect(throws: ModelError.self) { try embedder.embed(["a"], windowOverlap: -1) }
    }

    /// NPYWriter writes the bytes numpy.save wrote for the same float32 rows.
    @Test func npyBytesAreNumpys() throws {
        let golden = try EmbedWindowsGolden.load()
        let rows = try #require(golden.strides["0"]).embeddings.map { $0.map(Float.init) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.npy")
        let writer = try NPYWriter(url: url, width: rows[0].count)
        for r in rows { try writer.append(r) }
        #expect(!FileManager.default.fileExists(atPath: url.path), "renamed into place only by finish()")
        try writer.finish()
        let numpy = try Data(contentsOf: Checkout.resources.appendingPathComponent("embed_windows_golden.npy"))
        #expect(try Data(contentsOf: url) == numpy)
        // A writer dropped unfinished leaves nothing behind.
        do { _ = try NPYWriter(url: dir.appendingPathComponent("dropped.npy"), width: 3) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.npy"])
        // The header keeps its length whatever the count (numpy's 21 digits of room).
        #expect(NPYWriter.header(rows: 0, width: 384).count == NPYWriter.header(rows: Int.max, width: 384).count)
        #expect(NPYWriter.header(rows: 7, width: 384).count % 64 == 0)
        #expect(throws: (any Error).self) { try NPYWriter(url: URL(fileURLWithPath: "/nonexistent/dir/x.npy"), width: 3) }
    }
}
