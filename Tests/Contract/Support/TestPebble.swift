public import Foundation
import Synchronization

/// A running Pebble (Let's Encrypt's test ACME CA) on loopback, with `pebble-challtestsrv`
/// answering every DNS query with 127.0.0.1 so that Pebble validates challenges against the
/// ports a test chose. Both processes are stopped when `withTestPebble` returns.
public struct TestPebble: Sendable {
    /// `https://127.0.0.1:N/dir`.
    public let directoryURL: String
    /// The CA that signed Pebble's own API certificate (trust it to talk to the directory).
    public let apiCAPEM: String
    /// Pebble's issuing root for this run (it changes on every start).
    public let issuerRootPEM: String
    /// Where the issuing root is written, for `curl --cacert`.
    public let issuerRootFile: String
    /// Where the API CA is written, for settings that take a file.
    public let apiCAFile: String
}

/// A free TCP port on 127.0.0.1 for a child process to listen on.
///
/// It is drawn at random *below* the kernel's ephemeral range (`ip_local_port_range`) and
/// checked by binding it: a port from the ephemeral range (what binding port 0 gives) can be
/// handed meanwhile to any outgoing connection of the parallel test run as its local port, and
/// the child's listen then fails (seen in CI). Below the range only another test drawing the same
/// number could collide, so a port is never handed out twice in one test process: a test that
/// restarts its server on the same port, or a server that has not bound its port yet, keeps it
/// (seen in CI too: two tests drew one port, and the second server's listen failed). Falls back
/// to port 0's answer if nothing below the range is free.
public func freeLoopbackPort() throws -> Int {
    let lowestEphemeral = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
    if lowestEphemeral > 12_000 {
        for _ in 0..<64 {
            let candidate = Int.random(in: 10_000..<lowestEphemeral)
            guard portsHandedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            if let port = try? bindLoopback(port: candidate) { return port }
        }
    }
    return try bindLoopback(port: 0)
}

/// Every port `freeLoopbackPort` has drawn in this process, free or not when it was tried.
private let portsHandedOut = Mutex<Set<Int>>([])

/// Binds a TCP socket to 127.0.0.1:`port`, releases it, and returns the port it had.
private func bindLoopback(port: Int) throws -> Int {
    let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw ChildProcessError(message: "socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else { throw ChildProcessError(message: "bind() to 127.0.0.1:\(port) failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Starts Pebble validating HTTP-01 on `httpPort` and TLS-ALPN-01 on `tlsPort` of 127.0.0.1.
/// - Parameters:
///   - certificateValidity: lifetime of issued certificates in seconds (short ones test renewal).
///   - nonceRejectPercent: share of valid nonces Pebble refuses with `badNonce` (exercises retries).
public func withTestPebble<Result>(
    httpPort: Int, tlsPort: Int, certificateValidity: Int = 3600, nonceRejectPercent: Int = 0,
    _ body: (TestPebble) async throws -> Result
) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hopgate-pebble-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = { (name: String) in directory.appendingPathComponent(name).path }
    // Debian ships no certificate for Pebble's API: make a CA and a 127.0.0.1/localhost leaf.
    try await runCommand(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", path("api-ca.key"), "-out", path("api-ca.pem"), "-days", "2", "-subj", "/CN=Pebble API test CA"])
    try await runCommand(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", path("api.key"), "-out", path("api.csr"), "-subj", "/CN=localhost"])
    try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: path("api.ext"), atomically: true, encoding: .utf8)
    try await runCommand(["openssl", "x509", "-req", "-in", path("api.csr"), "-CA", path("api-ca.pem"), "-CAkey", path("api-ca.key"),
                          "-CAcreateserial", "-days", "2", "-extfile", path("api.ext"), "-out", path("api.pem")])
    // Pebble's management listener has once never come up within 10 s in a full parallel test
    // run (its port taken meanwhile, probably): such a start is retried on fresh ports, and the
    // last failure carries Pebble's own output.
    var start = 0
    while true {
        start += 1
        do {
            let apiPort = try freeLoopbackPort(), managementPort = try freeLoopbackPort()
            let dnsPort = try freeLoopbackPort(), dnsManagementPort = try freeLoopbackPort()
            let config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(apiPort)", "managementListenAddress": "127.0.0.1:\(managementPort)",
             "certificate": "\(path("api.pem"))", "privateKey": "\(path("api.key"))",
             "httpPort": \(httpPort), "tlsPort": \(tlsPort), "ocspResponderURL": "", "externalAccountBindingRequired": false,
             "certificateValidityPeriod": \(certificateValidity)}}
            """
            try config.write(toFile: path("pebble.json"), atomically: true, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["PEBBLE_VA_NOSLEEP"] = "1"
            environment["PEBBLE_WFE_NONCEREJECT"] = "\(nonceRejectPercent)"
            return try await withChildProcess("/usr/bin/pebble-challtestsrv", [
                "-dns01", "127.0.0.1:\(dnsPort)", "-http01", "", "-https01", "", "-tlsalpn01", "",
                "-management", "127.0.0.1:\(dnsManagementPort)", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
            ]) { dns in
                _ = try await dns.waitForOutput(containing: "Starting challenge servers")
                return try await withChildProcess("/usr/bin/pebble", ["-config", path("pebble.json"), "-dnsserver", "127.0.0.1:\(dnsPort)"],
                                                  environment: environment) { pebble in
                    _ = try await pebble.waitForOutput(containing: "ACME directory available")
                    // Pebble announces its directory before its management listener may be up (seen
                    // under load): ask for the root until it answers, for at most about 10 s.
                    var fetched: String?
                    for attempt in 1...100 where fetched == nil {
                        do {
                            fetched = try await runCommand(["curl", "-sS", "--fail", "--cacert", path("api-ca.pem"),
                                                            "https://127.0.0.1:\(managementPort)/roots/0"])
                        } catch {
                            if attempt < 100 { try await Task.sleep(for: .milliseconds(100)) }
                        }
                    }
                    guard let root = fetched else { throw PebbleNotReady(output: pebble.output) }
                    try root.write(toFile: path("issuer-root.pem"), atomically: true, encoding: .utf8)
                    return try await body(TestPebble(
                        directoryURL: "https://127.0.0.1:\(apiPort)/dir",
                        apiCAPEM: try String(contentsOfFile: path("api-ca.pem"), encoding: .utf8),
                        issuerRootPEM: root, issuerRootFile: path("issuer-root.pem"), apiCAFile: path("api-ca.pem")))
                }
            }
        } catch is PebbleNotReady where start < 3 {
            continue  // on fresh ports
        }
    }
}

/// Pebble started but its management listener never answered.
struct PebbleNotReady: Error, CustomStringConvertible {
    let output: String
    var description: String { "Pebble's management listener never answered; its output: \(output.suffix(2000))" }
}
