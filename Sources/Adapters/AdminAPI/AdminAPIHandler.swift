import Foundation
import HopGateDomain
import HopGatePorts
import OpenAPIRuntime

/// The admin API's operations (generated from `openapi.yaml`) over ``DomainAdministration``
/// (and ``ServedRoutes`` for a domain's status). Every outcome is a response the document
/// declares; nothing is thrown for a domain error.
struct AdminAPIHandler: APIProtocol {
    let administration: DomainAdministration
    let routes: any ServedRoutes

    func registerDomain(_ input: Operations.RegisterDomain.Input) async throws -> Operations.RegisterDomain.Output {
        guard case .json(let body) = input.body else { return .badRequest(.init(body: .json(.failure("the request body must be JSON")))) }
        do {
            let issued = try await administration.register(domain: body.domain, memo: body.memo)
            return .ok(.init(body: .json(.init(success: true, clientApiKey: issued.clientAPIKey.secret))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .conflict(let e): return .conflict(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .notFound(let e), .forbidden(let e), .internal(let e): return .internalServerError(.init(body: .json(e)))
            }
        }
    }

    func unregisterDomain(_ input: Operations.UnregisterDomain.Input) async throws -> Operations.UnregisterDomain.Output {
        guard case .json(let body) = input.body else { return .badRequest(.init(body: .json(.failure("the request body must be JSON")))) }
        do {
            try await administration.unregister(domain: body.domain, clientAPIKey: body.clientApiKey)
            return .ok(.init(body: .json(.init(success: true))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .notFound(let e): return .notFound(.init(body: .json(e)))
            case .forbidden(let e): return .forbidden(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .conflict(let e), .internal(let e): return .internalServerError(.init(body: .json(e)))
            }
        }
    }

    func domainExists(_ input: Operations.DomainExists.Input) async throws -> Operations.DomainExists.Output {
        do {
            let exists = try await administration.exists(domain: input.query.domain)
            return .ok(.init(body: .json(.init(success: true, exists: exists))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .notFound(let e), .forbidden(let e), .conflict(let e), .internal(let e):
                return .internalServerError(.init(body: .json(e)))
            }
        }
    }

    func domainStatus(_ input: Operations.DomainStatus.Input) async throws -> Operations.DomainStatus.Output {
        do {
            let record = try await administration.status(domain: input.query.domain)
            return .ok(.init(body: .json(.init(
                success: true, exists: true, domain: record.domain.value, memo: record.memo.text,
                createdAt: record.createdAt, updatedAt: record.updatedAt,
                routes: routes.routes(of: record.domain).map { .init(prefix: $0.prefix.value, tunnels: $0.tunnels) }))))
        } catch where error.code == .notFound {
            // Upstream HopGate answers an unknown domain with 200 and `exists: false`.
            return .ok(.init(body: .json(.init(success: true, exists: false))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .notFound(let e), .forbidden(let e), .conflict(let e), .internal(let e):
                return .internalServerError(.init(body: .json(e)))
            }
        }
    }

    func listDomains(_ input: Operations.ListDomains.Input) async throws -> Operations.ListDomains.Output {
        do {
            let page = try await administration.list(after: input.query.after, limit: input.query.limit ?? 100)
            let summaries = page.records.map {
                Components.Schemas.DomainSummary(domain: $0.domain.value, memo: $0.memo.text, createdAt: $0.createdAt, updatedAt: $0.updatedAt)
            }
            return .ok(.init(body: .json(.init(success: true, domains: summaries, nextAfter: page.nextCursor?.value))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .notFound(let e), .forbidden(let e), .conflict(let e), .internal(let e):
                return .internalServerError(.init(body: .json(e)))
            }
        }
    }

    func rotateDomainKey(_ input: Operations.RotateDomainKey.Input) async throws -> Operations.RotateDomainKey.Output {
        guard case .json(let body) = input.body else { return .badRequest(.init(body: .json(.failure("the request body must be JSON")))) }
        do {
            let issued = try await administration.rotateKey(domain: body.domain)
            return .ok(.init(body: .json(.init(success: true, clientApiKey: issued.clientAPIKey.secret))))
        } catch {
            switch AdminFailure(error) {
            case .badRequest(let e): return .badRequest(.init(body: .json(e)))
            case .notFound(let e): return .notFound(.init(body: .json(e)))
            case .unavailable(let e): return .serviceUnavailable(.init(body: .json(e)))
            case .forbidden(let e), .conflict(let e), .internal(let e): return .internalServerError(.init(body: .json(e)))
            }
        }
    }
}

/// An ``AdministrationError`` sorted into the response classes the document declares.
enum AdminFailure {
    case badRequest(Components.Schemas.ErrorResponse)
    case notFound(Components.Schemas.ErrorResponse)
    case forbidden(Components.Schemas.ErrorResponse)
    case conflict(Components.Schemas.ErrorResponse)
    case unavailable(Components.Schemas.ErrorResponse)
    case `internal`(Components.Schemas.ErrorResponse)

    init(_ error: AdministrationError) {
        let body = Components.Schemas.ErrorResponse.failure(error.message)
        switch error.code {
        case .invalidDomain, .invalidMemo, .invalidKey, .invalidArgument: self = .badRequest(body)
        case .notFound: self = .notFound(body)
        case .keyMismatch: self = .forbidden(body)
        case .conflict: self = .conflict(body)
        case .unavailable: self = .unavailable(body)
        case .internal: self = .internal(.failure("internal error"))
        }
    }
}

extension Components.Schemas.ErrorResponse {
    /// `{"success": false, "error": message}`.
    static func failure(_ message: String) -> Self { .init(success: false, error: message) }
}
