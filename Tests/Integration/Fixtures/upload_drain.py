"""Uploads a body to a host the edge does not know (so it answers 404 without reading the body)
and reports how much of the body the edge took before it closed the connection.

Usage: upload_drain.py PORT HOST CA_FILE fast|slow
  fast: a 256 MiB body sent as fast as the edge reads it;
  slow: a 16 MiB body at 16 KiB every 50 ms (about 320 KiB/s), for at most 10 s.
Prints one JSON object {"status": int|null, "sent": bytes, "closed": bool, "seconds": float}.
"""
import json
import select
import socket
import ssl
import sys
import time

port, host, ca_file, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca_file)
context.set_alpn_protocols(["http/1.1"])
total = (256 if mode == "fast" else 16) << 20
chunk = b"x" * (65536 if mode == "fast" else 16384)

sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=host)
sock.sendall(f"POST /upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {total}\r\n\r\n".encode())
started = time.monotonic()
sent, closed, response = 0, False, b""


def peer_closed():
    """Reads what the edge sent so far; true once it closed the connection."""
    global response
    while select.select([sock], [], [], 0)[0] or sock.pending():
        data = sock.recv(65536)
        if not data:
            return True
        response += data
    return False


try:
    while sent < total and time.monotonic() - started < 10:
        sock.sendall(chunk)
        sent += len(chunk)
        if peer_closed():
            closed = True
            break
        if mode == "slow":
            time.sleep(0.05)
except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
    closed = True
seconds = time.monotonic() - started
sock.close()
status = int(response[9:12]) if response.startswith(b"HTTP/1.1 ") else None
print(json.dumps({"status": status, "sent": sent, "closed": closed, "seconds": round(seconds, 2)}))
