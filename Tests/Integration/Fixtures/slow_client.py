#!/usr/bin/env python3
"""Hostile and idle HTTP/1.1 clients over TLS, for the request-head timeout test.

usage: slow_client.py HOST PORT CAFILE MODE
  MODE trickle  sends a request head one byte every 0.3 s and never finishes it
  MODE idle     sends one complete request, reads the answer, then stays silent
Prints "closed after N s" when the server closes the connection (within 20 s), else "open".
"""
import socket
import ssl
import sys
import time

host, port, cafile, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
context.set_alpn_protocols(["http/1.1"])
sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname=host)
started = time.monotonic()
if mode == "idle":
    sock.sendall(("GET /idle HTTP/1.1\r\nHost: %s\r\n\r\n" % host).encode())
    answer = b""
    while b"hello from backend GET /idle" not in answer:
        answer += sock.recv(65536)
    started = time.monotonic()
    sock.settimeout(20)
    try:
        closed = sock.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        closed = True
    except socket.timeout:
        closed = False
else:
    sock.setblocking(False)
    closed = False
    for byte in ("GET /never HTTP/1.1\r\nHost: %s\r\nX-Slow: " % host + "x" * 200).encode():
        if time.monotonic() - started > 20:
            break
        try:
            sock.send(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            closed = True
            break
        time.sleep(0.3)
        try:
            if sock.recv(1) == b"":
                closed = True
                break
        except ssl.SSLWantReadError:
            pass
        except (ConnectionResetError, ssl.SSLError, OSError):
            closed = True
            break
print("closed after %.1f s" % (time.monotonic() - started) if closed else "open")
