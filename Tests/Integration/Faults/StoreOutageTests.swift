import Foundation
import HopGateTestSupport
import Testing

/// The domain store failing under a running edge: PostgreSQL stopped and started again, and the
/// SQLite data directory turned read-only. Tunnels already up keep serving (routing needs no
/// store); what needs the store answers 503 with a reason in the log, and works again on its own
/// once the store is back.
@Suite("Domain store outages", .serialized)
struct StoreOutageTests {
    typealias Gateway = GatewayProcesses

    @Test("PostgreSQL stopped while serving: tunnel traffic flows, registration is 503 and /readyz says why; started again, registration works")
    func postgresStopped() async throws {
        try await withTestPostgresCluster { cluster in
            try await withTemporaryDirectory { directory in
                try await withTestBackend { backend in
                    try await Gateway.withServer(dataDirectory: directory, settings: ["HOP_DB_DSN": cluster.url]) { server in
                        let key = try await Gateway.register("pg.example.com", on: server)
                        try await Gateway.withClient(domain: "pg.example.com", key: key, server: server, backend: backend) { client in
                            _ = try await client.waitForOutput(containing: "tunnel up for pg.example.com")
                            #expect(try await Gateway.curl(server, "pg.example.com", .http2, ["URL/before"]) == "hello from backend GET /before")

                            try await cluster.stop()
                            for version in Gateway.HTTPVersion.allCases {
                                #expect(try await Gateway.curl(server, "pg.example.com", version, ["URL/during"]) == "hello from backend GET /during")
                            }
                            let refused = try await register("down.example.com", on: server)
                            #expect(refused.status == 503 && refused.body.contains("unavailable"), "\(refused)")
                            let ready = try await runCommand(["curl", "-sS", server.operations + "/readyz"])
                            #expect(ready.contains("not ready") && ready.contains("domain store"), "\(ready)")
                            _ = try await server.process.waitForOutput(containing: "outcome=error")
                            let password = try #require(URLComponents(string: cluster.url)?.password)
                            #expect(!server.process.output.contains(password), "the password shows in the log")
                            // Still flowing after the failed registration.
                            #expect(try await Gateway.curl(server, "pg.example.com", .http1, ["URL/still"]) == "hello from backend GET /still")

                            try await cluster.start()
                            // Retried as a user would; every answer before the 200 must be a 503 that
                            // stored nothing (a 409 would mean a 503 had registered it after all).
                            var answers = [try await register("back.example.com", on: server)]
                            for _ in 0..<40 where answers.last?.status != 200 {
                                try await Task.sleep(for: .milliseconds(500))
                                answers.append(try await register("back.example.com", on: server))
                            }
                            #expect(answers.last?.status == 200 && answers.dropLast().allSatisfy { $0.status == 503 }, "\(answers)")
                            #expect(try await runCommand(["curl", "-sS", server.operations + "/readyz"]) == "ready\n")
                            #expect(try await Gateway.curl(server, "pg.example.com", .http2, ["URL/after"]) == "hello from backend GET /after")
                        }
                    }
                }
            }
        }
    }

    @Test("the data directory's disk turns read-only (ext4 errors=remount-ro): tunnel traffic flows, registration is 503 naming it; after fsck and a restart nothing is lost")
    func readOnlyDataDirectory() async throws {
        try await withTemporaryDirectory { directory in
            // A disk of its own, failed the way a real one fails: an ext4 error with
            // errors=remount-ro makes the kernel remount it read-only under open files.
            let image = directory + "/disk.img", mountPoint = directory + "/data"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            try await runCommand(["truncate", "-s", "64M", image])
            try await runCommand(["mkfs.ext4", "-q", image])
            try await runCommand(["mount", "-o", "loop,errors=remount-ro", image, mountPoint])
            do {
                try await readOnly(image: image, mountPoint: mountPoint)
            } catch {
                try? await runCommand(["umount", mountPoint])
                throw error
            }
            try await runCommand(["umount", mountPoint])
        }
    }

    private func readOnly(image: String, mountPoint: String) async throws {
        try await withTestBackend { backend in
            let key = try await Gateway.withServer(dataDirectory: mountPoint) { server in
                let key = try await Gateway.register("ro.example.com", on: server)
                try await Gateway.withClient(domain: "ro.example.com", key: key, server: server, backend: backend) { client in
                    _ = try await client.waitForOutput(containing: "tunnel up for ro.example.com")
                    let device = try await runCommand(["findmnt", "-n", "-o", "SOURCE", mountPoint])
                        .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/").last ?? ""
                    try "hopgate fault test".write(toFile: "/sys/fs/ext4/\(device)/trigger_fs_error", atomically: false, encoding: .utf8)
                    #expect(try await runCommand(["findmnt", "-n", "-o", "OPTIONS", mountPoint]).contains("ro"))
                    for version in Gateway.HTTPVersion.allCases {
                        #expect(try await Gateway.curl(server, "ro.example.com", version, ["URL/during"]) == "hello from backend GET /during")
                    }
                    let refused = try await register("ro2.example.com", on: server)
                    #expect(refused.status == 503 && refused.body.contains("unavailable"), "\(refused)")
                    let log = try await server.process.waitForOutput(containing: "outcome=error")
                    let line = log.split(separator: "\n").first { $0.contains("outcome=error") } ?? ""
                    #expect(line.contains("read-only") || line.contains("cannot be opened for writing"), "\(line)")
                    #expect(try await Gateway.curl(server, "ro.example.com", .http2, ["URL/still"]) == "hello from backend GET /still")
                }
                return key
            }
            // What an operator does: the server stopped, the disk checked and mounted again.
            try await runCommand(["umount", mountPoint])
            try await runCommand(["sh", "-c", "e2fsck -fy \(image) >/dev/null 2>&1; test $? -le 1"])
            try await runCommand(["mount", "-o", "loop,errors=remount-ro", image, mountPoint])
            try await Gateway.withServer(dataDirectory: mountPoint) { server in
                #expect(try await register("ro2.example.com", on: server).status == 200)
                try await Gateway.withClient(domain: "ro.example.com", key: key, server: server, backend: backend) { client in
                    _ = try await client.waitForOutput(containing: "tunnel up for ro.example.com")
                    #expect(try await Gateway.curl(server, "ro.example.com", .http1, ["URL/after"]) == "hello from backend GET /after")
                }
            }
        }
    }

    /// POST /domains/register on the admin API: its status and body.
    private func register(_ domain: String, on server: Gateway.Server) async throws -> (status: Int, body: String) {
        let output = try await runCommand([
            "curl", "-sS", "--max-time", "30", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(Gateway.adminKey)",
            "-H", "Content-Type: application/json", "-d", #"{"domain":"\#(domain)"}"#, server.admin + "/api/v1/admin/domains/register",
        ])
        let status = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (status, String(output.split(separator: "\n").dropLast().joined(separator: "\n")))
    }
}
