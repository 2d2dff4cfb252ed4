import Crypto
import Foundation
import HopGateDomain
import HopGatePorts
import Logging

/// The challenge types HopGate can answer, in the order a configuration prefers them.
public enum ACMEChallengeType: String, Sendable, CaseIterable {
    /// HTTP-01: a file under `/.well-known/acme-challenge/` on port 80.
    case http01 = "http-01"
    /// TLS-ALPN-01 (RFC 8737): a special certificate on port 443 for ALPN `acme-tls/1`.
    case tlsALPN01 = "tls-alpn-01"
}

/// Obtains one certificate from the CA (RFC 8555 §7.3–7.4.2): registers the account once, then
/// newOrder → authorizations → a challenge posted on the ``ACMEChallengeBoard`` and validated →
/// finalize with a CSR for a fresh key → poll, honouring `Retry-After` → download the chain.
struct ACMEIssuer: Sendable {
    let connection: ACMEConnection
    let key: AccountKey
    let board: ACMEChallengeBoard
    let state: ACMEStateDirectory
    let contactEmail: String?
    let challengeTypes: [ACMEChallengeType]
    /// How long an authorization or the order may stay pending before the attempt is given up.
    let pollTimeout: Duration
    let logger: Logger

    /// Registers the account unless it already is (its URL is kept in the state directory).
    func ensureAccount(forceNew: Bool = false) async throws {
        if !forceNew, await connection.accountURL != nil { return }
        if !forceNew, let saved = state.accountURL() {
            await connection.useAccount(saved)
            return
        }
        struct NewAccount: Encodable {
            let termsOfServiceAgreed = true
            let contact: [String]?
        }
        let directory = try await connection.directory()
        await connection.forgetAccount()
        let response = try await connection.post(
            directory.newAccount, json: NewAccount(contact: contactEmail.map { ["mailto:\($0)"] }), step: "registering the ACME account")
        guard let url = response.location else {
            throw ACMEError(.protocolViolation, "the CA's newAccount answer carries no Location (the account URL)")
        }
        try state.saveAccountURL(url)
        await connection.useAccount(url)
        logger.notice("ACME account ready", metadata: ["account": "\(url)"])
    }

    /// A new certificate for `name`. - Parameter replaces: the ARI identifier of the certificate
    /// this one renews, sent when the CA offers renewal information.
    func issue(for name: DomainName, replaces: String?) async throws -> CertifiedKey {
        do {
            try await ensureAccount()
            return try await order(name, replaces: replaces)
        } catch let error as ACMEError where error.problem?.name == "accountDoesNotExist" {
            // The CA no longer knows the saved account (a reset staging CA): register again, once.
            logger.warning("the CA does not know the saved ACME account; registering a new one", metadata: ["reason": "\(error)"])
            try await ensureAccount(forceNew: true)
            return try await order(name, replaces: replaces)
        }
    }

    private func order(_ name: DomainName, replaces: String?) async throws -> CertifiedKey {
        struct NewOrder: Encodable {
            let identifiers: [ACMEIdentifier]
            let replaces: String?
        }
        let directory = try await connection.directory()
        let created = try await connection.post(
            directory.newOrder, json: NewOrder(identifiers: [.dns(name.value)], replaces: directory.renewalInfo == nil ? nil : replaces),
            step: "creating the order for \(name)")
        guard let orderURL = created.location else {
            throw ACMEError(.protocolViolation, "the CA's newOrder answer carries no Location (the order URL)")
        }
        var order: ACMEOrder = try decode(created.body, "the order for \(name)")
        for authorization in order.authorizations {
            try await authorize(authorization, for: name)
        }
        order = try await poll(orderURL, what: "the order for \(name)") { (order: ACMEOrder) in order.status != "pending" }
        guard order.status == "ready" || order.status == "valid" || order.status == "processing" else {
            throw ACMEError(.problem, "the order for \(name) is \(order.status)", problem: order.error)
        }
        let certificateKey = P256.Signing.PrivateKey()
        if order.status == "ready" {
            struct Finalize: Encodable { let csr: String }
            let csr = try CertificateSigningRequestBuilder.der(for: name, key: certificateKey)
            let finalized = try await connection.post(order.finalize, json: Finalize(csr: Base64URL.encode(csr)), step: "finalizing the order for \(name)")
            order = try decode(finalized.body, "the finalized order for \(name)")
        }
        if order.status != "valid" {
            order = try await poll(orderURL, what: "the certificate for \(name)") { (order: ACMEOrder) in
                order.status != "processing" && order.status != "ready"
            }
        }
        guard order.status == "valid", let certificateURL = order.certificate else {
            throw ACMEError(.problem, "the order for \(name) ended \(order.status) without a certificate", problem: order.error)
        }
        let download = try await connection.post(
            certificateURL, payload: nil, step: "downloading the certificate for \(name)", accept: "application/pem-certificate-chain")
        return try ACMEStateDirectory.certifiedKey(
            chainPEM: String(decoding: download.body, as: UTF8.self), keyPEM: certificateKey.pemRepresentation, name: name)
    }

