import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP side of ACME (RFC 8555 §6): the directory, a pool of nonces fed by every response's
/// `Replay-Nonce`, JWS-signed POSTs that are retried with a fresh nonce on `badNonce`, and
/// problem documents turned into ``ACMEError``s that name the step.
actor ACMEConnection {
    /// One answer from the CA.
    struct Response: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
        var location: String? { headers.first(name: "Location") }
        /// `Retry-After` as seconds (delta-seconds or an HTTP-date), when sent.
        var retryAfter: TimeInterval? { RetryAfter.parse(headers.first(name: "Retry-After")) }
    }

    private let clientConfiguration: HTTPClient.Configuration
    /// Created on the first request, so a source that never talks to its CA owns nothing to shut down.
    private var client: HTTPClient?
    private let directoryURL: String
    private let key: AccountKey
    private let logger: Logger
    private var cachedDirectory: ACMEDirectory?
    private var nonces: [String] = []
    /// Set once the account exists: requests are then signed with `kid`.
    private(set) var accountURL: String?

    /// Retries of one POST whose nonce the CA refused. Each refusal is cheap and independent (a
    /// CA may refuse any nonce, e.g. one issued by another of its nodes); ten keep a CA that
    /// refuses one in five (Pebble in the test suite) from failing a POST more often than once in
    /// 50 million, where five failed one in 15,000 and a whole contract run now and then.
    static let maximumBadNonceRetries = 10
    static let maximumResponseBytes = 1 << 20

    init(directoryURL: String, key: AccountKey, trustedCAsPEM: [String], connectTimeout: Duration = .seconds(10), logger: Logger) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !trustedCAsPEM.isEmpty {
            do {
                tls.trustRoots = .certificates(try trustedCAsPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
            } catch {
                throw ACMEError(.storage, "the CA certificates to trust for the ACME server are not PEM certificates (\(error))")
            }
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        // A refused connection is retried until the connect timeout, so it is also how long an
        // unreachable CA takes to fail a request.
        configuration.timeout = .init(connect: TimeAmount(connectTimeout), read: .seconds(30))
        self.clientConfiguration = configuration
        self.directoryURL = directoryURL
        self.key = key
        self.logger = logger
    }

    /// Closes the HTTP client, if one was opened; later requests open a new one.
    func shutdown() async {
        let client = self.client
        self.client = nil
        try? await client?.shutdown()
    }

    func useAccount(_ url: String) { accountURL = url }

    /// Back to JWK-signed requests (before registering again).
    func forgetAccount() { accountURL = nil }

    func directory() async throws -> ACMEDirectory {
        if let cachedDirectory { return cachedDirectory }
        let response = try await send(url: directoryURL, method: .GET, body: nil, step: "reading the ACME directory")
        do {
            let directory = try JSONDecoder().decode(ACMEDirectory.self, from: response.body)
            cachedDirectory = directory
            return directory
        } catch {
            throw ACMEError(.protocolViolation, "the ACME directory at \(directoryURL) is not a directory (\(error))")
        }
    }

    /// An unauthenticated GET (renewal information).
    func get(_ url: String, step: String) async throws -> Response {
        try await send(url: url, method: .GET, body: nil, step: step)
    }

    /// A signed POST; `payload` nil is POST-as-GET. Retries with a fresh nonce on `badNonce`.
    func post(_ url: String, payload: Data?, step: String, accept: String? = nil) async throws -> Response {
        let signer: AccountKey.Signer = accountURL.map { .kid($0) } ?? .jwk
        var attempt = 0
        while true {
            let nonce = try await nextNonce()
            let body = try key.sign(payload: payload, url: url, nonce: nonce, as: signer)
            do {
                return try await send(url: url, method: .POST, body: body, step: step, accept: accept)
            } catch let error as ACMEError where error.problem?.name == "badNonce" && attempt < Self.maximumBadNonceRetries {
                attempt += 1
                logger.debug("the CA refused a nonce; retrying with a fresh one", metadata: ["step": "\(step)", "attempt": "\(attempt)"])
            }
        }
    }

    /// A signed POST of a JSON value.
    func post<Payload: Encodable>(_ url: String, json: Payload, step: String) async throws -> Response {
        try await post(url, payload: try JSONEncoder().encode(json), step: step)
    }

    private func nextNonce() async throws -> String {
        if let nonce = nonces.popLast() { return nonce }
        let directory = try await directory()
        _ = try await send(url: directory.newNonce, method: .HEAD, body: nil, step: "fetching a nonce")
        guard let nonce = nonces.popLast() else {
            throw ACMEError(.protocolViolation, "the CA's newNonce answer carries no Replay-Nonce header")
        }
        return nonce
    }

    private func send(url: String, method: HTTPMethod, body: Data?, step: String, accept: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "HopGate ACME client")
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/jose+json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: Response
        do {
            let client = self.client ?? HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
            self.client = client
            let answer = try await client.execute(request, timeout: .seconds(60))
            let bytes = try await answer.body.collect(upTo: Self.maximumResponseBytes)
            response = Response(status: Int(answer.status.code), headers: answer.headers, body: Data(bytes.readableBytesView))
        } catch {
            throw ACMEError(.transport, "\(step): cannot reach the ACME CA at \(url) (\(error))")
        }
        if let nonce = response.headers.first(name: "Replay-Nonce"), !nonce.isEmpty {
            nonces.append(nonce)
            if nonces.count > 16 { nonces.removeFirst() }
        }
        guard response.status < 400 else {
            throw ACMEError(.problem, "\(step) was refused by the CA (HTTP \(response.status))", problem: ACMEProblem.parse(response.body))
        }
        return response
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
enum RetryAfter {
    static func parse(_ value: String?, now: Date = Date()) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? TimeInterval(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
