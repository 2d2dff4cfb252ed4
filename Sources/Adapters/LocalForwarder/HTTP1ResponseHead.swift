import HopGatePorts
import HTTPTypes
import NIOHTTP1

/// What a local service's HTTP/1.1 response head means for the tunnel and for the connection.
enum HTTP1ResponseHead {
    /// The head as the tunnel carries it: hop-by-hop fields removed (each name converted once,
    /// then looked up by its canonical form).
    static func response(from head: HTTPResponseHead) -> HTTPResponse {
        // Gathered in an array and added at once: each append to `HTTPFields` is a generic call
        // that is not specialized.
        var fields: [HTTPField] = []
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            guard let fieldName = CommonFieldNames.name(spelled: name) ?? HTTPField.Name(name),
                !HopByHopFields.isHopByHop(fieldName)
            else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return HTTPResponse(
            status: .init(code: Int(head.status.code), reasonPhrase: head.status.reasonPhrase), headerFields: HTTPFields(presized: fields))
    }

    /// Whether the connection can carry another exchange after this response: the service keeps
    /// it alive, and the body's end is framed (a body read to the close ends the connection).
    static func keepsConnection(_ head: HTTPResponseHead, method: HTTPMethod) -> Bool {
        guard head.isKeepAlive else { return false }
        if method == .HEAD || head.status == .noContent || head.status == .notModified { return true }
        if head.headers.contains(name: "content-length") { return true }
        return head.headers[canonicalForm: "transfer-encoding"].contains { $0.lowercased() == "chunked" }
    }
}
