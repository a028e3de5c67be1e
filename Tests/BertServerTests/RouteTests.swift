import BERT
import Foundation
import Testing

/// Every route of a real `bert serve` (all-MiniLM-L6-v2, sentiment, and a tiny cross-encoder),
/// each answer compared with the library's own for the same input: the façades are
/// golden-tested against sentence-transformers and transformers in BERTTests; here the
/// server must give their numbers (to 1e-5 absolute: a batch made of other inputs may sum
/// in another order) in TEI's and OpenAI's shapes.
@Suite(.serialized) struct RouteTests {
    static let tolerance: Float = 1e-5
    static let texts = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.", "Hello"]
    static let embedder = Result(catching: { try SentenceEmbedder(directory: ModelDirectory(url: URL(fileURLWithPath: ServerProcess.model("all-MiniLM-L6-v2")))) })
    static let sentiment = Result(catching: { try TextClassifier(directory: ModelDirectory(url: URL(fileURLWithPath: ServerProcess.model("sentiment")))) })
    static let reranker = Result(catching: { try TextClassifier(directory: ModelDirectory(url: URL(fileURLWithPath: ServerProcess.reranker))) })

    @Test func teiRoutes() async throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let expected = try Self.embedder.get().embed(Self.texts)

        // /embed: a list, a single string, token ids, dimensions (cut, then normalized), normalize false.
        let embed = try await server.post("/embed", ["inputs": Self.texts])
        #expect(embed.status == 200)
        #expect(embed.headers["content-type"] == "application/json")
        let rows = (embed.json as? [Any] ?? []).map(floats)
        #expect(rows.count == 4)
        for (row, want) in zip(rows, expected) { #expect(maxDifference(row, want) <= Self.tolerance) }
        for header in ["x-compute-time", "x-queue-time", "x-tokenization-time", "x-inference-time"] {
            #expect(embed.headers[header].flatMap(Int.init) != nil, "header \(header)")
        }
        let single = try await server.post("/embed", ["inputs": Self.texts[0]])
        #expect(maxDifference(floats((single.json as? [Any])?.first), expected[0]) <= Self.tolerance)
        let ids = try Self.embedder.get().tokenizer.encode(Self.texts[1]).ids
        let byIds = try await server.post("/embed", ["inputs": [ids]])
        #expect(maxDifference(floats((byIds.json as? [Any])?.first), expected[1]) <= Self.tolerance)
        let cut = try await server.post("/embed", ["inputs": Self.texts[2], "dimensions": 8])
        #expect(maxDifference(floats((cut.json as? [Any])?.first), Pooling.unitLength(Array(expected[2].prefix(8)))) <= Self.tolerance)
        let raw = try await server.post("/embed", ["inputs": Self.texts[3], "normalize": false])
        let rawVector = floats((raw.json as? [Any])?.first)
        #expect(maxDifference(Pooling.unitLength(rawVector), expected[3]) <= Self.tolerance)
        #expect(abs(rawVector.reduce(0) { $0 + $1 * $1 }.squareRoot() - 1) > 1e-3, "normalize false leaves the mean-pooled length")

        // /embed_all: every token's state; mean over them is the pooled vector before normalization.
        let all = try await server.post("/embed_all", ["inputs": [Self.texts[0]]])
        let states = try Self.embedder.get().lastHiddenStates([Self.texts[0]])[0]
        let tokens = ((all.json as? [Any])?.first as? [Any] ?? []).map(floats)
        #expect(tokens.count == states.count)
        for (got, want) in zip(tokens, states) { #expect(maxDifference(got, want) <= Self.tolerance) }

        // /similarity: cosine of the source to each sentence.
        let sim = try await server.post("/similarity", ["inputs": ["source_sentence": Self.texts[0], "sentences": Array(Self.texts[1...])]])
        let cosines = floats(sim.json)
        #expect(cosines.count == 3)
        for (i, c) in cosines.enumerated() { #expect(abs(c - SentenceEmbedder.cosine(expected[0], expected[i + 1])) <= Self.tolerance) }

        // /predict: single, pair, batch; labels sorted by score; raw_scores gives logits.
        let classifier = try Self.sentiment.get()
        let reviews = ["I loved this movie", "a dull, lifeless film"]
        let want = try classifier.classify(reviews)
        let predict = try await server.post("/predict", ["inputs": reviews[0]])
        let labels = predict.json as? [[String: Any]] ?? []
        #expect(labels.map { $0["label"] as? String } == want[0].scores.sorted { $0.score > $1.score }.map(\.label))
        for l in labels {
            let label = l["label"] as! String
            #expect(abs(Float((l["score"] as! NSNumber).doubleValue) - want[0].scores.first { $0.label == label }!.score) <= Self.tolerance)
        }
        let batch = try await server.post("/predict", ["inputs": [[reviews[0]], [reviews[1]]]])
        #expect((batch.json as? [[Any]])?.count == 2)
        let rawScores = try await server.post("/predict", ["inputs": reviews[1], "raw_scores": true])
        let logits = try classifier.logits([reviews[1]])[0]
        for l in rawScores.json as? [[String: Any]] ?? [] {
            let i = classifier.labels.firstIndex(of: l["label"] as! String)!
            #expect(abs(Float((l["score"] as! NSNumber).doubleValue) - logits[i]) <= Self.tolerance)
        }
        let pair = try await server.post("/predict", ["inputs": ["a question", "an answer"], "model": "regression"])
        let pairLogit = try Self.reranker.get().logits(["a question"], pairs: ["an answer"])[0][0]
        #expect(abs(Float(((pair.json as? [[String: Any]])?.first?["score"] as? NSNumber)?.doubleValue ?? .nan) - pairLogit) <= Self.tolerance)

        // /rerank: sigmoid of the cross-encoder's logit per (query, text), best first; return_text.
        let documents = ["Paris is the capital of France.", "Bananas are yellow.", "France is in Europe."]
        let rerank = try await server.post("/rerank", ["query": "capital of France", "texts": documents, "return_text": true])
        let ranks = rerank.json as? [[String: Any]] ?? []
        let pairLogits = try Self.reranker.get().logits(Array(repeating: "capital of France", count: 3), pairs: documents).map { $0[0] }
        let sigmoid = pairLogits.map { 1 / (1 + exp(-$0)) }
        #expect(ranks.map { $0["index"] as? Int } == sigmoid.indices.sorted { sigmoid[$0] > sigmoid[$1] })
        for r in ranks {
            let i = r["index"] as! Int
            #expect(abs(Float((r["score"] as! NSNumber).doubleValue) - sigmoid[i]) <= Self.tolerance)
            #expect(r["text"] as? String == documents[i])
        }

        // /tokenize: ids as the tokenizer's, text as the covered span, specials flagged without offsets.
        let text = "Hello, wörld!"
        let encoding = try Self.embedder.get().tokenizer.encode(text)
        let tokenized = try await server.post("/tokenize", ["inputs": text])
        let row = (tokenized.json as? [[[String: Any]]])?.first ?? []
        #expect(row.map { $0["id"] as? Int } == encoding.ids)
        #expect(row.first?["special"] as? Bool == true && row.first?["start"] is NSNull)
        #expect(row.map { $0["text"] as? String } == ["[CLS]", "Hello", ",", "wörld", "!", "[SEP]"])
        #expect(row[3]["start"] as? Int == 7 && row[3]["stop"] as? Int == 12)
        let bare = try await server.post("/tokenize", ["inputs": [text], "add_special_tokens": false])
        #expect((bare.json as? [[[String: Any]]])?.first?.count == encoding.count - 2)

        // /decode against transformers' BertTokenizerFast.decode.
        let golden = try JSONDecoder().decode(DecodeGolden.self, from: Data(contentsOf: ServerProcess.root.appendingPathComponent("Tests/BertServerTests/Resources/decode_golden.json")))
        for r in golden.records {
            let decoded = try await server.post("/decode", ["ids": r.ids, "skip_special_tokens": r.skip_special_tokens])
            #expect((decoded.json as? [String])?.first == r.text, "decode \(r.ids) skip \(r.skip_special_tokens)")
        }

        // /info, /health, POST / (the first model is an embedder: /embed), GET /metrics.
        let info = try await server.get("/info").object
        #expect(info["served_model_name"] as? String == "all-MiniLM-L6-v2")
        #expect((info["model_type"] as? [String: Any])?["embedding"] != nil)
        #expect(info["max_input_length"] as? Int == 256)
        #expect((info["models"] as? [Any])?.count == 3)
        let sentimentInfo = try await server.get("/info?model=sentiment").object
        #expect(((sentimentInfo["model_type"] as? [String: Any])?["classifier"] as? [String: Any])?["id2label"] as? [String: String] == ["0": "negative", "1": "positive"])
        #expect(try await server.get("/health").status == 200)
        let root = try await server.post("/", ["inputs": Self.texts[0]])
        #expect(maxDifference(floats((root.json as? [Any])?.first), expected[0]) <= Self.tolerance)
        let metrics = try await server.get("/metrics")
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        for name in ["te_request_count", "te_request_success", "te_request_duration", "te_request_queue_duration",
                     "te_request_tokenization_duration", "te_request_inference_duration", "te_batch_next_size",
                     "te_batch_next_tokens", "te_queue_size"] {
            #expect(metrics.text.contains("# TYPE \(name) "), "metric \(name)")
        }
        #expect(metrics.text.contains(#"te_request_success{method="embed"} 5"#))
    }

    struct DecodeGolden: Decodable {
        struct Record: Decodable { let ids: [Int]; let skip_special_tokens: Bool; let text: String }
        struct Model: Decodable { let model: String; let records: [Record] }
        let records: [Record]
        let sentencepiece: Model
    }

    /// /decode of a SentencePiece model against the tokenizers library's decode (TEI's): the
    /// Metaspace decoder, specials skipped or kept, on multilingual-e5-small's own ids.
    @Test func decodeSentencePiece() async throws {
        let golden = try JSONDecoder().decode(DecodeGolden.self, from: Data(contentsOf: ServerProcess.root.appendingPathComponent("Tests/BertServerTests/Resources/decode_golden.json"))).sentencepiece
        let server = try ServerProcess(["--model", ServerProcess.model(golden.model)])
        defer { #expect(server.stop() == 0) }
        for r in golden.records {
            let decoded = try await server.post("/decode", ["ids": r.ids, "skip_special_tokens": r.skip_special_tokens])
            #expect((decoded.json as? [String])?.first == r.text, "decode \(r.ids) skip \(r.skip_special_tokens)")
        }
        #expect(try await server.post("/decode", ["ids": [250_002]]).status == 422)
    }

    @Test func openAIAndRerankRoutes() async throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let embedder = try Self.embedder.get()
        let expected = try embedder.embed(Self.texts)
        let tokens = try Self.texts.map { try embedder.tokenizer.encode($0).count }.reduce(0, +)

        let float = try await server.post("/v1/embeddings", ["input": Self.texts, "model": "all-MiniLM-L6-v2"]).object
        #expect(float["object"] as? String == "list")
        #expect(float["model"] as? String == "all-MiniLM-L6-v2")
        #expect((float["usage"] as? [String: Int]) == ["prompt_tokens": tokens, "total_tokens": tokens])
        let data = float["data"] as? [[String: Any]] ?? []
        #expect(data.map { $0["index"] as? Int } == [0, 1, 2, 3])
        #expect(data.allSatisfy { $0["object"] as? String == "embedding" })
        for (d, want) in zip(data, expected) { #expect(maxDifference(floats(d["embedding"]), want) <= Self.tolerance) }

        let base64 = try await server.post("/v1/embeddings", ["input": Self.texts[0], "encoding_format": "base64"]).object
        let encoded = ((base64["data"] as? [[String: Any]])?.first?["embedding"] as? String).flatMap { Data(base64Encoded: $0) } ?? Data()
        let decoded = encoded.withUnsafeBytes { raw in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        #expect(maxDifference(decoded, expected[0]) <= Self.tolerance)

        let ids = try embedder.tokenizer.encode(Self.texts[1]).ids
        let byIds = try await server.post("/v1/embeddings", ["input": [ids, ids]]).object
        for d in byIds["data"] as? [[String: Any]] ?? [] { #expect(maxDifference(floats(d["embedding"]), expected[1]) <= Self.tolerance) }
        #expect((byIds["usage"] as? [String: Int])?["prompt_tokens"] == 2 * ids.count)
        let short = try await server.post("/v1/embeddings", ["input": Self.texts[2], "dimensions": 16]).object
        #expect(floats((short["data"] as? [[String: Any]])?.first?["embedding"]).count == 16)

        let models = try await server.get("/v1/models").object
        #expect(models["object"] as? String == "list")
        #expect((models["data"] as? [[String: Any]])?.map { $0["id"] as? String } == ["all-MiniLM-L6-v2", "sentiment", "regression"])

        let documents = ["Paris is the capital of France.", "Bananas are yellow.", "France is in Europe."]
        let logits = try Self.reranker.get().logits(Array(repeating: "capital of France", count: 3), pairs: documents).map { $0[0] }
        let scores = logits.map { 1 / (1 + exp(-$0)) }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        for path in ["/v1/rerank", "/v2/rerank"] {
            let reply = try await server.post(path, ["query": "capital of France", "documents": documents, "top_n": 2, "return_documents": true]).object
            let results = reply["results"] as? [[String: Any]] ?? []
            #expect(results.map { $0["index"] as? Int } == Array(order.prefix(2)), "\(path)")
            for r in results {
                let i = r["index"] as! Int
                #expect(abs(Float((r["relevance_score"] as! NSNumber).doubleValue) - scores[i]) <= Self.tolerance)
                #expect((r["document"] as? [String: String])?["text"] == documents[i])
            }
        }
        let objects = try await server.post("/v1/rerank", ["query": "q", "documents": [["text": "a"], ["text": "b"]]]).object
        #expect((objects["results"] as? [Any])?.count == 2)
    }
}
