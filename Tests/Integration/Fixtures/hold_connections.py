"""Opens TLS connections to the edge and keeps them open, to test the per-address connection cap.

Usage: hold_connections.py PORT HOST CA_FILE COUNT
Opens COUNT connections one after another (each completes its handshake or fails), closes the
first one that succeeded, waits a moment and opens one more. Prints JSON: how many handshakes
succeeded ("held") and whether the one after the release did ("after_release").
"""
import json
import socket
import ssl
import sys
import time

port, host, ca_file, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
context = ssl.create_default_context(cafile=ca_file)
context.set_alpn_protocols(["http/1.1"])


def connect():
    try:
        return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname=host)
    except (OSError, ssl.SSLError):
        return None


held = [c for c in (connect() for _ in range(count)) if c is not None]
result = {"held": len(held), "after_release": None}
if held:
    held.pop(0).close()
    time.sleep(0.3)
    again = connect()
    result["after_release"] = again is not None
    if again:
        again.close()
for c in held:
    c.close()
print(json.dumps(result))
