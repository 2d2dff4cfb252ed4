"""The load generators: wrk (HTTP/1.1), h2load (HTTP/2) and curl (bulk), each pinned to one
thread (`-t1`) because it shares the two cores with the systems under test."""
import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time

from procs import run

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"non2xx":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


class BenchError(Exception):
    """A run that must not be reported as a number: errors, wrong status, wrong checksum."""


def wrk(system, path, connections, seconds, lua_dir):
    script = os.path.join(lua_dir, "report.lua")
    if not os.path.exists(script):
        with open(script, "w") as f:
            f.write(WRK_REPORT)
    output = run(["wrk", "-t1", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s", "-s", script,
                  "-H", "Host: " + system.host, system.url(path)], timeout=seconds + 60)
    line = next((l for l in output.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise BenchError("wrk printed no report for %s: %s" % (system.name, output[-1000:]))
    result = json.loads(line[len("WRKJSON "):])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    errors = result["connect_errors"] + result["write_errors"] + result["non2xx"] + result["timeouts"]
    if errors:
        raise BenchError("%s: wrk -c%d saw %d errors (non-2xx %d, connect %d, write %d, timeouts %d)" % (
            system.name, connections, errors, result["non2xx"], result["connect_errors"], result["write_errors"], result["timeouts"]))
    return result


def h2load(system, path, streams, seconds, workdir):
    log = tempfile.NamedTemporaryFile(dir=workdir, suffix=".h2log", delete=False).name
    if system.scheme == "https":
        target = ["--connect-to", "127.0.0.1:%d" % system.port, system.host_url(path)]
    else:  # the backend's h2c port, prior knowledge
        target = ["http://127.0.0.1:%d%s" % (system.h2c_port, path)]
    output = run(["h2load", "-t1", "-c1", "-m%d" % streams, "-D", str(seconds), "--warm-up-time=1", "--log-file", log] + target,
                 timeout=seconds + 60)
    durations, bad, samples = [], 0, []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                if parts[1] in ("-1", "0"):
                    continue  # in flight when the duration ended: h2load does not count it either
                if not parts[1].startswith("2"):
                    bad += 1
                    samples.append(line.strip())
                durations.append(int(parts[2]))
    os.unlink(log)
    failed = next((l for l in output.splitlines() if l.startswith("requests:")), "")
    codes = next((l for l in output.splitlines() if l.startswith("status codes:")), "")
    if not codes.endswith(" 0 3xx, 0 4xx, 0 5xx"):
        bad += 1
        samples.append(codes)
    if bad or " 0 failed" not in failed or " 0 errored" not in failed:
        raise BenchError("%s: h2load had failures (%d non-2xx, e.g. %s): %s" % (system.name, bad, samples[:3], failed))
    if not durations:
        raise BenchError("%s: h2load completed no request: %s" % (system.name, output[-800:]))
    durations.sort()
    pick = lambda q: durations[min(len(durations) - 1, int(q * len(durations)))]
    return {"requests": len(durations), "rps": len(durations) / seconds, "p50_us": pick(0.5), "p99_us": pick(0.99),
            "p999_us": pick(0.999)}


def curl_download(system, path, expected_sha256, target):
    output = run(["curl", "-sS", "--http1.1", "-o", target, "-w", "%{http_code} %{time_total} %{size_download}"]
                 + system.curl_args() + [system.host_url(path) if system.scheme == "https" else system.url(path)], timeout=600)
    status, seconds, size = output.split()
    digest = run(["sha256sum", target]).split()[0]
    os.unlink(target)
    if status != "200" or digest != expected_sha256:
        raise BenchError("%s: download of %s answered %s, checksum %s" % (system.name, path, status, "ok" if digest == expected_sha256 else "WRONG"))
    return {"seconds": float(seconds), "bytes": int(size), "MBps": int(size) / float(seconds) / 1e6}


def curl_upload(system, source, name, expected_sha256, stored_root):
    path = "/upload/" + name
    output = run(["curl", "-sS", "--http1.1", "-T", source, "-o", "/dev/null", "-w", "%{http_code} %{time_total} %{size_upload}"]
                 + system.curl_args() + [system.host_url(path) if system.scheme == "https" else system.url(path)], timeout=600)
    status, seconds, size = output.split()
    stored = os.path.join(stored_root, "upload", name)
    digest = run(["sha256sum", stored]).split()[0] if os.path.exists(stored) else "missing"
    if os.path.exists(stored):
        os.unlink(stored)
    if status not in ("201", "204") or digest != expected_sha256:
        raise BenchError("%s: upload answered %s, stored checksum %s" % (system.name, status, "ok" if digest == expected_sha256 else digest))
    return {"seconds": float(seconds), "bytes": int(size), "MBps": int(size) / float(seconds) / 1e6}


def paced_probe(system, path, rate, seconds):
    """`rate` requests per second for `seconds` on one keep-alive HTTP/1.1 connection, each sent
    at its own time slot, so the load stays far below what saturates the two cores: a latency
    that grows then means waiting behind other traffic, not sharing the CPU with it. A request's
    latency counts from its slot, not from when it could be sent (no coordinated omission).
    Returns p50/p99 in µs and the request count."""
    if system.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.set_alpn_protocols(["http/1.1"])
        raw = socket.create_connection(("127.0.0.1", system.port), 30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = http.client.HTTPSConnection("127.0.0.1", system.port, timeout=30, context=context)
        connection.sock = context.wrap_socket(raw, server_hostname=system.host)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", system.port, timeout=30)
    samples, interval = [], 1.0 / rate
    start = time.perf_counter()
    try:
        for index in range(int(rate * seconds)):
            slot = start + index * interval
            delay = slot - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            connection.request("GET", path, headers={"Host": system.host})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise BenchError("%s: paced probe got %d for %s" % (system.name, response.status, path))
            samples.append((time.perf_counter() - slot) * 1e6)
    finally:
        connection.close()
    samples.sort()
    return {"p50_us": statistics.median(samples), "p99_us": samples[max(int(len(samples) * 0.99) - 1, 0)], "count": len(samples)}


class BackgroundDownloads:
    """`count` loops of curl downloading `path` to /dev/null until stopped (head-of-line load),
    each at most `limit_rate` (curl's `--limit-rate`, e.g. "16M") when given."""

    def __init__(self, system, path, count, limit_rate=None):
        self.system, self.path, self.count, self.limit_rate = system, path, count, limit_rate
        self.stopping = threading.Event()
        self.processes, self.threads, self.completed = [], [], 0
        self.lock = threading.Lock()

    def _loop(self):
        url = self.system.host_url(self.path) if self.system.scheme == "https" else self.system.url(self.path)
        while not self.stopping.is_set():
            limit = ["--limit-rate", self.limit_rate] if self.limit_rate else []
            process = subprocess.Popen(["curl", "-s", "--http1.1", "-o", "/dev/null"] + limit + self.system.curl_args() + [url])
            with self.lock:
                self.processes.append(process)
            process.wait()
            with self.lock:
                self.processes.remove(process)
                if process.returncode == 0:
                    self.completed += 1

    def __enter__(self):
        for _ in range(self.count):
            thread = threading.Thread(target=self._loop, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        with self.lock:
            for process in self.processes:
                process.kill()
        for thread in self.threads:
            thread.join(timeout=10)


def median_and_spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}
