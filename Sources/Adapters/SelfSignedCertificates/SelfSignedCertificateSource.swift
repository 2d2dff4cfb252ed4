public import Foundation
public import HopGateDomain
public import HopGatePorts

/// A ``CertificateSource`` for development and private networks: a local CA, created once and
/// kept in a directory, signs a leaf for each server name on demand.
///
/// Like every source it serves only names it was asked to prepare (the server's domain and the
/// registered domains, see `CertificateProvisioner`); any other name gets nil. Clients trust
/// ``caCertificatePath`` (e.g. `curl --cacert`).
public actor SelfSignedCertificateSource: CertificateSource {
    private let authority: LocalCertificateAuthority
    private let leafValidity: TimeInterval
    private let maximumNames: Int
    private let now: @Sendable () -> Date
    private var leaves: [DomainName: CertifiedKey] = [:]
    private var prepared: Set<DomainName> = []

    /// Loads the CA from `directory`, creating it (and the directory, mode 0700) the first time.
    /// - Parameter maximumNames: leaves kept in memory; beyond it an arbitrary one is dropped
    ///   (and issued anew when asked for again).
    /// - Throws: ``SelfSignedCertificateError`` naming the file at fault.
    public init(
        directory: URL, leafValidity: TimeInterval = 90 * 86_400, maximumNames: Int = 10_000,
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.authority = try LocalCertificateAuthority.loadOrCreate(in: directory, now: now())
        self.leafValidity = leafValidity
        self.maximumNames = maximumNames
        self.now = now
    }

    /// Where the CA's certificate is, for clients to trust.
    public nonisolated var caCertificatePath: String { authority.certificatePath }

    public func certificate(for serverName: DomainName) async throws -> CertifiedKey? {
        guard prepared.contains(serverName) else { return nil }
        let now = self.now()
        if let leaf = leaves[serverName], leaf.notAfter.timeIntervalSince(now) > leafValidity / 3 {
            return leaf
        }
        // No suspension between the check and the insert: concurrent callers get one leaf.
        let leaf = try authority.issueLeaf(for: serverName, now: now, validity: leafValidity)
        if leaves[serverName] == nil, leaves.count >= maximumNames { leaves.remove(at: leaves.startIndex) }
        leaves[serverName] = leaf
        return leaf
    }

    public func prepare(_ name: DomainName) async throws {
        prepared.insert(name)
        _ = try await certificate(for: name)
    }

    public func forget(_ name: DomainName) async {
        prepared.remove(name)
        leaves[name] = nil
    }

    public func trustRootsPEM() async throws -> [String] { [authority.certificatePEM] }
}

/// The CA files cannot be read, written or trusted; names the file and the problem, never key material.
public struct SelfSignedCertificateError: Error, CustomStringConvertible {
    public let file: String
    public let problem: String
    public var description: String { "\(file) \(problem)" }
}
