import Foundation
import Kernels
import Testing
@testable import BERT

/// Files SafetensorsWriter writes record an XXH64 checksum of all their bytes; opening one
/// verifies it, and a damaged checkpoint stops a resume with an error that says so.
@Suite struct ChecksumTests {
    func writeSample() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("checksum-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("model.safetensors")
        let values = (0..<1000).map { Float($0) * 0.25 - 7 }
        try SafetensorsWriter.write(["w": Tensor(shape: [10, 100], values: values), "b": Tensor(shape: [3], values: [1, 2, 3])],
                                    metadata: ["note": "a sample"], to: url)
        return url
    }

    func openError(_ url: URL) -> ModelError? {
        do { _ = try SafetensorsFile(path: url.path); return nil } catch { return error as? ModelError }
    }

    /// The recorded digest is XXH64 (the naive twin) of the file with its own digits read as "0".
    @Test func recordsTheXXH64OfItsBytes() throws {
        let url = try writeSample()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let file = try SafetensorsFile(path: url.path)
        #expect(file.hasChecksum && file.metadata["note"] == "a sample")
        let recorded = try #require(file.metadata["checksum"])
        #expect(recorded.hasPrefix("xxh64:") && recorded.count == 22)
        var bytes = [UInt8](try Data(contentsOf: url))
        let needle = Array(recorded.utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
        let start = at + 6
        for i in start..<start + 16 { bytes[i] = UInt8(ascii: "0") }
        #expect(XXH64.hex(XXH64.naive(bytes)) == String(recorded.dropFirst(6)))
    }

    /// One flipped bit anywhere after the length prefix: tensor bytes, header numbers, metadata,
    /// the checksum digits: a malformedCheckpoint error, never a silent load.
    @Test func anyFlippedBitIsCaught() throws {
        let url = try writeSample()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let original = try Data(contentsOf: url)
        var rng = SplitMix64(seed: 11)
        var positions = Array(stride(from: 8, to: original.count, by: 97))
        positions += (0..<40).map { _ in 8 + rng.below(original.count - 8) }
        for position in positions {
            var damaged = original
            damaged[position] ^= UInt8(1) << UInt8(rng.below(8))
            try damaged.write(to: url)
            let error = openError(url)
            guard case .malformedCheckpoint(let path, _) = error else {
                Issue.record("byte \(position) flipped: \(String(describing: error))")
                continue
            }
            #expect(path == url.path)
            #expect(!(error?.description.contains("\n") ?? true))
        }
        // the tensor bytes proper: the error names the checksum
        var damaged = original
        damaged[original.count - 5] ^= 0x10
        try damaged.write(to: url)
        #expect(openError(url)?.description.contains("checksum mismatch") == true)
        #expect(try SafetensorsFile(path: url.path, verifyChecksum: false).tensor("w").count == 1000)
    }

    @Test(arguments: [1, 4, 100, 4000])
    func truncationIsCaught(dropping: Int) throws {
        let url = try writeSample()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let original = try Data(contentsOf: url)
        try original.prefix(original.count - dropping).write(to: url)
        guard case .malformedCheckpoint = openError(url) else { Issue.record("accepted a truncated file"); return }
    }

    /// A damaged or truncated training state: --resume fails and says so (no fresh start).
    @Test(arguments: [false, true])
    func resumeFromADamagedCheckpointFails(truncate: Bool) throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = try s.trainingCSV(), out = s.root.appendingPathComponent("out")
        let first = try s.tuner(s.options())
        first.haltAfterSteps = 2
        _ = try first.run(train: train, output: out)
        let checkpoint = FineTuner.checkpointURL(for: out)
        var data = try Data(contentsOf: checkpoint)
        if truncate { data = data.prefix(data.count / 2) } else { data[data.count - 3] ^= 0x40 }
        try data.write(to: checkpoint)
        do {
            _ = try s.tuner(s.options()).run(train: train, output: out, resume: true)
            Issue.record("resumed from a damaged checkpoint")
        } catch let error as FinetuneError {
            guard case .cannotResume(let path, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == checkpoint.path)
            #expect(reason.contains("damaged or truncated"), "\(reason)")
            #expect(!error.description.contains("\n"))
        }
    }

    /// A checkpoint without a checksum (an older version's) cannot be verified: refused.
    @Test func resumeRefusesACheckpointWithoutChecksum() throws {
        let s = try FinetuneScratch()
        defer { s.remove() }
        let train = try s.trainingCSV(), out = s.root.appendingPathComponent("out")
        let first = try s.tuner(s.options())
        first.haltAfterSteps = 2
        _ = try first.run(train: train, output: out)
        let checkpoint = FineTuner.checkpointURL(for: out)
        let file = try SafetensorsFile(path: checkpoint.path)
        // rewrite it without the checksum entry, as the writer did before it had one
        var header: [String: Any] = ["__metadata__": file.metadata.filter { $0.key != "checksum" }]
        var body = Data(), offset = 0
        for name in file.names {
            let t = try file.tensor(name)
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
            body.append(UnsafeBufferPointer(start: t.pointer, count: t.count))
        }
        let json = try JSONSerialization.data(withJSONObject: header)
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        try (data + json + body).write(to: checkpoint)
        #expect(try !SafetensorsFile(path: checkpoint.path).hasChecksum)
        do {
            _ = try s.tuner(s.options()).run(train: train, output: out, resume: true)
            Issue.record("resumed from an unverifiable checkpoint")
        } catch let error as FinetuneError {
            #expect("\(error)".contains("no checksum"), "\(error)")
        }
    }
}
