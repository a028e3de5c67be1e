import Foundation
import Testing

/// The real clients: tools/serve/clients_check drives the server with the `openai` package
/// (float, base64, token ids, usage) and huggingface_hub's InferenceClient.feature_extraction,
/// in .venv, where tools/setup installs them.
struct ClientsTests {
    @Test func pythonClients() async throws {
        let python = ServerProcess.root.appendingPathComponent(".venv/bin/python")
        let server = try ServerProcess(ServerProcess.standardModels + ["--api-key", "clients-key"])
        defer { #expect(server.stop() == 0) }
        let process = Process()
        process.executableURL = python
        process.arguments = [ServerProcess.root.appendingPathComponent("tools/serve/clients_check").path, server.url, "--api-key", "clients-key"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.components(separatedBy: "\nok  ").count + (output.hasPrefix("ok  ") ? 1 : 0) >= 5, "\(output)")
    }
}
