import Foundation
import Testing
@testable import BERT

/// Inputs that crashed a parser or broke one of its properties, found by tools/fuzz or by
/// reading the code while writing the fuzz targets; each must now be a typed, one-line error.
/// The fuzz-found ones are also kept as fuzz inputs under tools/fuzzers/regressions/.
@Suite struct ParserRegressionTests {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("tools/fuzzers/regressions")

    func temporaryFile(_ name: String, _ data: Data) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func safetensors(header json: String) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        return data + Data(json.utf8)
    }

    func expectMalformed(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = try temporaryFile("model.safetensors", safetensors(header: json) + Data(count: 16))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            _ = try SafetensorsFile(path: url.path)
            Issue.record("accepted \(json)", sourceLocation: sourceLocation)
        } catch let error as ModelError {
            guard case .malformedCheckpoint(let path, _) = error else {
                Issue.record("\(error)", sourceLocation: sourceLocation)
                return
            }
            #expect(path == url.path, sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        }
    }

    /// 2^62 F32 elements: the byte count 2^64 overflowed (a trap) before the size check.
    @Test func shapeWhoseByteCountOverflows() throws {
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[1073741824,4294967296],"data_offsets":[0,16]}}"#)
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}"#)
        try expectMalformed(#"{"x":{"dtype":"F16","shape":[3037000500,3037000500],"data_offsets":[0,16]}}"#)
    }

    /// Metadata that is not all strings was dropped, and with it the checksum to verify.
    @Test func metadataThatIsNotStrings() throws {
        try expectMalformed(#"{"__metadata__":{"checksum":3},"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#)
    }

    /// Fractional or out-of-range numbers were truncated by NSNumber.intValue (1.5 read as 1,
    /// 1e300 as Int.min) instead of rejected.
    @Test func numbersThatAreNotIntegers() throws {
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#)
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0000001]}}"#)
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[1e300],"data_offsets":[0,4]}}"#)
        try expectMalformed(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551615,3]}}"#)
    }

    /// pad_token_id near Int.max: the RoBERTa position offset pad_token_id + 1 overflowed.
    @Test func configWithAHugePadTokenId() throws {
        let url = try temporaryFile("config.json", Data(#"{"model_type":"roberta","pad_token_id":9223372036854775807}"#.utf8))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(throws: ModelError.self) { try Config.load(from: url) }
    }

    /// A JSON key with a line break, quoted in the error, made it two lines (fuzz: config).
    @Test func configErrorQuotingALineBreakStaysOneLine() throws {
        let data = try Data(contentsOf: Self.regressions.appendingPathComponent("config/multiline-error-key.json"))
        let url = try temporaryFile("config.json", data)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            _ = try Config.load(from: url)
            Issue.record("accepted")
        } catch let error as ModelError {
            guard case .invalidConfig = error else { Issue.record("\(error)"); return }
            #expect(!error.description.contains("\n") && error.description.contains("\\n"), "\(error)")
        }
    }

    /// An empty dataset file (fuzz: dataset; reading it leaked 4 KB in FileManager).
    @Test(arguments: ["csv", "tsv", "jsonl"])
    func emptyDatasetFile(format: String) throws {
        let url = try temporaryFile("train.\(format)", Data())
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(throws: DatasetError.empty(path: url.path)) { try Dataset(contentsOf: url) }
    }

    /// A header or label with a line break is quoted escaped, on one line.
    @Test func datasetErrorQuotingALineBreakStaysOneLine() throws {
        let url = try temporaryFile("train.csv", Data("\"te\nxt\",label\nx,\n".utf8))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            _ = try Dataset(contentsOf: url)
            Issue.record("accepted")
        } catch let error as DatasetError {
            #expect(!error.description.contains("\n"), "\(error)")
        }
    }

    /// A JSON Lines label of 1e300 became "-9223372036854775808" (NSNumber.intValue).
    @Test func jsonLabelBeyondIntegers() throws {
        let url = try temporaryFile("train.jsonl", Data(#"{"text":"a","label":1e300}"#.utf8 + [0x0A]))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        #expect(throws: DatasetError.self) { try Dataset(contentsOf: url) }
    }
}
