"""Sends malformed and hostile HTTP/1.1 requests over TLS, one connection each, and reports what
came back: the status line's code (or null) and whether the server closed the connection.

Usage: hostile_http1.py PORT HOST CA_FILE
Prints one JSON object {case: {"status": int|null, "closed": bool}}.
"""
import json
import socket
import ssl
import sys

port, host, ca_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=ca_file)
context.set_alpn_protocols(["http/1.1"])
H = host

CASES = {
    # Smuggling: two ways to frame one body (RFC 9112 §6.3).
    "content_length_and_chunked": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two_content_lengths": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    "chunked_not_last": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "unknown_transfer_coding": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "negative_content_length": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: -1\r\n\r\n",
    "signed_content_length": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nContent-Length: +4\r\n\r\nabcd",
    "invalid_chunk_size": f"POST /echo HTTP/1.1\r\nHost: {H}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    # Malformed heads (RFC 9112 §2.2, §5).
    "obs_fold": f"GET / HTTP/1.1\r\nHost: {H}\r\nX-A: one\r\n two\r\n\r\n",
    "bare_cr": f"GET / HTTP/1.1\r\nHost: {H}\r\nX-A: a\rb\r\n\r\n",
    "nul_in_header": f"GET / HTTP/1.1\r\nHost: {H}\r\nX-A: a\x00b\r\n\r\n",
    "space_before_colon": f"GET / HTTP/1.1\r\nHost: {H}\r\nX-A : b\r\n\r\n",
    "control_in_method": f"G\x01T / HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "http_0_9": "GET /\r\n\r\n",
    "unknown_version": f"GET / HTTP/1.2\r\nHost: {H}\r\n\r\n",
    # Host (RFC 9112 §3.2).
    "no_host": "GET / HTTP/1.1\r\n\r\n",
    "two_hosts": f"GET / HTTP/1.1\r\nHost: {H}\r\nHost: other.example.com\r\n\r\n",
    # Framing is intact here, so the 400 may keep the connection: ask for the close.
    "invalid_host": "GET / HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n",
    "absolute_form_foreign": f"GET http://elsewhere.example.com/x HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n",
    "absolute_form_same": f"GET https://{H}/x HTTP/1.1\r\nHost: other.example.com\r\nConnection: close\r\n\r\n",
    # Limits.
    "target_9k": f"GET /{'a' * 9000} HTTP/1.1\r\nHost: {H}\r\n\r\n",
    "header_fields_150": f"GET / HTTP/1.1\r\nHost: {H}\r\n" + "".join(f"X-{i}: v\r\n" for i in range(150)) + "\r\n",
    "header_bytes_70k": f"GET / HTTP/1.1\r\nHost: {H}\r\n" + "".join(f"X-{i}: {'v' * 7000}\r\n" for i in range(10)) + "\r\n",
    "head_over_80k": f"GET / HTTP/1.1\r\nHost: {H}\r\nX-A: {'a' * 100000}\r\n\r\n",
}


def probe(raw):
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)
    data, closed = b"", False
    try:
        sock.sendall(raw.encode("latin-1"))
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except (socket.timeout, TimeoutError):
        pass  # still open after 10 s: the server kept the connection
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        closed = True
    finally:
        sock.close()
    status = None
    if data.startswith(b"HTTP/1.1 "):
        status = int(data[9:12])
    return {"status": status, "closed": closed}


only = sys.argv[4:] or list(CASES)
print(json.dumps({name: probe(CASES[name]) for name in only}))
