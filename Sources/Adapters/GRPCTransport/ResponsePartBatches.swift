import AsyncAlgorithms
import HopGatePorts

/// How an Exchange stream's response reaches the public side on the server: the parts of one
/// message in one rendezvous (a small response's head, body and end arrive together and are
/// written to the public connection together).
typealias ResponsePartBatches = AsyncThrowingChannel<[ExchangeResponsePart], any Error>
