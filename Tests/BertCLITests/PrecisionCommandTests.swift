import Foundation
import Testing

/// `--precision` and `BERT_PRECISION` as a user meets them when something is missing.
struct PrecisionCommandTests {
    static func run(_ arguments: [String], environment extra: [String: String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = try TokenizeCommandTests.bert()
        process.arguments = arguments
        process.currentDirectoryURL = TokenizeCommandTests.root
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    /// oneDNN limited to AVX2 (ONEDNN_MAX_CPU_ISA) stands for a CPU without avx512_bf16 and VNNI.
    @Test(arguments: [("bf16", "avx512_bf16"), ("int8", "VNNI (avx512_vnni")])
    func lowPrecisionOnACPUWithoutItSaysSo(precision: String, needs: String) throws {
        let r = try Self.run(["embed", "--precision", precision, "A man is eating food."],
                             environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("precision \(precision) is not available here"), "\(r.stderr)")
        #expect(r.stderr.contains(needs) && r.stderr.contains("use fp32"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }

    /// `bert finetune --precision`: bf16 where it runs (full fine-tuning, a CPU with avx512_bf16),
    /// and a one-line error saying why everywhere else, before any data is read.
    @Test(arguments: [
        (["--precision", "int8"], [String: String](), "fine-tuning runs in fp32 or bf16"),
        (["--precision", "bf16", "--freeze-encoder"], [:], "--freeze-encoder trains only the head, in fp32"),
        (["--precision", "bf16"], ["ONEDNN_MAX_CPU_ISA": "AVX2"], "precision bf16 is not available here"),
    ])
    func finetunePrecisionItCannotUseIsRefused(options: [String], environment: [String: String], says: String) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-refused-\(UUID().uuidString)")
        let r = try Self.run(["finetune", "no-such-dataset.csv", "--output", output.path] + options, environment: environment)
        #expect(r.status == 1)
        #expect(r.stderr.contains(says), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func unknownPrecisionInTheEnvironmentIsAnError() throws {
        let r = try Self.run(["embed", "A man is eating food."], environment: ["BERT_PRECISION": "fp8"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("BERT_PRECISION is 'fp8'; use fp32, bf16 or int8"), "\(r.stderr)")
    }
}
