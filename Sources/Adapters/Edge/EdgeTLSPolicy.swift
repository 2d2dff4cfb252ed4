import NIOSSL

/// The TLS the public edge speaks: 1.2 and 1.3 only and, on 1.2, only ECDHE key exchange with
/// AEAD ciphers (Mozilla's "intermediate" profile). BoringSSL's default also accepts CBC-SHA1
/// suites on 1.2 (found by `scripts/tls-scan`); TLS 1.3's suites are all AEAD and fixed by
/// BoringSSL. Renegotiation and compression are never offered by BoringSSL as a server.
enum EdgeTLSPolicy {
    static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// Sets the versions and cipher suites of an edge server configuration.
    static func apply(to configuration: inout TLSConfiguration) {
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = tls12CipherSuites
    }
}
