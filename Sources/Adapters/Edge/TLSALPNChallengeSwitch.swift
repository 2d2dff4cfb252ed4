import HopGateDomain
import HopGatePorts
import Logging
import NIOCore
import NIOSSL

/// Sits where the TLS handler would, holds the first bytes of a connection until the ClientHello
/// is complete, then adds the TLS handler behind itself and steps aside: the regular one for
/// every ordinary client, or — for an ACME TLS-ALPN-01 validation (ALPN `acme-tls/1`, RFC 8737)
/// whose name has a challenge pending — one that presents the challenge certificate and
/// negotiates only `acme-tls/1`. A validation for a name with nothing pending is closed.
final class TLSALPNChallengeSwitch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let regular: NIOSSLContext
    private let challenges: any ChallengeResponder
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var deciding = false

    init(regular: NIOSSLContext, challenges: any ChallengeResponder, logger: Logger) {
        self.regular = regular
        self.challenges = challenges
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        guard !deciding, let bytes = buffered?.readableBytesView else { return }
        switch ClientHelloPeek.inspect(bytes) {
        case .needMore:
            return
        case .other:
            proceed(context: context, with: NIOSSLServerHandler(context: regular))
        case .acmeTLSALPN(let serverName):
            deciding = true
            let challenges = self.challenges
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { () -> NIOSSLContext? in
                guard let name = try? DomainName(parsing: serverName),
                      let key = await challenges.tlsALPN01Certificate(for: name) else { return nil }
                return try Self.challengeContext(for: key)
            }.whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let challengeContext?):
                    handler.logger.info("answering an ACME TLS-ALPN-01 validation", metadata: ["domain": "\(serverName)"])
                    handler.proceed(context: context, with: NIOSSLServerHandler(context: challengeContext))
                case .success(nil):
                    handler.logger.info("refused an acme-tls/1 handshake: no challenge pending", metadata: ["domain": "\(serverName)"])
                    context.close(promise: nil)
                case .failure(let error):
                    handler.logger.error("cannot present the TLS-ALPN-01 certificate", metadata: ["domain": "\(serverName)", "error": "\(error)"])
                    context.close(promise: nil)
                }
            }
        }
    }

    /// Puts `tls` behind this handler, hands it the bytes held so far, and leaves the pipeline.
    private func proceed(context: ChannelHandlerContext, with tls: NIOSSLServerHandler) {
        do {
            try context.pipeline.syncOperations.addHandler(tls, position: .after(self))
        } catch {
            context.close(promise: nil)
            return
        }
        if let buffered {
            self.buffered = nil
            context.fireChannelRead(wrapInboundOut(buffered))
            context.fireChannelReadComplete()  // lets the TLS handler flush its answer
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    static func challengeContext(for key: CertifiedKey) throws -> NIOSSLContext {
        let override = try EdgeCertificates.override(for: key)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: override.certificateChain ?? [], privateKey: override.privateKey!)
        EdgeTLSPolicy.apply(to: &configuration)
        configuration.applicationProtocols = [ClientHelloPeek.acmeALPN]
        return try NIOSSLContext(configuration: configuration)
    }
}
