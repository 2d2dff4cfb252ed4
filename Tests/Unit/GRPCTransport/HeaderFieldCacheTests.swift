import Foundation
import HTTPTypes
@testable import HopGateGRPCTransport
import HopGatePorts
import NIOCore
import SwiftProtobuf
import Testing

/// ``HeaderFieldCache``: a stream's decoder that reuses the fields it made before decodes every
/// message exactly as one that makes every field, names' spelling included.
@Suite("Header field cache")
struct HeaderFieldCacheTests {
    @Test("the edge decodes client messages through one cache as without it, the second time too")
    func edgeDecodesTheSame() throws {
        var random = SeededGenerator(seed: 11)
        let messages: [[UInt8]] = try (0..<300).map { _ in try RandomExchange.fromClient(&random).serializedBytes() }
        let cache = HeaderFieldCache()
        for _ in 0..<2 {
            for bytes in messages {
                let cached = try ExchangeMessageDecoding.decode(ByteBuffer(bytes: bytes), cache: cache)
                let made = try ExchangeMessageDecoding.decode(ByteBuffer(bytes: bytes))
                #expect(cached == made)
                #expect(Self.spellings(cached) == Self.spellings(made))
            }
        }
    }

    @Test("the client decodes server messages through one cache as without it, the second time too")
    func clientDecodesTheSame() throws {
        var random = SeededGenerator(seed: 12)
        let messages: [[UInt8]] = try (0..<300).map { _ in try RandomExchange.fromServer(&random).serializedBytes() }
        let cache = HeaderFieldCache()
        for _ in 0..<2 {
            for bytes in messages {
                let cached = try ServerExchangeMessage.decode(ByteBuffer(bytes: bytes), cache: cache)
                let made = try ServerExchangeMessage.decode(ByteBuffer(bytes: bytes))
                switch (cached, made) {
                case (.head(.success(let got)), .head(.success(let want))):
                    #expect(got.request == want.request && got.end == want.end)
                    #expect(got.request.request.headerFields.map(\.name.rawName) == want.request.request.headerFields.map(\.name.rawName))
                case (.head(.failure(let got)), .head(.failure(let want))): #expect(got == want)
                case (.body(let got), .body(let want)): #expect(got == want)
                case (.end(let got), .end(let want)): #expect(got == want)
                case (.cancel, .cancel), (.none, .none): break
                default: Issue.record("\(cached) against \(made)")
                }
            }
        }
    }

    @Test("a head of fields seen before, and one that differs in a single byte of a value, decode to their own fields")
    func nearMisses() throws {
        let cache = HeaderFieldCache()
        let date = "Mon, 07 Dec 2026 11:43:07 GMT"
        let later = "Mon, 07 Dec 2026 11:43:08 GMT"
        let middle = "Mon, 07 Dec 2026 12:43:07 GMT"  // differs away from the first and last eight bytes
        let long = String(repeating: "v", count: 200)
        for value in [date, later, date, middle, date, long, long] {
            let bytes = try Self.responseHead([("Server", "nginx"), ("Date", value), ("date", value), ("X-Long", long)])
            guard case .success(.part(.head(let response))) = try ExchangeMessageDecoding.decode(ByteBuffer(bytes: bytes), cache: cache) else {
                Issue.record("not a head")
                continue
            }
            #expect(response.headerFields.map { "\($0.name.rawName): \($0.value)" } == [
                "Server: nginx", "Date: \(value)", "date: \(value)", "X-Long: \(long)",
            ])
        }
    }

    @Test("only Header messages of at most 96 bytes are kept, and only the very bytes find them")
    func keepsShortKeysOnly() {
        let cache = HeaderFieldCache()
        let field = HTTPField(name: .server, value: "nginx")
        let short: [UInt8] = Array(repeating: 7, count: HeaderFieldCache.longestKey)
        let long: [UInt8] = Array(repeating: 7, count: HeaderFieldCache.longestKey + 1)
        short.withUnsafeBytes { cache.keep(field, for: $0) }
        long.withUnsafeBytes { cache.keep(field, for: $0) }
        #expect(short.withUnsafeBytes { cache.field(for: $0) } == field)
        #expect(long.withUnsafeBytes { cache.field(for: $0) } == nil)
        var changed = short
        changed[40] = 8
        #expect(changed.withUnsafeBytes { cache.field(for: $0) } == nil)
        #expect(short.dropLast().withUnsafeBytes { cache.field(for: $0) } == nil)
    }

    private static func responseHead(_ fields: [(String, String)]) throws -> [UInt8] {
        var message = Hopgate_Tunnel_V1_ExchangeFromClient()
        message.head = .with {
            $0.status = 200
            $0.headers = fields.map { field in .with { $0.name = field.0; $0.value = Data(field.1.utf8) } }
        }
        return try message.serializedBytes()
    }

    /// The header names of a decoded message's head, as spelled.
    private static func spellings(_ message: Result<ExchangeMessageDecoding.Message, TunnelExchangeError>) -> [String] {
        switch message {
        case .success(.part(.head(let response))): response.headerFields.map(\.name.rawName)
        case .success(.parts(let parts)):
            parts.flatMap { part -> [String] in
                if case .head(let response) = part { return response.headerFields.map(\.name.rawName) }
                return []
            }
        default: []
        }
    }
}
