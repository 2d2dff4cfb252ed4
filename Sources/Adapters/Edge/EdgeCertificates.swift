import Foundation
import HopGateDomain
import HopGatePorts
import NIOCore
import NIOSSL
import Synchronization

/// Picks the certificate for each TLS handshake by its SNI name, asking a ``CertificateSource``.
///
/// Parsed certificates are kept per name, so a handshake for a known name completes on the event
/// loop without a hop; the source is asked again when an entry is older than `refreshInterval`
/// (one second), which is how a renewed certificate replaces the old one for new handshakes
/// without a restart, and a forgotten name stops being served.
final class EdgeCertificates: Sendable {
    /// A parsed certificate chain and key, ready for NIOSSL.
    struct Parsed: Sendable {
        let chainPEM: [String]
        let override: NIOSSLContextConfigurationOverride
        let fetchedAt: ContinuousClock.Instant
        let notAfter: Date
    }

    private let source: any CertificateSource
    private let refreshInterval: Duration
    private let maximumNames: Int
    private let cache = Mutex<[DomainName: Parsed]>([:])

    /// - Parameter maximumNames: how many names are kept parsed; beyond it an arbitrary entry
    ///   is dropped (and parsed again when asked for), so that handshakes with ever new server
    ///   names cannot grow memory without bound.
    init(source: any CertificateSource, refreshInterval: Duration = .seconds(1), maximumNames: Int = 10_000) {
        self.source = source
        self.refreshInterval = refreshInterval
        self.maximumNames = maximumNames
    }

    /// The certificate for `name`. - Throws: ``EdgeTLSError`` when the source has none.
    func certificate(for name: DomainName) async throws -> Parsed {
        if let cached = cache.withLock({ $0[name] }), ContinuousClock.now - cached.fetchedAt < refreshInterval {
            return cached
        }
        guard let key = try await source.certificate(for: name) else { throw EdgeTLSError.unrecognizedName(name.value) }
        return try cache.withLock { cache in
            if let cached = cache[name], cached.chainPEM == key.chainPEM {
                cache[name] = Parsed(chainPEM: cached.chainPEM, override: cached.override, fetchedAt: .now, notAfter: cached.notAfter)
                return cache[name]!
            }
            let parsed = Parsed(chainPEM: key.chainPEM, override: try Self.override(for: key), fetchedAt: .now, notAfter: key.notAfter)
            if cache[name] == nil, cache.count >= maximumNames { cache.remove(at: cache.startIndex) }
            cache[name] = parsed
            if let earliest = cache.values.map(\.notAfter).min() { HopGateMetrics.setEarliestCertificateExpiry(earliest) }
            return parsed
        }
    }

    /// Answers NIOSSL's per-ClientHello callback: from the cache on the event loop when fresh,
    /// else by asking the source (a task tied to the handshake's promise). A client that sends
    /// no server name, or an IP address as one, gets `defaultName`'s certificate.
    func select(serverName: String?, defaultName: DomainName, promise: EventLoopPromise<NIOSSLContextConfigurationOverride>) {
        let name: DomainName
        // RFC 6066 §3 forbids IP literals in SNI, but some clients (wrk) send them: treat as none.
        if let serverName, !IPAddressLiteral.isIPAddress(serverName) {
            guard let parsed = try? DomainName(parsing: serverName) else {
                promise.fail(EdgeTLSError.unrecognizedName(serverName))
                return
            }
            name = parsed
        } else {
            name = defaultName
        }
        if let cached = cache.withLock({ $0[name] }), ContinuousClock.now - cached.fetchedAt < refreshInterval {
            promise.succeed(cached.override)
            return
        }
        promise.completeWithTask { try await self.certificate(for: name).override }
    }

    static func override(for key: CertifiedKey) throws -> NIOSSLContextConfigurationOverride {
        var override = NIOSSLContextConfigurationOverride()
        override.certificateChain = try key.chainPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) }.map { .certificate($0) }
        override.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.privateKeyPEM.utf8), format: .pem))
        return override
    }
}

/// Why the edge refused a TLS handshake or could not set TLS up.
public enum EdgeTLSError: Error, CustomStringConvertible {
    /// No certificate for the name the client asked for (SNI).
    case unrecognizedName(String)

    public var description: String {
        switch self {
        case .unrecognizedName(let name): "no certificate for the TLS server name \"\(name)\""
        }
    }
}
