#!/usr/bin/env python3
"""Sends a chunked HTTP/1.1 request with trailers (which curl cannot) and prints the response
status, body and trailers as JSON. Standard library only.

usage: trailers_check.py URL [CAFILE]
  URL  https://HOST:PORT/PATH or http://…; HOST is sent as SNI and Host, connected at 127.0.0.1
"""
import json
import socket
import ssl
import sys
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
raw = socket.create_connection(("127.0.0.1", url.port), timeout=30)
if url.scheme == "https":
    context = ssl.create_default_context(cafile=sys.argv[2] if len(sys.argv) > 2 else None)
    context.set_alpn_protocols(["http/1.1"])
    raw = context.wrap_socket(raw, server_hostname=url.hostname)
stream = raw.makefile("rwb", buffering=0)
request = ("POST %s HTTP/1.1\r\nHost: %s:%d\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n"
           "Trailer: X-Client-Checksum\r\nConnection: close\r\n\r\n") % (url.path, url.hostname, url.port)
stream.write(request.encode())
for piece in (b"hello ", b"trailers"):
    stream.write(b"%x\r\n%s\r\n" % (len(piece), piece))
stream.write(b"0\r\nX-Client-Checksum: abc123\r\n\r\n")

status = stream.readline().decode().split(" ")[1]
headers = {}
while True:
    line = stream.readline().decode().strip()
    if not line:
        break
    name, _, value = line.partition(":")
    headers[name.strip().lower()] = value.strip()
body, trailers = b"", {}
if headers.get("transfer-encoding", "").lower() == "chunked":
    while True:
        size = int(stream.readline().split(b";")[0].strip(), 16)
        if size == 0:
            break
        body += stream.read(size)
        stream.readline()
    while True:
        line = stream.readline().decode().strip()
        if not line:
            break
        name, _, value = line.partition(":")
        trailers[name.strip().lower()] = value.strip()
else:
    body = stream.read(int(headers.get("content-length", "0")))
print(json.dumps({"status": int(status), "body": body.decode(), "trailers": trailers}, sort_keys=True))
