import Foundation
import Testing
@testable import BERT

/// A broken model directory gives one typed error whose one-line description names the
/// file and says what to do; never a crash.
@Suite struct MalformedModelTests {
    func loadError(_ model: TinyModel) -> Error? {
        do {
            let embedder = try SentenceEmbedder(directory: ModelDirectory(url: model.url))
            _ = try embedder.embed(["the cat sat"])
            return nil
        } catch {
            return error
        }
    }

    func expectOneLine(_ error: Error?, naming file: URL, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = "\(error.map { "\($0)" } ?? "no error")"
        #expect(error != nil, sourceLocation: sourceLocation)
        #expect(!text.contains("\n"), sourceLocation: sourceLocation)
        #expect(text.contains(file.path), "\(text)", sourceLocation: sourceLocation)
        #expect(text.contains("tools/"), "\(text)", sourceLocation: sourceLocation)
    }

    @Test func theTinyModelLoadsAndRuns() throws {
        let model = try TinyModel()
        defer { model.remove() }
        #expect(loadError(model) == nil)
    }

    @Test func missingTensor() throws {
        var model = try TinyModel()
        defer { model.remove() }
        model.tensors["encoder.layer.1.attention.self.key.bias"] = nil
        try model.write()
        let error = loadError(model)
        #expect(error as? ModelError == .missingTensor(path: model.checkpointURL.path, name: "encoder.layer.1.attention.self.key.bias"))
        expectOneLine(error, naming: model.checkpointURL)
    }

    @Test func extraTensor() throws {
        var model = try TinyModel()
        defer { model.remove() }
        model.tensors["cls.predictions.bias"] = Tensor(zeros: [13])
        try model.write()
        let error = loadError(model)
        #expect(error as? ModelError == .unexpectedTensors(path: model.checkpointURL.path, names: ["cls.predictions.bias"]))
        expectOneLine(error, naming: model.checkpointURL)
    }

