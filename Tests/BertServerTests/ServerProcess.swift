import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `bert serve` child process on a free loopback port (it is started with --port 0
/// and prints the port it bound), and an HTTP client for it.
final class ServerProcess: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func model(_ name: String) -> String { root.appendingPathComponent("models/\(name)").path }
    /// The tiny one-output BertForSequenceClassification the BERT tests use, as a cross-encoder.
    static let reranker = root.appendingPathComponent("Tests/BERTTests/Resources/heads/regression").path
    static let standardModels = ["--model", model("all-MiniLM-L6-v2"), "--model", model("sentiment"), "--model", reranker]

    let process = Process()
    let port: Int
    private let stderr: Pipe
    let session: URLSession

    /// The `bert` executable built beside this test bundle.
    static func bert() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("bert")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "bert beside \(CommandLine.arguments[0]): run swift build"])
    }

    /// Starts `bert serve ARGUMENTS --port 0` and waits (at most 120 s) for its "listening on" line.
    init(_ arguments: [String] = ServerProcess.standardModels) throws {
        process.executableURL = try Self.bert()
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = Self.root
        let stdout = Pipe()
        stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        var seen = Data()
        var found: Int?
        let deadline = Date().addingTimeInterval(120)
        while found == nil, Date() < deadline {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of file: the server exited
            seen.append(chunk)
            let text = String(decoding: seen, as: UTF8.self)
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                found = Int(text[range].split(separator: ":").last!)
            }
        }
        guard let found else {
            process.terminate()
            let err = String(decoding: stderr.fileHandleForReading.availableData, as: UTF8.self)
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "bert serve did not start: \(err)"])
        }
        port = found
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 300
        session = URLSession(configuration: configuration)
        // The child's log goes on being read, so that a full pipe never blocks it.
        stderr.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        /// The body as JSON (nil when it is not).
        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)".lowercased()] = "\(v)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    func post(_ path: String, _ json: Any, headers: [String: String] = [:]) async throws -> Reply {
        try await request("POST", path, body: JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]), headers: headers)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("GET", path, headers: headers)
    }

    /// SIGTERM, then the exit status (waits at most 60 s).
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        stderr.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

/// JSON numbers as Floats.
func floats(_ any: Any?) -> [Float] { (any as? [Any] ?? []).map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) } }
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