    /// Settles one authorization: nothing to do when it is already valid, else the first
    /// preferred challenge type the CA offers is answered and the authorization polled.
    private func authorize(_ url: String, for name: DomainName) async throws {
        let authorization: ACMEAuthorization = try decode(
            try await connection.post(url, payload: nil, step: "reading the authorization for \(name)").body, "the authorization for \(name)")
        if authorization.status == "valid" { return }
        guard authorization.status == "pending" else {
            throw ACMEError(.challengeFailed, "the authorization for \(name) is \(authorization.status)")
        }
        let offered = Dictionary(authorization.challenges.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        guard let type = challengeTypes.first(where: { offered[$0.rawValue]?.token != nil }), let challenge = offered[type.rawValue], let token = challenge.token else {
            throw ACMEError(.challengeFailed, "the CA offers no challenge HopGate is configured for (offered: \(authorization.challenges.map(\.type).joined(separator: ", ")); configured: \(challengeTypes.map(\.rawValue).joined(separator: ", ")))")
        }
        let keyAuthorization = key.keyAuthorization(token: token)
        switch type {
        case .http01: board.postHTTP01(token: token, keyAuthorization: keyAuthorization)
        case .tlsALPN01: try board.postTLSALPN01(name: name, keyAuthorization: keyAuthorization)
        }
        defer {
            switch type {
            case .http01: board.removeHTTP01(token: token)
            case .tlsALPN01: board.removeTLSALPN01(name: name)
            }
        }
        logger.debug("answering an ACME challenge", metadata: ["domain": "\(name)", "challenge": "\(type.rawValue)"])
        _ = try await connection.post(challenge.url, payload: Data("{}".utf8), step: "starting the \(type.rawValue) challenge for \(name)")
        let settled: ACMEAuthorization = try await poll(url, what: "the authorization for \(name)") { (authorization: ACMEAuthorization) in
            authorization.status != "pending"
        }
        guard settled.status == "valid" else {
            let problem = settled.challenges.first(where: { $0.type == type.rawValue })?.error
            throw ACMEError(.challengeFailed, "the CA could not validate \(type.rawValue) for \(name) (authorization \(settled.status))", problem: problem)
        }
    }

    /// POST-as-GET `url` until `done` holds, waiting `Retry-After` (1–10 s, default 1 s) in between.
    private func poll<Resource: Decodable>(_ url: String, what: String, until done: (Resource) -> Bool) async throws -> Resource {
        let deadline = ContinuousClock.now + pollTimeout
        while true {
            let response = try await connection.post(url, payload: nil, step: "polling \(what)")
            let resource: Resource = try decode(response.body, what)
            if done(resource) { return resource }
            guard ContinuousClock.now < deadline else {
                throw ACMEError(.timedOut, "\(what) was still pending after \(pollTimeout)")
            }
            let wait = min(max(response.retryAfter ?? 1, 0.5), 10)
            try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
        }
    }

    private func decode<Resource: Decodable>(_ data: Data, _ what: String) throws -> Resource {
        do { return try JSONDecoder().decode(Resource.self, from: data) } catch {
            throw ACMEError(.protocolViolation, "\(what) from the CA does not parse (\(error))")
        }
    }
}
