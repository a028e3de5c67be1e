import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What happens to a request when its connection misbehaves: a client that goes away loses
/// its queued inputs (and nobody else's), and a body that trickles in is cut off.
@Suite(.serialized) struct ConnectionTests {
    /// A plain TCP connection to the server, for what URLSession will not do.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, connected == 0 else { throw POSIXError(.ECONNREFUSED) }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
        }

        /// Everything until the server closes the connection (or 30 s pass).
        func readToEnd() -> String {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                data += buffer[0..<n]
            }
            return String(decoding: data, as: UTF8.self)
        }

        func close() { _ = Glibc.close(fd) }
    }

    static func post(_ path: String, _ body: String) -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func counter(_ name: String, _ server: ServerProcess) async throws -> Double {
        let text = try await server.get("/metrics").text
        return text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") })
            .flatMap { Double($0.split(separator: " ").last!) } ?? 0
    }

    /// A client sends 600 long inputs and hangs up: its inputs leave the queue (counted by
    /// bert_inputs_cancelled_total), and a second client is still answered correctly.
    @Test func disconnectDropsQueuedInputs() async throws {
        let server = try ServerProcess(["--model", ServerProcess.model("all-MiniLM-L6-v2"), "--max-batch-tokens", "256",
                                        "--max-concurrent-requests", "1000"])
        defer { #expect(server.stop() == 0) }
        let long = Array(repeating: "token", count: 120).joined(separator: " ")
        let inputs = (0..<600).map { "\"\(long) \($0)\"" }.joined(separator: ",")
        let before = try await Self.counter("bert_inputs_admitted_total", server)
        let client = try RawConnection(port: server.port)
        client.send(Self.post("/embed", "{\"inputs\": [\(inputs)]}"))
        // Hang up once the inputs hold permits (they are being tokenized or are queued).
        var admitted = false
        for _ in 0..<3000 where !admitted {
            try await Task.sleep(for: .milliseconds(10))
            admitted = try await Self.counter("bert_inputs_admitted_total", server) >= before + 600
        }
        #expect(admitted, "the request never reached the queue")
        client.close()
        var cancelled = 0.0
        for _ in 0..<1000 where cancelled == 0 {
            try await Task.sleep(for: .milliseconds(10))
            cancelled = try await Self.counter("bert_inputs_cancelled_total", server)
        }
        #expect(cancelled > 0 && cancelled <= 600, "\(cancelled) inputs cancelled")
        let other = try await server.post("/embed", ["inputs": "A man is eating food."])
        #expect(other.status == 200)
        #expect(floats((other.json as? [Any])?.first).count == 384)
        #expect(try await Self.counter("bert_inputs_admitted", server) == 0)
    }

    /// A body that does not arrive within --body-timeout: 408 in TEI's shape, then the
    /// server closes the connection.
    @Test func slowBodyTimesOut() async throws {
        let server = try ServerProcess(["--model", ServerProcess.model("all-MiniLM-L6-v2"), "--body-timeout", "1"])
        defer { #expect(server.stop() == 0) }
        let client = try RawConnection(port: server.port)
        defer { client.close() }
        let started = ContinuousClock.now
        client.send("POST /embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inp")
        let answer = client.readToEnd()
        let waited = ContinuousClock.now - started
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(answer.contains("\"error_type\":\"timeout\""), "\(answer)")
        #expect(waited >= .milliseconds(900) && waited < .seconds(25), "\(waited)")
        // The server is still fine for everyone else.
        #expect(try await server.post("/embed", ["inputs": "hi"]).status == 200)
    }
}
