import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The JSON error response every admin failure outside the generated handlers uses:
/// `{"success":false,"error":"…"}`, the same shape the document declares.
enum AdminErrorBody {
    static func response(_ status: HTTPResponse.Status, _ message: String, headers extra: HTTPFields = [:]) -> Response {
        struct Body: Encodable { let success = false; let error: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(Body(error: message))) ?? Data(#"{"success":false,"error":"internal error"}"#.utf8)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
