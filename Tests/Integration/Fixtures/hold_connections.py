"""Opens connections to the edge and keeps them open, to test the per-address connection cap.

Usage: hold_connections.py HTTPS_PORT HTTP_PORT HOST CA_FILE KINDS
KINDS is a comma-separated list of "tls" (a TLS handshake on the HTTPS port) and "plain" (an
HTTP/1.1 request on the plain-HTTP port, answered and kept alive). Opens them one after another,
then closes the first one that succeeded, waits a moment and opens one more of the last kind.
Prints JSON: which were served ("served", one boolean per kind) and whether the one after the
release was ("after_release").
"""
import json
import socket
import ssl
import sys
import time

https_port, http_port, host, ca_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
kinds = sys.argv[5].split(",")
context = ssl.create_default_context(cafile=ca_file)
context.set_alpn_protocols(["http/1.1"])


def connect_tls():
    try:
        return context.wrap_socket(socket.create_connection(("127.0.0.1", https_port), timeout=5), server_hostname=host)
    except (OSError, ssl.SSLError):
        return None


def connect_plain():
    """A connection over the limit is accepted by the kernel and closed by the edge at once:
    it is served only if a request on it gets a response."""
    try:
        s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
        s.sendall(f"GET /held HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                s.close()
                return None
            head += chunk
        return s if head.startswith(b"HTTP/1.1 ") else None
    except OSError:
        return None


def connect(kind):
    return connect_tls() if kind == "tls" else connect_plain()


opened = [connect(kind) for kind in kinds]
result = {"served": [c is not None for c in opened], "after_release": None}
held = [c for c in opened if c is not None]
if held:
    held.pop(0).close()
    time.sleep(0.3)
    again = connect(kinds[-1])
    result["after_release"] = again is not None
    if again:
        again.close()
for c in held:
    c.close()
print(json.dumps(result))
