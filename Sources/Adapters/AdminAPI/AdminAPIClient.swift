public import AsyncHTTPClient
public import Foundation
public import NIOCore
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A typed client of the admin API, over the code generated from `openapi.yaml` (so it speaks
/// exactly what the server serves). Used by `hopgate-server domains …`.
public struct AdminAPIClient: Sendable {
    private let client: Client
    private let baseURL: URL

    /// - Parameters:
    ///   - serverURL: the server's base URL, e.g. `http://127.0.0.1:9090` (the `/api/v1/admin`
    ///     path is added) — or a URL that already ends with it.
    ///   - adminKey: `HOP_ADMIN_API_KEY`, sent as a bearer token.
    public init(serverURL: URL, adminKey: String, httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(15)) {
        let base = serverURL.path.hasSuffix(AdminAPIServer.basePath)
            ? serverURL
            : serverURL.appendingPathComponent(String(AdminAPIServer.basePath.dropFirst()))
        self.baseURL = base
        self.client = Client(
            serverURL: base,
            transport: AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: timeout)),
            middlewares: [BearerMiddleware(token: adminKey)])
    }

    /// Runs one call; a transport failure becomes a one-line ``AdminAPIClientError`` (status 0).
    private func reach<Output>(_ call: () async throws -> Output) async throws -> Output {
        do {
            return try await call()
        } catch let error as ClientError {
            throw AdminAPIClientError(0, "cannot reach the admin API at \(baseURL): \(error.underlyingError)")
        }
    }

    /// Registers `domain`; returns its client API key (shown once).
    public func register(domain: String, memo: String?) async throws -> String {
        switch try await reach({ try await client.registerDomain(body: .json(.init(domain: domain, memo: memo))) }) {
        case .ok(let ok): return try ok.body.json.clientApiKey
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .conflict(let r): throw AdminAPIClientError(409, try r.body.json.error)
        case .contentTooLarge(let r): throw AdminAPIClientError(413, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }

    /// Unregisters `domain`, proving ownership with its client API key.
    public func unregister(domain: String, clientAPIKey: String) async throws {
        switch try await reach({ try await client.unregisterDomain(body: .json(.init(domain: domain, clientApiKey: clientAPIKey))) }) {
        case .ok: return
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .forbidden(let r): throw AdminAPIClientError(403, try r.body.json.error)
        case .notFound(let r): throw AdminAPIClientError(404, try r.body.json.error)
        case .contentTooLarge(let r): throw AdminAPIClientError(413, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }

    /// Whether `domain` is registered.
    public func exists(domain: String) async throws -> Bool {
        switch try await reach({ try await client.domainExists(query: .init(domain: domain)) }) {
        case .ok(let ok): return try ok.body.json.exists
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }

    /// The status of `domain`, or nil when it is not registered.
    public func status(domain: String) async throws -> AdminDomainSummary? {
        switch try await reach({ try await client.domainStatus(query: .init(domain: domain)) }) {
        case .ok(let ok):
            let body = try ok.body.json
            guard body.exists, let name = body.domain, let created = body.createdAt, let updated = body.updatedAt else { return nil }
            var summary = AdminDomainSummary(domain: name, memo: body.memo ?? "", createdAt: created, updatedAt: updated)
            summary.routes = (body.routes ?? []).map { AdminServedRoute(prefix: $0.prefix, tunnels: $0.tunnels) }
            return summary
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }

    /// One page of registered domains and the cursor of the next page, if any.
    public func list(after: String? = nil, limit: Int? = nil) async throws -> (domains: [AdminDomainSummary], nextAfter: String?) {
        switch try await reach({ try await client.listDomains(query: .init(limit: limit, after: after)) }) {
        case .ok(let ok):
            let body = try ok.body.json
            return (body.domains.map { AdminDomainSummary(domain: $0.domain, memo: $0.memo, createdAt: $0.createdAt, updatedAt: $0.updatedAt) }, body.nextAfter)
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }

    /// Issues a new client API key for `domain`; the old one stops working at once.
    public func rotateKey(domain: String) async throws -> String {
        switch try await reach({ try await client.rotateDomainKey(body: .json(.init(domain: domain))) }) {
        case .ok(let ok): return try ok.body.json.clientApiKey
        case .badRequest(let r): throw AdminAPIClientError(400, try r.body.json.error)
        case .unauthorized(let r): throw AdminAPIClientError(401, try r.body.json.error)
        case .tooManyRequests(let r): throw AdminAPIClientError(429, try r.body.json.error)
        case .notFound(let r): throw AdminAPIClientError(404, try r.body.json.error)
        case .contentTooLarge(let r): throw AdminAPIClientError(413, try r.body.json.error)
        case .internalServerError(let r): throw AdminAPIClientError(500, try r.body.json.error)
        case .serviceUnavailable(let r): throw AdminAPIClientError(503, try r.body.json.error)
        case .undocumented(let status, _): throw AdminAPIClientError(status, "unexpected response")
        }
    }
}

/// A registered domain as the admin API reports it.
public struct AdminDomainSummary: Sendable, Hashable {
    public let domain: String
    public let memo: String
    public let createdAt: Date
    public let updatedAt: Date
    /// The routes served now, by prefix; only in a status answer.
    public var routes: [AdminServedRoute] = []
}

/// A path prefix of a domain and the number of tunnels taking its requests.
public struct AdminServedRoute: Sendable, Hashable {
    public let prefix: String
    public let tunnels: Int
}

/// The admin API answered with an error: its status and its `error` message.
public struct AdminAPIClientError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let message: String
    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { status == 0 ? message : "\(message) (HTTP \(status))" }
}

/// Adds `Authorization: Bearer <admin key>` to every request.
private struct BearerMiddleware: ClientMiddleware {
    let token: String
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}
