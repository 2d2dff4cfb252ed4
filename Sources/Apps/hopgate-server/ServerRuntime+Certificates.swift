import Foundation
import HopGateACME
import HopGateDomain
import HopGatePorts
import HopGateSelfSignedCertificates
import Logging
import ServiceLifecycle

/// What the certificate concern hands the rest of the server.
struct ServerCertificates {
    /// Serves the server's domain and registered ones; the edge asks it per SNI name.
    let provisioner: CertificateProvisioner
    /// The ACME challenge board (nil when self-signed).
    let challenges: (any ChallengeResponder)?
    /// The self-signed CA's certificate file (nil with ACME).
    let caFile: String?
    /// The ACME source (when used), then the provisioner.
    let services: [any Service]
}

extension ServerRuntime {
    /// The certificate source the configuration names, and the provisioner in front of it.
    func makeCertificates(store: any DomainStore) throws -> ServerCertificates {
        var services: [any Service] = []
        let (source, challenges, caFile) = try makeCertificateSource()
        if let acme = source as? ACMECertificateSource { services.append(acme) }
        // The edge asks the provisioner, which serves only the server's domain and registered ones.
        let provisioner = CertificateProvisioner(
            source: source, serverDomain: configuration.domain, store: store, logger: Logger(label: "certificates"))
        services.append(provisioner)
        return ServerCertificates(provisioner: provisioner, challenges: challenges, caFile: caFile, services: services)
    }

    /// The configured certificate source, the ACME challenge board (nil when self-signed) and
    /// the self-signed CA's file (nil with ACME).
    private func makeCertificateSource() throws -> (any CertificateSource, (any ChallengeResponder)?, String?) {
        let dataDirectory = URL(fileURLWithPath: configuration.dataDirectory)
        switch configuration.certificates {
        case .selfSigned:
            let source: SelfSignedCertificateSource
            do {
                source = try SelfSignedCertificateSource(directory: dataDirectory.appendingPathComponent("ca"))
            } catch {
                throw ServerStartupError(message: "HOP_DATA_DIR: the self-signed certificate authority is unusable: \(error)")
            }
            logger.notice("TLS certificates are self-signed by the CA at \(source.caCertificatePath) (trust it with curl --cacert, or add it to your system's trust store)")
            return (source, nil, source.caCertificatePath)
        case .acme(let settings):
            var acme = ACMECertificateSource.Configuration(
                directoryURL: settings.directoryURL,
                stateDirectory: dataDirectory.appendingPathComponent("acme").appendingPathComponent(Self.stateFolder(for: settings.directoryURL)))
            acme.contactEmail = settings.email
            acme.challengeTypes = settings.challenges.compactMap(ACMEChallengeType.init(rawValue:))
            if let caFile = settings.caFile {
                do {
                    acme.trustedCAsPEM = [try String(contentsOfFile: caFile, encoding: .utf8)]
                } catch {
                    throw ServerStartupError(message: "HOP_ACME_CA_FILE: cannot read \(caFile) (\(error.localizedDescription))")
                }
            }
            let source: ACMECertificateSource
            do {
                source = try ACMECertificateSource(configuration: acme, logger: Logger(label: "acme"))
            } catch {
                throw ServerStartupError(message: "ACME: \(error)")
            }
            logger.notice("TLS certificates come from the ACME CA at \(settings.directoryURL) (challenges: \(settings.challenges.joined(separator: ", ")))")
            return (source, source.challenges, nil)
        }
    }

    /// One state folder per CA (its account lives there): `acme-v02.api.letsencrypt.org`, `127.0.0.1_14000`.
    static func stateFolder(for directoryURL: String) -> String {
        let components = URLComponents(string: directoryURL)
        let host = components?.host ?? "ca"
        let name = components?.port.map { "\(host)_\($0)" } ?? host
        return String(name.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
