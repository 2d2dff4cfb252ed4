public import HTTPTypes

/// What a request head says about its body, before any of it is read.
public enum RequestBodyFraming {
    /// Whether the request certainly has no body: `Content-Length: 0`, or — in HTTP/1.1 only —
    /// neither `Content-Length` nor `Transfer-Encoding` (RFC 9112 §6.3). An HTTP/2 request may
    /// carry a body without either, so there only the zero length counts.
    public static func hasNoBody(_ request: HTTPRequest, http1: Bool) -> Bool {
        let lengths = request.headerFields[values: .contentLength]
        if !lengths.isEmpty { return lengths.allSatisfy { $0.trimmingSpaces == "0" } }
        return http1 && request.headerFields[.transferEncoding] == nil
    }
}

private extension String {
    var trimmingSpaces: Substring {
        var view = self[...]
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return view
    }
}
