import HopGateDomain
import Testing

@Suite("RouteTable and PathPrefix")
struct RouteTableTests {
    let host = try! DomainName(parsing: "app.example.com")

    func table(_ routes: [(String, String, Bool)]) throws -> RouteTable<String> {
        try RouteTable(routes.map { prefix, target, strip in
            .init(host: host, prefix: try PathPrefix(parsing: prefix), target: target, stripPrefix: strip)
        })
    }

    @Test(arguments: [
        ("/service-a", "a"), ("/service-a/", "a"), ("/service-a/x/y?q=1", "a"), ("/service-a?x=1", "a"),
        ("/service-ab", "root"), ("/service", "root"), ("/", "root"), ("", "root"),
        ("/service-a/deep", "deep"), ("/service-a/deep/er", "deep"), ("/service-a/deeper", "a"),
    ])
    func longestPrefixOnSegmentBoundaries(_ path: String, _ expected: String) throws {
        let table = try table([("/", "root", false), ("/service-a", "a", false), ("/service-a/deep", "deep", false)])
        #expect(table.lookup(host: host, path: path)?.route.target == expected)
    }

    @Test func hostIsExactMatch() throws {
        let table = try table([("/", "root", false)])
        #expect(table.lookup(host: try DomainName(parsing: "other.example.com"), path: "/") == nil)
        #expect(table.lookup(host: try DomainName(parsing: "APP.example.com."), path: "/")?.route.target == "root")
    }

    @Test func noRootMeansNoMatchOutsidePrefixes() throws {
        let table = try table([("/api", "api", false)])
        #expect(table.lookup(host: host, path: "/other") == nil)
        #expect(table.lookup(host: host, path: "/apis") == nil)
    }

    @Test(arguments: [
        ("/api", "/"), ("/api/", "/"), ("/api#In\\ty=0\n", "/#In\\ty=0\n"), ("/api/users", "/users"), ("/api?x=1", "/?x=1"), ("/api/users?x=1", "/users?x=1"),
    ])
    func stripsThePrefixWhenAsked(_ path: String, _ forwarded: String) throws {
        let table = try table([("/api", "api", true)])
        #expect(table.lookup(host: host, path: path)?.forwardedPath == forwarded)
    }

    @Test func keepsThePathWhenNotStripping() throws {
        let table = try table([("/api", "api", false)])
        #expect(table.lookup(host: host, path: "/api/users?x=1")?.forwardedPath == "/api/users?x=1")
    }

    @Test func duplicateRouteRefusedUpsertReplaces() throws {
        var table = try table([("/api", "one", false)])
        #expect(throws: RouteTableError.self) { try table.add(.init(host: host, prefix: try PathPrefix(parsing: "/api/"), target: "two")) }
        table.upsert(.init(host: host, prefix: try PathPrefix(parsing: "/api"), target: "two"))
        #expect(table.lookup(host: host, path: "/api")?.route.target == "two")
        #expect(table.count == 1)
        table.remove(host: host, prefix: try PathPrefix(parsing: "/api"))
        #expect(table.count == 0)
    }

    @Test(arguments: ["api", "", "/a//b", "/a/../b", "/./a", "/a?b", "/a#b", "/a b"])
    func refusesMalformedPrefixes(_ input: String) {
        #expect(throws: PathPrefixError.self) { try PathPrefix(parsing: input) }
    }

    // Dot segments are resolved before matching (this used to match "/api" literally): a
    // backend resolves them too, so "/api/../admin" must not reach the "/api" route's tunnel
    // and be served as that backend's "/admin".
    @Test(arguments: [
        ("/api/../admin", "root"), ("/x/../api", "api"), ("/x/../api/users", "api"), ("/api/./users", "api"),
        ("/api/%2e%2e/admin", "root"), ("/api/%2E%2E", "root"), ("/../api", "api"), ("/api/..", "root"),
        ("/%61pi/x", "api"), ("//api//x", "api"), ("/api%2Fx", "root"), ("/API", "root"),
    ])
    func dotSegmentsAndEscapesAreNormalisedBeforeMatching(_ path: String, _ expected: String) throws {
        let table = try table([("/", "root", false), ("/api", "api", false)])
        #expect(table.lookup(host: host, path: path)?.route.target == expected, "\(path)")
    }

    @Test func notStrippingForwardsTheTargetAsSent() throws {
        let table = try table([("/api", "api", false)])
        #expect(table.lookup(host: host, path: "/x/../api/%7Eu?a=%2e")?.forwardedPath == "/x/../api/%7Eu?a=%2e")
    }

    @Test(arguments: [
        ("/x/../api/users?q=/../", "/users?q=/../"), ("/api/%7Eme", "/~me"), ("/api/a%2fb", "/a%2Fb"), ("/api/", "/"),
        ("/api/users/", "/users/"),
    ])
    func strippingForwardsTheNormalisedRest(_ path: String, _ forwarded: String) throws {
        let table = try table([("/api", "api", true)])
        #expect(table.lookup(host: host, path: path)?.forwardedPath == forwarded)
    }

    @Test func asteriskGoesToTheRootRouteUnchanged() throws {
        #expect(try table([("/", "root", true), ("/api", "api", false)]).lookup(host: host, path: "*")?.forwardedPath == "*")
        #expect(try table([("/api", "api", false)]).lookup(host: host, path: "*") == nil)
    }

    @Test func percentEncodedPrefixesCompareLikePaths() throws {
        #expect(try PathPrefix(parsing: "/%61pi/") == PathPrefix(parsing: "/api"))
        #expect(try PathPrefix(parsing: "/caf%c3%a9").value == "/caf%C3%A9")
        #expect(throws: PathPrefixError.self) { try PathPrefix(parsing: "/%2e%2e") }
        let table = try table([("/caf%C3%A9", "cafe", false)])
        #expect(table.lookup(host: host, path: "/caf%c3%a9/menu")?.route.target == "cafe")
    }

    @Test(arguments: [
        ("", "/", ""), ("/", "/", ""), ("/a/b/../../..", "/", ""), ("/a/./b/", "/a/b/", ""), ("/a/b/.", "/a/b/", ""),
        ("/a?x=1#f", "/a", "?x=1#f"), ("/a#f?x", "/a", "#f?x"), ("/%zz%4", "/%zz%4", ""), ("*", "*", ""),
        ("/.well-known/x", "/.well-known/x", ""), ("/a/.b", "/a/.b", ""),
    ])
    func requestPathNormalisation(_ target: String, _ path: String, _ suffix: String) {
        let request = RequestPath(target: target)
        #expect(request.path == path, "\(target)")
        #expect(request.suffix == suffix[...], "\(target)")
    }

    @Test func lookupIsIndependentOfTheNumberOfHosts() throws {
        var table = RouteTable<Int>()
        for index in 0..<20_000 {
            try table.add(.init(host: try DomainName(parsing: "host\(index).example.com"), target: index))
        }
        #expect(table.lookup(host: try DomainName(parsing: "host12345.example.com"), path: "/x")?.route.target == 12345)
        #expect(table.count == 20_000)
    }

    @Test func deterministicListing() throws {
        let table = try table([("/b", "b", false), ("/a", "a", false), ("/", "root", false)])
        #expect(table.allRoutes.map(\.target) == ["root", "a", "b"])
    }
}