    @Test func wrongShape() throws {
        var model = try TinyModel()
        defer { model.remove() }
        model.tensors["encoder.layer.0.intermediate.dense.weight"] = Tensor(zeros: [8, 12])
        try model.write()
        let error = loadError(model)
        #expect(error as? ModelError == .shapeMismatch(
            path: model.checkpointURL.path, name: "encoder.layer.0.intermediate.dense.weight", expected: [12, 8], actual: [8, 12]))
        expectOneLine(error, naming: model.checkpointURL)
    }

    @Test(arguments: [0, 4, 9, 100, -1])
    func truncatedCheckpoint(keep: Int) throws {
        let model = try TinyModel()
        defer { model.remove() }
        let data = try Data(contentsOf: model.checkpointURL)
        try data.prefix(keep >= 0 ? keep : data.count - 1).write(to: model.checkpointURL)
        let error = loadError(model)
        guard case .malformedCheckpoint = error as? ModelError else {
            Issue.record("expected malformedCheckpoint, got \(String(describing: error))")
            return
        }
        expectOneLine(error, naming: model.checkpointURL)
    }

    @Test func garbageHeader() throws {
        let model = try TinyModel()
        defer { model.remove() }
        var data = Data()
        withUnsafeBytes(of: UInt64(12).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data("{not json!!}".utf8))
        try data.write(to: model.checkpointURL)
        guard case .malformedCheckpoint = loadError(model) as? ModelError else {
            Issue.record("expected malformedCheckpoint")
            return
        }
    }

    @Test func unsupportedDType() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try rawSafetensors(["x": ("I64", [2], Data(count: 16))]).write(to: model.checkpointURL)
        let error = loadError(model)
        #expect(error as? ModelError == .unsupportedDType(path: model.checkpointURL.path, tensor: "x", dtype: "I64"))
        expectOneLine(error, naming: model.checkpointURL)
    }

    @Test func offsetsThatDisagreeWithTheShape() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try rawSafetensors(["x": ("F32", [3], Data(count: 8))]).write(to: model.checkpointURL)
        guard case .malformedCheckpoint = loadError(model) as? ModelError else {
            Issue.record("expected malformedCheckpoint")
            return
        }
    }

    @Test func halfAndBFloatWidenToFloat() throws {
        let model = try TinyModel()
        defer { model.remove() }
        let values: [Float] = [1.5, -2.25, 0.0078125]
        var f16 = Data(), bf16 = Data()
        for v in values {
            withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { f16.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bf16.append(contentsOf: $0) }
        }
        try rawSafetensors(["a": ("F16", [3], f16), "b": ("BF16", [3], bf16)]).write(to: model.checkpointURL)
        let file = try SafetensorsFile(path: model.checkpointURL.path)
        #expect(try file.tensor("a").values == values)
        #expect(try file.tensor("b").values == values)
    }

    @Test func writerRoundTrips() throws {
        let model = try TinyModel()
        defer { model.remove() }
        let file = try SafetensorsFile(path: model.checkpointURL.path)
        #expect(Set(file.names) == Set(model.tensors.keys))
        for (name, t) in model.tensors {
            #expect(try file.tensor(name).values == t.values)
            #expect(try file.tensor(name).shape == t.shape)
        }
    }

    @Test func missingVocabulary() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try FileManager.default.removeItem(at: model.vocabularyURL)
        let error = loadError(model)
        #expect(error as? ModelError == .missingFile(path: model.vocabularyURL.path))
        expectOneLine(error, naming: model.vocabularyURL)
    }

    @Test func missingConfig() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try FileManager.default.removeItem(at: model.configURL)
        let error = loadError(model)
        #expect(error as? ModelError == .missingFile(path: model.configURL.path))
    }

    @Test func missingCheckpoint() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try FileManager.default.removeItem(at: model.checkpointURL)
        let error = loadError(model)
        #expect(error as? ModelError == .missingFile(path: model.checkpointURL.path))
    }

    @Test(arguments: [
        ("hidden_size", "9", "multiple of num_attention_heads"),
        ("model_type", "\"gpt2\"", "model_type 'gpt2' is not supported"),
        ("hidden_act", "\"swish\"", "hidden_act 'swish'"),
        ("num_hidden_layers", "\"six\"", "num_hidden_layers"),
        ("vocab_size", "5", "vocab_size is 5"),
    ])
    func wrongConfig(key: String, json: String, says: String) throws {
        var model = try TinyModel()
        defer { model.remove() }
        model.config[key] = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        try model.write()
        let error = loadError(model)
        guard case .invalidConfig = error as? ModelError else {
            Issue.record("expected invalidConfig, got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains(says), "\(error!)")
        expectOneLine(error, naming: model.configURL)
    }

    @Test func configThatIsNotJSON() throws {
        let model = try TinyModel()
        defer { model.remove() }
        try Data("{\"hidden_size\": 8,".utf8).write(to: model.configURL)
        guard case .invalidConfig = loadError(model) as? ModelError else {
            Issue.record("expected invalidConfig")
            return
        }
    }

    @Test func unknownModelName() {
        #expect(throws: ModelError.self) { try ModelDirectory(resolving: "no-such-model-anywhere") }
    }

    /// A path that names something other than a model directory says what it is.
    @Test func unusableModelPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("paths-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let (a, b) = (root.appendingPathComponent("loop-a").path, root.appendingPathComponent("loop-b").path)
        try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: b)
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: a)
        #expect(throws: ModelError.modelPathUnusable(path: a, reason: "a loop of symbolic links")) { try ModelDirectory(resolving: a) }
        let dangling = root.appendingPathComponent("dangling").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: root.appendingPathComponent("gone").path)
        #expect(throws: ModelError.modelPathUnusable(path: dangling, reason: "a symbolic link to nothing")) { try ModelDirectory(resolving: dangling) }
        let file = root.appendingPathComponent("model.safetensors").path
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect(throws: ModelError.modelPathUnusable(path: file, reason: "a file, not a model directory")) { try ModelDirectory(resolving: file) }
        let missing = root.appendingPathComponent("missing").path
        #expect(throws: ModelError.modelNotFound(name: missing, searched: [missing])) { try ModelDirectory(resolving: missing) }
    }

    /// A safetensors file assembled by hand, for dtypes and offsets our writer never produces.
    func rawSafetensors(_ tensors: [String: (String, [Int], Data)]) throws -> Data {
        var header: [String: Any] = [:], body = Data()
        for name in tensors.keys.sorted() {
            let (dtype, shape, bytes) = tensors[name]!
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [body.count, body.count + bytes.count]]
            body.append(bytes)
        }
        let json = try JSONSerialization.data(withJSONObject: header)
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        return data + json + body
    }
}
