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

    @Test func bf16WithoutItsLibrarySaysWhatToRun() throws {
        let r = try Self.run(["embed", "--precision", "bf16", "A man is eating food."],
                             environment: ["BERT_BF16_BLAS": "/nonexistent/libopenblas_bf16.so"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("precision bf16 is not available here"), "\(r.stderr)")
        #expect(r.stderr.contains("tools/build_openblas_bf16") || r.stderr.contains("avx512_bf16"), "\(r.stderr)")
    }

    @Test func unknownPrecisionInTheEnvironmentIsAnError() throws {
        let r = try Self.run(["embed", "A man is eating food."], environment: ["BERT_PRECISION": "fp8"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("BERT_PRECISION is 'fp8'; use fp32 or bf16"), "\(r.stderr)")
    }
}
