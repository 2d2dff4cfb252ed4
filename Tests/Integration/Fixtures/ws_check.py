#!/usr/bin/env python3
"""Checks a WebSocket echo end to end: handshake, a text message, a 1 MiB binary message, 200
small pipelined messages, and the closing handshake. Standard library only.

usage: ws_check.py URL [CAFILE] [--vanish]
  URL       ws://HOST:PORT/PATH or wss://HOST:PORT/PATH; HOST is sent as SNI and Host, and is
            connected at 127.0.0.1
  --vanish  after the handshake and one echo, exit without a closing handshake (a client that
            disappears mid-session)
Prints "ok" and what it checked, or a message naming what went wrong (exit 1).
"""
import base64
import os
import socket
import ssl
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import websocket  # noqa: E402


def fail(message):
    print("FAIL " + message)
    sys.exit(1)


vanish = "--vanish" in sys.argv
arguments = [a for a in sys.argv[1:] if a != "--vanish"]
url = urllib.parse.urlparse(arguments[0])
raw = socket.create_connection(("127.0.0.1", url.port), timeout=30)
if url.scheme == "wss":
    context = ssl.create_default_context(cafile=arguments[1] if len(arguments) > 1 else None)
    context.set_alpn_protocols(["http/1.1"])
    raw = context.wrap_socket(raw, server_hostname=url.hostname)
stream = raw.makefile("rwb", buffering=0)

key = base64.b64encode(os.urandom(16)).decode()
request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n") % (url.path or "/", url.hostname, url.port, key)
stream.write(request.encode())
status = stream.readline().decode().strip()
headers = {}
while True:
    line = stream.readline().decode().strip()
    if not line:
        break
    name, _, value = line.partition(":")
    headers[name.strip().lower()] = value.strip()
if not status.startswith("HTTP/1.1 101"):
    fail("handshake answered %r %r" % (status, headers))
if headers.get("sec-websocket-accept") != websocket.accept_value(key):
    fail("wrong Sec-WebSocket-Accept %r" % headers.get("sec-websocket-accept"))
if headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("connection", "").lower():
    fail("101 without Upgrade/Connection: %r" % headers)


def roundtrip(opcode, payload):
    stream.write(websocket.frame(opcode, payload, masked=True))
    _, got_opcode, got = websocket.read_frame(stream)
    if (got_opcode, got) != (opcode, payload):
        fail("echo of a %d-byte opcode-%d message came back as %d bytes opcode %d" % (len(payload), opcode, len(got), got_opcode))


roundtrip(1, "hello, 안녕".encode())
if vanish:
    print("ok vanished after one echo", flush=True)
    os._exit(0)
roundtrip(2, os.urandom(1 << 20))
messages = [("message %d" % i).encode() for i in range(200)]
stream.write(b"".join(websocket.frame(1, m, masked=True) for m in messages))
for expected in messages:
    _, _, got = websocket.read_frame(stream)
    if got != expected:
        fail("pipelined message %r came back as %r" % (expected, got))
stream.write(websocket.frame(8, b"\x03\xe8bye", masked=True))
_, opcode, payload = websocket.read_frame(stream)
if opcode != 8 or payload != b"\x03\xe8bye":
    fail("close answered with opcode %d %r" % (opcode, payload))
if stream.read(1) != b"":
    fail("the connection stayed open after the closing handshake")
print("ok text, 1 MiB binary, 200 pipelined, close")
