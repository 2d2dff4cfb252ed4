internal import NIOHTTP2
internal import NIOSSL
internal import NIOHTTPTypesHTTP2
internal import NIOHTTPTypesHTTP1
