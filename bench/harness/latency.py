#!/usr/bin/env python3
"""Small-request latency through a running HopGate tunnel, with and without a concurrent large
download on the same tunnel (head-of-line blocking check).

usage: bench/harness/latency.py PUBLIC_URL HOST [REQUESTS] [DOWNLOAD_BYTES]
  PUBLIC_URL  the server's public address, e.g. https://127.0.0.1:8443 (HTTPS: set HOP_BENCH_CA to
              the dev CA, e.g. .hopgate/ca/ca.pem; HOST is sent as SNI and Host) or http://… with
              HOP_SERVER_HTTP_MODE=proxy
  HOST        the registered domain whose client forwards to Tests/Integration/Fixtures/backend.py
Prints p50/p99 in milliseconds for both runs and their ratio.
"""
import http.client
import os
import socket
import ssl
import statistics
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
host = sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
download = int(sys.argv[4]) if len(sys.argv) > 4 else 1 << 30


class SNIConnection(http.client.HTTPSConnection):
    """HTTPS to PUBLIC_URL's address, with HOST as the TLS server name (like curl --resolve)."""

    def connect(self):
        context = ssl.create_default_context(cafile=os.environ.get("HOP_BENCH_CA"))
        context.set_alpn_protocols(["http/1.1"])
        raw = socket.create_connection((url.hostname, url.port), self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = context.wrap_socket(raw, server_hostname=host)


def open_connection(timeout):
    if url.scheme == "https":
        return SNIConnection(url.hostname, url.port, timeout=timeout)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)


def measure(label):
    connection = open_connection(30)
    samples = []
    for index in range(count):
        started = time.perf_counter()
        connection.request("GET", "/small/%d" % index, headers={"Host": host})
        response = connection.getresponse()
        response.read()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, response.status
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print("%-28s p50 %7.2f ms   p99 %7.2f ms   (%d requests)" % (label, p50, p99, count))
    return p50, p99


def slow_reader(stop, progress):
    connection = open_connection(120)
    connection.request("GET", "/bytes/%d" % download, headers={"Host": host})
    response = connection.getresponse()
    while not stop.is_set():
        chunk = response.read(1 << 16)
        if not chunk:
            break
        progress[0] += len(chunk)
    connection.close()


idle = measure("idle tunnel")
stop = threading.Event()
progress = [0]
reader = threading.Thread(target=slow_reader, args=(stop, progress))
reader.start()
time.sleep(0.5)
busy = measure("during a large download")
stop.set()
reader.join()
print("download progressed %.1f MiB meanwhile" % (progress[0] / 1048576))
print("ratio busy/idle: p50 %.2fx   p99 %.2fx" % (busy[0] / idle[0], busy[1] / idle[1]))
