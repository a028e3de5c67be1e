import Foundation
import Testing

/// /openapi.json against the server's real answers: every documented operation is called
/// with a valid body and with an empty one; each answer's status must be documented, and
/// its JSON must match the documented schema (types, required fields, items, oneOf, $ref).
struct OpenAPITests {
    static var validBodies: [String: Any] { [
        "/embed": ["inputs": ["a sentence", "another"]],
        "/embed_all": ["inputs": "a sentence"],
        "/similarity": ["inputs": ["source_sentence": "a", "sentences": ["b", "c"]]],
        "/predict": ["inputs": [["a"], ["b", "c"]]],
        "/rerank": ["query": "q", "texts": ["a", "b"], "return_text": true],
        "/tokenize": ["inputs": ["hello world"]],
        "/decode": ["ids": [[101, 7592, 102]]],
        "/": ["inputs": "a sentence"],
        "/v1/embeddings": ["input": ["a", "b"], "encoding_format": "base64"],
        "/v1/rerank": ["query": "q", "documents": ["a", ["text": "b"]], "return_documents": true],
        "/v2/rerank": ["query": "q", "documents": ["a", "b"], "top_n": 1],
    ] }

    @Test func documentMatchesAnswers() async throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let document = try await server.get("/openapi.json").object
        #expect(document["openapi"] as? String == "3.0.3")
        let components = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        #expect(Set(paths.keys).isSuperset(of: Self.validBodies.keys))
        for route in ["/health", "/info", "/metrics", "/v1/models", "/openapi.json"] { #expect(paths[route]?["get"] != nil, "\(route)") }
        var checked = 0
        for (path, operations) in paths {
            for (method, operation) in operations {
                checked += 1
                let responses = (operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]
                var replies: [ServerProcess.Reply] = []
                if method == "post" {
                    replies.append(try await server.post(path, Self.validBodies[path] ?? [:]))
                    replies.append(try await server.post(path, [String: Any]()))
                } else {
                    replies.append(try await server.get(path))
                }
                #expect(replies[0].status == 200, "\(method) \(path): \(replies[0].text)")
                for reply in replies {
                    guard let documented = responses["\(reply.status)"] as? [String: Any] else {
                        Issue.record("\(method) \(path) answered \(reply.status), which is not documented")
                        continue
                    }
                    guard let schema = ((documented["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] else { continue }
                    let problems = Self.validate(reply.json as Any, against: schema, components: components, at: "\(method) \(path) \(reply.status)")
                    #expect(problems.isEmpty, "\(problems.prefix(3)): \(reply.text.prefix(300))")
                }
            }
        }
        #expect(checked == 16)
    }

    /// The validator itself refuses what does not match.
    @Test func validatorRefusesMismatches() {
        let rows: [String: Any] = ["type": "array", "items": ["type": "array", "items": ["type": "number"]]]
        #expect(Self.validate([[1.5, 2]], against: rows, components: [:], at: "").isEmpty)
        #expect(!Self.validate([["x"]], against: rows, components: [:], at: "").isEmpty)
        #expect(!Self.validate(["error": "e"], against: ["$ref": "#/components/schemas/E"],
                               components: ["E": ["type": "object", "required": ["error", "error_type"]]], at: "").isEmpty)
        #expect(!Self.validate(7, against: ["oneOf": [["type": "string"], ["type": "array"]]], components: [:], at: "").isEmpty)
    }

    /// The OpenAPI subset the document uses; returns what does not match.
    static func validate(_ value: Any, against schema: Any, components: [String: Any], at path: String) -> [String] {
        guard var s = schema as? [String: Any] else { return ["\(path): schema is not an object"] }
        if let ref = s["$ref"] as? String {
            guard let target = components[String(ref.split(separator: "/").last!)] as? [String: Any] else { return ["\(path): unknown \(ref)"] }
            s = target
        }
        if let options = s["oneOf"] as? [Any] {
            return options.contains { validate(value, against: $0, components: components, at: path).isEmpty } ? [] : ["\(path): matches no oneOf"]
        }
        if value is NSNull { return s["nullable"] as? Bool == true ? [] : ["\(path): null"] }
        switch s["type"] as? String {
        case "string": return value is String ? [] : ["\(path): not a string"]
        // JSONSerialization gives booleans as NSNumber too; a number of 0 or 1 passes.
        case "boolean": return (value as? NSNumber).map { $0.doubleValue == 0 || $0.doubleValue == 1 } == true ? [] : ["\(path): not a boolean"]
        case "integer": return (value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } == true ? [] : ["\(path): not an integer"]
        case "number": return value is NSNumber ? [] : ["\(path): not a number"]
        case "array":
            guard let items = value as? [Any] else { return ["\(path): not an array"] }
            guard let itemSchema = s["items"] else { return [] }
            return items.enumerated().flatMap { validate($0.element, against: itemSchema, components: components, at: "\(path)[\($0.offset)]") }
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
            var problems = (s["required"] as? [String] ?? []).filter { object[$0] == nil }.map { "\(path): missing \($0)" }
            for (key, sub) in s["properties"] as? [String: Any] ?? [:] {
                if let v = object[key] { problems += validate(v, against: sub, components: components, at: "\(path).\(key)") }
            }
            return problems
        default:
            return []
        }
    }
}
