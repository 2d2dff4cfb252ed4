import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// Guards the generated handlers:
/// - reads a body sent without a content type, or labelled as a form (`curl -d`), as JSON;
/// - refuses a request body larger than `maximumBodyBytes` with 413, whether it declares its
///   length or streams chunks (the body is read only up to the limit);
/// - turns what the generated server throws before our handlers run (malformed JSON, a wrong
///   type, an unknown field, a missing parameter) into a 400 whose message names the field;
/// - turns anything unexpected into a 500 that says only "internal error" (the cause is logged).
struct AdminRequestGuard<Context: RequestContext>: RouterMiddleware {
    let maximumBodyBytes: Int
    let document: OpenAPIDocumentIndex
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let tooLarge = AdminErrorBody.response(.contentTooLarge, "the request body is larger than \(maximumBodyBytes) bytes")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBodyBytes { return tooLarge }
        var request = request
        // `curl -d '{…}'` labels JSON as a form; upstream HopGate reads it as JSON, and so do we.
        let contentType = request.headers[.contentType]?.lowercased()
        if request.method == .post, contentType == nil || contentType!.hasPrefix("application/x-www-form-urlencoded") {
            var head = request.head
            head.headerFields[.contentType] = "application/json"
            request = Request(head: head, body: request.body)
        }
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maximumBodyBytes) } catch is NIOTooManyBytesError { return tooLarge }
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            if let decoding = error.underlyingError as? DecodingError {
                if case .dataCorrupted(let context) = decoding, context.debugDescription.hasPrefix("Additional properties") {
                    return AdminErrorBody.response(.badRequest, unknownFields(in: body, operation: error.operationID))
                }
                if let parameter = document.integerQueryParameters(of: error.operationID).first(where: { name in
                    request.uri.queryParameters[Substring(name)].map { Int($0) == nil } ?? false
                }) {
                    return AdminErrorBody.response(.badRequest, "\(parameter): must be an integer")
                }
                return AdminErrorBody.response(.badRequest, Self.describe(decoding))
            }
            if (400..<500).contains(error.httpStatus.code) {
                return AdminErrorBody.response(error.httpStatus, Self.describe(runtime: error.underlyingError))
            }
            logger.error("admin request failed", metadata: ["operation": "\(error.operationID)", "error": "\(error.causeDescription)"])
            return AdminErrorBody.response(.internalServerError, "internal error")
        } catch let error as any HTTPResponseError {
            return AdminErrorBody.response(error.status, error.status.reasonPhrase.lowercased())
        } catch {
            logger.error("admin request failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return AdminErrorBody.response(.internalServerError, "internal error")
        }
    }

    /// "unknown field: x (expected a, b)", naming the fields from the OpenAPI document.
    func unknownFields(in body: ByteBuffer, operation: String) -> String {
        let known = document.requestFields(of: operation)
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        let unknown = (object?.keys.filter { !known.contains($0) } ?? []).sorted()
        let expected = known.sorted().joined(separator: ", ")
        guard !unknown.isEmpty else { return "the request body has an unknown field (expected \(expected))" }
        return "unknown field\(unknown.count > 1 ? "s" : ""): \(unknown.joined(separator: ", ")) (expected \(expected))"
    }

    /// "field.path: what is wrong", or a sentence about the body as a whole.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context, appending: key)): is required"
        case .typeMismatch(let type, let context):
            let field = path(context)
            return field.isEmpty ? "the request body must be a JSON object" : "\(field): must be \(Self.jsonName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): must be \(Self.jsonName(type)), not null"
        case .dataCorrupted(let context):
            let field = path(context)
            return field.isEmpty ? "the request body is not valid JSON" : "\(field): \(context.debugDescription)"
        @unknown default:
            return "the request body could not be read"
        }
    }

    static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        default: "an object"
        }
    }

    /// The runtime's own errors, reworded: "Missing required query parameter named: domain" → "domain: is required".
    static func describe(runtime error: any Error) -> String {
        let text = "\(error)"
        if let name = text.components(separatedBy: "Missing required query parameter named: ").dropFirst().first {
            return "\(name): is required"
        }
        if text.contains("Missing required request body") { return "the request body is required" }
        return text
    }
}
