public import HopGateDomain

/// Told about registrations so that other parts can follow: the certificate source orders a
/// certificate for a new domain and stops renewing a removed one; the tunnel hub closes the
/// tunnels of a removed domain or of a rotated key.
public protocol DomainLifecycleObserver: Sendable {
    func domainRegistered(_ record: DomainRecord) async
    func domainUnregistered(_ domain: DomainName) async
    func domainKeyRotated(_ domain: DomainName) async
}

extension DomainLifecycleObserver {
    public func domainRegistered(_ record: DomainRecord) async {}
    public func domainUnregistered(_ domain: DomainName) async {}
    public func domainKeyRotated(_ domain: DomainName) async {}
}
