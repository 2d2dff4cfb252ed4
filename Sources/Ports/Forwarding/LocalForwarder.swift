
/// Where a client sends tunnelled requests: a local HTTP service such as `127.0.0.1:8080`.
public struct LocalTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `http` or `https`.
    public var scheme: String

    public init(host: String, port: Int, scheme: String = "http") {
        self.host = host
        self.port = port
        self.scheme = scheme
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}

/// Performs one exchange against a local service, streaming both bodies.
public protocol LocalForwarder: Sendable {
    /// Sends the request to `target` and writes the response parts as they arrive.
    /// - Throws: when the target cannot be reached or fails; before a head was written the
    ///   caller answers 502 itself.
    nonisolated(nonsending) func forward(
        _ head: ExchangeRequestHead,
        to target: LocalTarget,
        requestBody: PartStream<ExchangeRequestPart>,
        response: PartWriter<ExchangeResponsePart>
    ) async throws
}
