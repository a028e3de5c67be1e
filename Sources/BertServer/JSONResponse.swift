import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON bodies in and out.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        // Only the server's own dictionaries and arrays of JSON types get here.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return make(data: data, status: status, headers: headers)
    }

    static func make<T: Encodable>(encoding value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return try make(data: encoder.encode(value), status: status, headers: headers)
    }

    static func make(data: Data, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Decodes a request body; a body that is not JSON is 400, JSON of the wrong shape 422,
    /// each with a message naming what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard let tree = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw APIError(kind: .malformed, message: "the request body is not valid JSON")
        }
        do {
            let decoder = JSONDecoder()
            decoder.userInfo[IntegerLiterals.key] = IntegerLiterals.Tree(tree)
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw APIError.validation(describe(error))
        } catch let error as APIError {
            throw error
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "the body" : String(p.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "the body does not have the expected shape"
        }
    }
}
