"""Holds one HTTPS keep-alive connection and sends a request on it every half second.

Usage: keepalive_check.py HOST PORT CA_FILE SECONDS
Prints JSON: how many requests were answered, the distinct statuses, how many TCP connections
were used (1 means none was dropped) and the serial of the certificate the connection was
opened with.
"""
import http.client
import json
import ssl
import sys
import time

host, port, ca_file, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
context = ssl.create_default_context(cafile=ca_file)


class PinnedConnection(http.client.HTTPSConnection):
    """Connects to 127.0.0.1 while sending SNI and Host for `host`."""

    def connect(self):
        import socket
        raw = socket.create_connection(("127.0.0.1", port))
        self.sock = context.wrap_socket(raw, server_hostname=host)


connection = PinnedConnection(host, port, context=context)
statuses, sockets, answered = set(), set(), 0
serial = None
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    connection.request("GET", "/keepalive?n=%d" % answered, headers={"Host": host})
    response = connection.getresponse()
    response.read()
    statuses.add(response.status)
    sockets.add(connection.sock.getsockname()[1])
    if serial is None:
        from hashlib import sha256
        serial = sha256(connection.sock.getpeercert(binary_form=True)).hexdigest()
    answered += 1
    time.sleep(0.5)
print(json.dumps({"answered": answered, "statuses": sorted(statuses), "connections": len(sockets), "certificate": serial}))
