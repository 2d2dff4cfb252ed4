#!/usr/bin/env python3
"""A small HTTP/1.1 backend for HopGate's integration tests and benchmarks.

Usage: backend.py PORT   (binds 127.0.0.1; prints "ready PORT" when listening; PORT 0 = any)

  GET  /bytes/N        N pseudo-random bytes (deterministic), Content-Length set
  GET  /chunked/N      N chunks of "chunk i\\n", one every 50 ms, Transfer-Encoding: chunked
  GET  /sse/N          N server-sent events, one every 50 ms
  GET  /slow/MS        waits MS milliseconds, then answers "slow"
  GET  /headers        the request's headers as JSON
  POST /echo           the request body back (Content-Length or chunked in; Content-Length out)
  POST /sha256         the SHA-256 hex of the request body, read in chunks
  GET  /ws             a WebSocket (Upgrade) that echoes every message and answers close
  POST /trailers       reads the body (and its trailers); answers chunked "N bytes" with trailers
                       X-Body-Sha256 and X-Request-Trailers (the request's trailers as JSON)
  GET  /connection     the number of the connection the request came on (1 for the first accepted)
  GET  /drop-next      answers "armed"; the next request on this connection is dropped: the
                       connection closes without an answer (a keep-alive connection the
                       service closed while the client thought it idle)
  GET  /close          answers with Connection: close, then closes the connection
  GET  /unframed/N     N bytes without Content-Length or chunking: read to the close
  GET  /status/N       status N with an empty body (no Content-Length for 204 and 304)
  *    anything else   "hello from backend METHOD PATH"
"""
import hashlib
import itertools
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket  # noqa: E402


def pattern(n):
    block = bytes((i * 31 + 7) % 251 for i in range(65536))
    full, rest = divmod(n, len(block))
    for _ in range(full):
        yield block
    if rest:
        yield block[:rest]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle plus delayed ACKs add
    # 40 ms to every keep-alive response.
    disable_nagle_algorithm = True

    connection_numbers = itertools.count(1)

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.connection_number = next(Handler.connection_numbers)
        self.drop_next = False

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.request_trailers = {}
                    while True:
                        line = self.rfile.readline()
                        if line in (b"\r\n", b"\n", b""):
                            return
                        name, _, value = line.decode().partition(":")
                        self.request_trailers[name.strip().lower()] = value.strip()
                yield self.rfile.read(size)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk

    def send_plain(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def stream(self, content_type, pieces, delay):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
            time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")

    def websocket_echo(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_value(key))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                _, opcode, payload = websocket.read_frame(self.rfile)
                if opcode == 8:  # close: answer it, then close the connection
                    self.wfile.write(websocket.frame(8, payload, masked=False))
                    self.wfile.flush()
                    return
                self.wfile.write(websocket.frame(opcode, payload, masked=False))
                self.wfile.flush()
        except EOFError:
            return

    def handle_any(self):
        if self.drop_next:
            self.close_connection = True
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[0] == "connection":
            self.send_plain(200, b"%d" % self.connection_number)
        elif parts[0] == "drop-next":
            self.drop_next = True
            self.send_plain(200, b"armed")
        elif parts[0] == "close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"closing")
        elif parts[0] == "unframed" and len(parts) == 2:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            for block in pattern(int(parts[1])):
                self.wfile.write(block)
            self.close_connection = True
        elif parts[0] == "status" and len(parts) == 2:
            code = int(parts[1])
            self.send_response(code)
            if code not in (204, 304):
                self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts[0] == "ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.websocket_echo()
        elif parts[0] == "bytes" and len(parts) == 2:
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            if self.command != "HEAD":
                for block in pattern(n):
                    self.wfile.write(block)
        elif parts[0] == "chunked" and len(parts) == 2:
            self.stream("text/plain", [b"chunk %d\n" % i for i in range(int(parts[1]))], 0.05)
        elif parts[0] == "sse" and len(parts) == 2:
            self.stream("text/event-stream", [b"data: event %d\n\n" % i for i in range(int(parts[1]))], 0.05)
        elif parts[0] == "slow" and len(parts) == 2:
            time.sleep(int(parts[1]) / 1000)
            self.send_plain(200, b"slow")
        elif parts[-1] == "whoami":  # which backend, the path it got, and X-Forwarded-Prefix
            line = "backend %d %s prefix=%s" % (self.server.server_address[1], self.path, self.headers.get("X-Forwarded-Prefix", "-"))
            self.send_plain(200, line.encode())
        elif parts[0] == "headers":
            self.send_plain(200, json.dumps({k: v for k, v in self.headers.items()}).encode(), "application/json")
        elif parts[0] == "echo":
            body = b"".join(self.read_body())
            self.send_plain(200, body, self.headers.get("Content-Type", "application/octet-stream"))
        elif parts[0] == "trailers":
            digest, count = hashlib.sha256(), 0
            for chunk in self.read_body():
                digest.update(chunk)
                count += len(chunk)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Body-Sha256, X-Request-Trailers")
            self.end_headers()
            body = b"%d bytes" % count
            self.wfile.write(b"%x\r\n%s\r\n0\r\n" % (len(body), body))
            self.wfile.write(b"X-Body-Sha256: %s\r\n" % digest.hexdigest().encode())
            trailers = json.dumps(getattr(self, "request_trailers", {}), sort_keys=True)
            self.wfile.write(b"X-Request-Trailers: %s\r\n\r\n" % trailers.encode())
        elif parts[0] == "sha256":
            digest = hashlib.sha256()
            for chunk in self.read_body():
                digest.update(chunk)
            self.send_plain(200, digest.hexdigest().encode())
        else:
            for _ in self.read_body():
                pass
            self.send_plain(200, ("hello from backend %s %s" % (self.command, self.path)).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    server.daemon_threads = True
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
