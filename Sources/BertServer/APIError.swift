import Foundation
import HTTPTypes
import Hummingbird

/// A request the server refuses, with the status and the words the client sees. Every
/// route answers these in its own API's JSON shape (see `ErrorShape`), never as plain text.
struct APIError: Error, Sendable {
    /// TEI's error kinds; each has one status.
    enum Kind: String, Sendable {
        case empty          // 400: no inputs
        case malformed      // 400: the body is not JSON
        case validation     // 422: JSON of the wrong shape, too many or too long inputs, unknown model
        case tokenizer      // 422: the tokenizer refused the input
        case unauthorized   // 401: bad or missing API key
        case tooLarge       // 413: body over --payload-limit
        case overloaded     // 429: no permits left
        case notFound       // 404: no such route
        case unhealthy      // 503: a health forward pass failed, or the server is stopping
        case backend        // 500: inference failed
        case timedOut       // 408: the body did not arrive within --body-timeout
        case cancelled      // 499 (nginx's "client closed request"): nobody is left to read it

        var status: HTTPResponse.Status {
            switch self {
            case .empty, .malformed: .badRequest
            case .validation, .tokenizer: .unprocessableContent
            case .unauthorized: .unauthorized
            case .tooLarge: .contentTooLarge
            case .overloaded: .tooManyRequests
            case .notFound: .notFound
            case .unhealthy: .serviceUnavailable
            case .backend: .internalServerError
            case .timedOut: .requestTimeout
            case .cancelled: .init(code: 499, reasonPhrase: "Client Closed Request")
            }
        }

        /// TEI's `error_type` (TEI has no word for some of ours; these keep its style).
        var teiType: String {
            switch self {
            case .malformed: "validation"
            case .tooLarge: "payload_limit"
            case .notFound: "not_found"
            case .timedOut: "timeout"
            default: rawValue
            }
        }

        /// OpenAI's `type`.
        var openAIType: String {
            switch self {
            case .unauthorized: "authentication_error"
            case .overloaded: "rate_limit_error"
            case .backend, .unhealthy, .cancelled: "server_error"
            default: "invalid_request_error"
            }
        }
    }

    let kind: Kind
    let message: String
    /// The request field at fault, when one is (OpenAI's `param`).
    var param: String? = nil

    static func empty(_ message: String = "the batch is empty: send at least one input") -> APIError { .init(kind: .empty, message: message) }
    static func validation(_ message: String, param: String? = nil) -> APIError { .init(kind: .validation, message: message, param: param) }
}

/// Which API's error JSON a route answers in.
enum ErrorShape: Sendable {
    /// `{"error": "…", "error_type": "…"}`
    case tei
    /// `{"error": {"message", "type", "param", "code"}}`
    case openAI

    /// OpenAI's shape for /v1 and /v2 (the OpenAI, Cohere and Jina routes), TEI's elsewhere.
    init(path: String) {
        self = path.hasPrefix("/v1/") || path.hasPrefix("/v2/") ? .openAI : .tei
    }

    func body(_ error: APIError) -> [String: Any] {
        switch self {
        case .tei:
            return ["error": error.message, "error_type": error.kind.teiType]
        case .openAI:
            return ["error": ["message": error.message, "type": error.kind.openAIType,
                              "param": error.param ?? NSNull(), "code": error.kind.rawValue] as [String: Any]]
        }
    }

    func response(_ error: APIError) -> Response {
        var response = JSONResponse.make(body(error), status: error.kind.status)
        if error.kind == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
