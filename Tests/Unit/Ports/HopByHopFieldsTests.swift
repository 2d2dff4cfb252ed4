import HTTPTypes
import HopGatePorts
import Testing

/// The fields that never cross the proxy (RFC 9110 §7.6.1).
@Suite("Hop-by-hop fields")
struct HopByHopFieldsTests {
    @Test("the fixed hop-by-hop fields and those Connection names are removed, whatever their case; the rest keep their order")
    func removed() {
        let fields: HTTPFields = [
            HTTPField.Name("Accept")!: "*/*",
            HTTPField.Name("Connection")!: "keep-alive, X-Secret",
            HTTPField.Name("Keep-Alive")!: "timeout=5",
            HTTPField.Name("x-secret")!: "1",
            HTTPField.Name("Transfer-Encoding")!: "chunked",
            HTTPField.Name("X-Kept")!: "2",
            HTTPField.Name("Proxy-Authorization")!: "Basic e30=",
        ]
        let kept = HopByHopFields.removing(from: fields)
        #expect(kept.map(\.name.rawName) == ["Accept", "X-Kept"])
    }

    @Test("fields without any hop-by-hop field come back unchanged")
    func unchanged() {
        let fields: HTTPFields = [HTTPField.Name("Accept")!: "*/*", HTTPField.Name("X-A")!: "1", HTTPField.Name("x-a")!: "2"]
        #expect(HopByHopFields.removing(from: fields) == fields)
        #expect(HopByHopFields.removing(from: HTTPFields()).isEmpty)
    }

    @Test("each of the eight fixed names is hop-by-hop in any case; names of the same lengths are not")
    func fixedNames() {
        let fixed = [
            "TE", "Upgrade", "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
            "Proxy-Authenticate", "Proxy-Authorization",
        ]
        for name in fixed {
            #expect(HopByHopFields.isHopByHop(name), "\(name)")
            #expect(HopByHopFields.isHopByHop(name.lowercased()), "\(name)")
            #expect(HopByHopFields.isHopByHop(HTTPField.Name(name)!), "\(name)")
        }
        let others = [
            "Tx", "T", "Upgrades", "Upgrad", "Connectivity", "Keep-Alivez", "Proxy-Connections",
            "Transfer-Encodings", "Proxy-Authenticated", "Content-Encoding", "Accept", "Trailer",
            "Proxy-Authorisation", "Keep-Alivf",
        ]
        for name in others {
            #expect(!HopByHopFields.isHopByHop(name), "\(name)")
            #expect(!HopByHopFields.isHopByHop(HTTPField.Name(name)!), "\(name)")
        }
    }
}
