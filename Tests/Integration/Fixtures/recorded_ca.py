"""A stand-in ACME CA that plays recorded answers, for ACME Renewal Information (RFC 9773),
which Debian's Pebble does not offer.

Usage: recorded_ca.py PORT_FILE LOG_FILE WINDOW_START WINDOW_END
Serves on 127.0.0.1 (a free port, written to PORT_FILE): the directory (with renewalInfo),
nonces, renewal information with the given window (Retry-After: 21600, the RFC's example), an
account, and a newOrder that is refused with a rateLimited problem. Every request is appended
to LOG_FILE as "METHOD PATH".
"""
import http.server
import json
import sys

port_file, log_file, window_start, window_end = sys.argv[1:5]


class RecordedCA(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def record(self):
        with open(log_file, "a") as log:
            log.write("%s %s\n" % (self.command, self.path))

    def answer(self, status, body, content_type="application/json", headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Replay-Nonce", "nonce-%d" % id(self))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_port

    def do_HEAD(self):
        self.record()
        self.answer(200, None)

    def do_GET(self):
        self.record()
        if self.path == "/directory":
            base = self.base()
            self.answer(200, {"newNonce": base + "/nonce", "newAccount": base + "/account", "newOrder": base + "/order",
                              "renewalInfo": base + "/renewal-info", "meta": {}})
        elif self.path.startswith("/renewal-info/"):
            self.answer(200, {"suggestedWindow": {"start": window_start, "end": window_end},
                              "explanationURL": "https://acme.example.com/docs/ari"}, headers=[("Retry-After", "21600")])
        else:
            self.answer(404, {"type": "urn:ietf:params:acme:error:malformed", "detail": "no such resource"}, "application/problem+json")

    def do_POST(self):
        self.record()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/account":
            self.answer(201, {"status": "valid"}, headers=[("Location", self.base() + "/account/1")])
        else:
            self.answer(429, {"type": "urn:ietf:params:acme:error:rateLimited", "detail": "recorded: too many new orders"},
                        "application/problem+json")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordedCA)
with open(port_file, "w") as f:
    f.write(str(server.server_port))
server.serve_forever()
