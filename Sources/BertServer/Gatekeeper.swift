import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// In front of every route: the API key (all routes but /health), and any error that got
/// past a route (an unknown path, say) answered in that path's JSON shape.
struct Gatekeeper<Context: RequestContext>: RouterMiddleware {
    /// "Bearer KEY" as bytes, when a key is required.
    let expected: [UInt8]?

    init(apiKey: String?) {
        expected = apiKey.map { Array("Bearer \($0)".utf8) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let shape = ErrorShape(path: path)
        if let expected, path != "/health" {
            let given = request.headers[.authorization].map { Array($0.utf8) } ?? []
            guard Self.constantTimeEqual(given, expected) else {
                return shape.response(APIError(kind: .unauthorized, message: "missing or wrong API key: send Authorization: Bearer KEY"))
            }
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return shape.response(error)
        } catch let error as HTTPResponseError {
            let kind: APIError.Kind = switch error.status {
            case .notFound: .notFound
            case .contentTooLarge: .tooLarge
            case .methodNotAllowed, .badRequest: .malformed
            default: .backend
            }
            let message = error.status == .notFound ? "no route \(request.method) \(path); see /openapi.json" : "\(error.status)"
            return shape.response(APIError(kind: kind, message: message))
        } catch {
            return shape.response(APIError(kind: .backend, message: "\(error)"))
        }
    }

    /// Compares every byte whatever the first difference, so the time taken says nothing about the key.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count {
            difference |= (i < a.count ? a[i] : 0) ^ b[i]
        }
        return difference == 0
    }
}
