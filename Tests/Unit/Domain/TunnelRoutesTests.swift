import HopGateDomain
import Testing

@Suite("TunnelRoutes")
struct TunnelRoutesTests {
    let host = try! DomainName(parsing: "app.example.com")

    func prefixes(_ values: String...) -> [PathPrefix] { values.map { try! PathPrefix(parsing: $0) } }

    @Test func pooledRoutesGoRoundRobinAndSkipUnusableTunnels() {
        var routes = TunnelRoutes<Int>()
        routes.replaceRoutes(of: host, with: [(1, prefixes("/api")), (2, prefixes("/api", "/")), (3, [])])
        #expect(routes.count == 2)
        #expect((0..<4).map { _ in routes.next(host: host, path: "/api/x") { _ in true } } == [1, 2, 1, 2])
        #expect((0..<3).map { _ in routes.next(host: host, path: "/") { $0 != 2 } } == [3, 3, 3])
        #expect(routes.next(host: host, path: "/api") { _ in false } == nil)
        #expect(routes.routes(of: host).map { "\($0.prefix)=\($0.tunnels)" } == ["/=2", "/api=2"])
    }

    @Test func aPreferredUsableTunnelGoesFirstAndTheOthersOnlyWhenNoneIs() {
        var routes = TunnelRoutes<Int>()
        routes.replaceRoutes(of: host, with: [(1, []), (2, []), (3, [])])
        // Tunnels 2 and 3 share the caller's loop: they alternate, and 1 is never taken.
        #expect((0..<4).map { _ in routes.next(host: host, path: "/", preferring: { $0 != 1 }) { _ in true } } == [2, 3, 2, 3])
        // A preferred tunnel that is not usable is skipped for the next preferred one.
        #expect((0..<2).map { _ in routes.next(host: host, path: "/", preferring: { $0 != 1 }) { $0 != 2 } } == [3, 3])
        // No preferred tunnel is usable: round-robin over the usable others.
        #expect((0..<3).map { _ in routes.next(host: host, path: "/", preferring: { $0 == 3 }) { $0 != 3 } } == [1, 2, 1])
        #expect(routes.next(host: host, path: "/", preferring: { _ in true }) { _ in false } == nil)
    }

    @Test func replacingADomainsRoutesLeavesOtherDomainsAlone() throws {
        let other = try DomainName(parsing: "other.example.com")
        var routes = TunnelRoutes<Int>()
        routes.replaceRoutes(of: host, with: [(1, prefixes("/api"))])
        routes.replaceRoutes(of: other, with: [(9, [])])
        routes.replaceRoutes(of: host, with: [])
        #expect(routes.next(host: host, path: "/api") { _ in true } == nil)
        #expect(routes.next(host: other, path: "/api") { _ in true } == 9)
        #expect(routes.count == 1)
    }
}
