import HopGateLocalForwarder
import HopGatePorts
import HTTPTypes
import NIOCore
import Synchronization

/// The local forwarders the local-forwarder contract runs against.
enum ForwarderKind: String, CaseIterable, CustomStringConvertible {
    case asyncHTTPClient
    case pooledHTTP1

    var description: String { rawValue }
}

/// Runs `body` with a forwarder of `kind`, and shuts it down after.
func withForwarder<Result>(_ kind: ForwarderKind, _ body: (any LocalForwarder) async throws -> Result) async throws -> Result {
    let forwarder: any LocalForwarder
    let shutdown: () async throws -> Void
    switch kind {
    case .asyncHTTPClient:
        let made = HTTPClientLocalForwarder()
        (forwarder, shutdown) = (made, made.shutdown)
    case .pooledHTTP1:
        let made = PooledHTTP1Forwarder()
        (forwarder, shutdown) = (made, made.shutdown)
    }
    let result: Swift.Result<Result, any Error>
    do { result = .success(try await body(forwarder)) } catch { result = .failure(error) }
    try await shutdown()
    return try result.get()
}

/// Forwards `method path` (with `fields` and a body of `chunks`) to the backend on `port` and
/// returns the response parts it wrote.
func forwardedResponse(
    _ forwarder: any LocalForwarder, _ method: HTTPRequest.Method, _ path: String, port: Int,
    fields: HTTPFields = [:], body chunks: [ByteBuffer] = []
) async throws -> CollectedResponse {
    let response = CollectedResponse()
    try await forwarder.forward(
        exchangeHead(method, path, fields), to: LocalTarget(host: "127.0.0.1", port: port),
        requestBody: requestParts(chunks), response: response.writer)
    return response
}

/// Collects a response's parts.
final class CollectedResponse: Sendable {
    private let state = Mutex<(head: HTTPResponse?, body: [UInt8], ended: Bool, chunks: Int)>((nil, [], false, 0))
    var writer: PartWriter<ExchangeResponsePart> {
        PartWriter { [self] part in
            state.withLock { state in
                switch part {
                case .head(let head): state.head = head
                case .body(let buffer): state.body += buffer.readableBytesView; state.chunks += 1
                case .end: state.ended = true
                }
            }
        }
    }
    var head: HTTPResponse? { state.withLock { $0.head } }
    var body: [UInt8] { state.withLock { $0.body } }
    var text: String { String(decoding: body, as: UTF8.self) }
    var ended: Bool { state.withLock { $0.ended } }
    var chunks: Int { state.withLock { $0.chunks } }
}

/// A request body of `chunks`, then its end.
func requestParts(_ chunks: [ByteBuffer]) -> PartStream<ExchangeRequestPart> {
    var remaining = chunks.map { ExchangeRequestPart.body($0) } + [.end(nil)]
    return PartStream { remaining.isEmpty ? nil : remaining.removeFirst() }
}

/// A tunnelled request head for `app.example.com`.
func exchangeHead(_ method: HTTPRequest.Method, _ path: String, _ fields: HTTPFields = [:]) -> ExchangeRequestHead {
    ExchangeRequestHead(
        request: HTTPRequest(method: method, scheme: "https", authority: "app.example.com", path: path, headerFields: fields),
        requestID: "t")
}

/// The test backend's deterministic byte pattern (`/bytes/N`, `/unframed/N`).
func backendPattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(($0 % 65_536 * 31 + 7) % 251) }
}
