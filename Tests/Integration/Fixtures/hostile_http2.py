"""Hostile HTTP/2 clients over TLS (ALPN h2), with frames written by hand.

Usage: hostile_http2.py PORT HOST CA_FILE CASE      (CA_FILE "-": plaintext, prior knowledge, as
                                                    to the server's plaintext tunnel port)
  rapid_reset    1000 streams, each HEADERS then RST_STREAM at once (CVE-2023-44487)
  continuation   HEADERS without END_HEADERS, then CONTINUATION frames without end (CVE-2024-27316)
  bad_pseudo     a request with a pseudo-header after a regular one, and one with :path missing
  many_streams   120 requests whose bodies never come (streams stay open), then one more after a pause
Prints JSON: the GOAWAY error code the server sent (or null), whether it closed the connection,
how many response HEADERS and RST_STREAM frames came back (and the RST_STREAM error codes), and
the settings the server announced.
"""
import json
import socket
import ssl
import struct
import sys

port, host, ca_file, case = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if ca_file == "-":
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
else:
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """An HPACK literal header field without indexing, new name (RFC 7541 §6.2.2)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


# HPACK static table: 0x82 :method GET, 0x87 :scheme https, 0x84 :path /.
REQUEST = b"\x82\x87\x84" + b"\x41" + bytes([len(host)]) + host.encode()
HEADERS, RST_STREAM, SETTINGS, GOAWAY, CONTINUATION = 1, 3, 4, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4

out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(SETTINGS, 0, 0)
if case == "many_streams":
    sock.settimeout(3)
if case == "rapid_reset":
    for index in range(1000):
        stream = 1 + 2 * index
        out += frame(HEADERS, END_STREAM | END_HEADERS, stream, REQUEST) + frame(RST_STREAM, 0, stream, struct.pack(">I", 8))
elif case == "continuation":
    out += frame(HEADERS, END_STREAM, 1, REQUEST)
    for index in range(10000):
        out += frame(CONTINUATION, 0, 1, literal(b"x-flood", b"%05d" % index))
elif case == "bad_pseudo":
    out += frame(HEADERS, END_STREAM | END_HEADERS, 1, literal(b"x-first", b"1") + REQUEST)
    out += frame(HEADERS, END_STREAM | END_HEADERS, 3, b"\x82\x87" + b"\x41" + bytes([len(host)]) + host.encode())
elif case == "many_streams":
    for index in range(120):
        out += frame(HEADERS, END_HEADERS, 1 + 2 * index, REQUEST)
else:
    raise SystemExit("unknown case " + case)

result = {"goaway_error": None, "closed": False, "response_headers": 0, "stream_resets": 0, "reset_codes": [], "settings": {}}
try:
    sock.sendall(out)
except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
    result["closed"] = True
buffer = b""
try:
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            result["closed"] = True
            break
        buffer += chunk
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[:3], "big")
            if len(buffer) < 9 + length:
                break
            kind, flags, payload = buffer[3], buffer[4], buffer[9:9 + length]
            buffer = buffer[9 + length:]
            if kind == GOAWAY:
                result["goaway_error"] = int.from_bytes(payload[4:8], "big")
            elif kind == HEADERS:
                result["response_headers"] += 1
            elif kind == RST_STREAM:
                result["stream_resets"] += 1
                result["reset_codes"].append(int.from_bytes(payload[:4], "big"))
            elif kind == SETTINGS and not flags & 0x1:
                for offset in range(0, length, 6):
                    result["settings"][str(int.from_bytes(payload[offset:offset + 2], "big"))] = int.from_bytes(payload[offset + 2:offset + 6], "big")
except (socket.timeout, TimeoutError):
    pass
except (ConnectionResetError, ssl.SSLError):
    result["closed"] = True
print(json.dumps(result))
