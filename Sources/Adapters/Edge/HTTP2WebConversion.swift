import HTTPTypes
import HopGatePorts
import NIOHPACK

/// An HTTP/2 web stream's header blocks as the HTTP types the router speaks, and back: a received
/// block is checked (``HTTP2FieldBlockCheck``) in the same pass that converts it, each field's
/// bytes read once.
///
/// What swift-nio-extras' `HTTP2FramePayloadToHTTPServerCodec` converts, with the checks
/// swift-nio-http2 applied before it (the edge switches those off: see ``HTTP2FieldBlockCheck``).
enum HTTP2WebConversion {
    /// The request a stream's first header block makes; throws a malformed block's problem.
    static func request(from headers: HPACKHeaders) throws(HTTP2FieldBlockCheck.Problem) -> HTTPRequest {
        var check = HTTP2FieldBlockCheck(.request)
        var method: String?
        var scheme: String?
        var authority: String?
        var path: String?
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value, indexing) in headers {
            if let problem = check.check(name: name, value: value) { throw problem }
            if name.utf8.first == UInt8(ascii: ":") {
                switch name {
                case ":method": method = value
                case ":scheme": scheme = value
                case ":authority": authority = value
                default: path = value  // the check lets no other pseudo-header field through
                }
            } else {
                fields.append(field(name: name, value: value, indexing: indexing))
            }
        }
        if let problem = check.finish() { throw problem }
        guard let method, let requestMethod = HTTPRequest.Method(method) else {
            throw HTTP2FieldBlockCheck.Problem(description: "an invalid :method")
        }
        var request = HTTPRequest(method: requestMethod, scheme: scheme, authority: authority, path: path)
        request.headerFields = fields
        return request
    }

    /// The trailers a stream's last header block carries; throws a malformed block's problem.
    static func trailers(from headers: HPACKHeaders) throws(HTTP2FieldBlockCheck.Problem) -> HTTPFields {
        var check = HTTP2FieldBlockCheck(.trailers)
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value, indexing) in headers {
            if let problem = check.check(name: name, value: value) { throw problem }
            fields.append(field(name: name, value: value, indexing: indexing))
        }
        return fields
    }

    /// A response head's block: `:status`, then its fields (names lower-cased, as HTTP/2 sends them).
    static func headers(of response: HTTPResponse) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(response.headerFields.count + 1)
        let status = response.pseudoHeaderFields.status
        headers.add(name: ":status", value: status.value, indexing: HPACKIndexing(status.indexingStrategy))
        for field in response.headerFields {
            headers.add(name: field.name.canonicalName, value: field.value, indexing: HPACKIndexing(field.indexingStrategy))
        }
        return headers
    }

    /// A trailer block, without the connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2):
    /// the tunnel's client passes its service's trailers on as they came.
    static func headers(ofTrailers trailers: HTTPFields) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(trailers.count)
        for field in trailers where !HopByHopFields.isHopByHop(field.name) {
            headers.add(name: field.name.canonicalName, value: field.value, indexing: HPACKIndexing(field.indexingStrategy))
        }
        return headers
    }

    /// A checked field: its name is a lower-case token, its value has no NUL, CR or LF.
    private static func field(name: String, value: String, indexing: HPACKIndexing) -> HTTPField {
        // Nearly every name is a common one, found without a token check or a new String; any
        // other is a token (the check let nothing else through), which `HTTPField.Name` accepts.
        let fieldName = CommonFieldNames.name(spelled: name) ?? HTTPField.Name(name)!
        var field = HTTPField(name: fieldName, value: value)
        field.indexingStrategy = HTTPField.DynamicTableIndexingStrategy(indexing)
        return field
    }
}

extension HPACKIndexing {
    init(_ strategy: HTTPField.DynamicTableIndexingStrategy) {
        switch strategy {
        case .avoid: self = .nonIndexable
        case .disallow: self = .neverIndexed
        default: self = .indexable
        }
    }

}

extension HTTPField.DynamicTableIndexingStrategy {
    init(_ indexing: HPACKIndexing) {
        switch indexing {
        case .indexable: self = .automatic
        case .nonIndexable: self = .avoid
        case .neverIndexed: self = .disallow
        }
    }
}
