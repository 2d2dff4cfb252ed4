"""Processes, ports and /proc readings for the benchmark harness.

Everything the harness starts goes through `Workspace.spawn`, runs in its own process group,
and is stopped by `Workspace.close` (also on SIGINT/SIGTERM and at exit), so a run never leaves
a server behind.
"""
import atexit
import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=60.0, what="a server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("%s did not listen on 127.0.0.1:%d within %.0f s" % (what, port, timeout))


def rss_kib(pid):
    """Resident set size of `pid` in KiB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def uss_kib(pid):
    """Memory only `pid` holds (private clean + dirty pages, KiB): what one more such process costs."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def cpu_seconds(pid):
    """User + system CPU seconds `pid` has used so far."""
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid):
    """(user, system) CPU seconds `pid` has used so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def thread_cpu(pid):
    """{thread id: (name, user + system CPU seconds so far)} for each thread of `pid`."""
    threads = {}
    for stat in glob.glob("/proc/%d/task/*/stat" % pid):
        try:
            with open(stat) as f:
                text = f.read()
        except OSError:
            continue  # a thread ended while we read
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        threads[int(stat.split("/")[4])] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return threads


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far, all cores (/proc/stat's cpu line):
    busy is everything but idle and iowait."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - fields[3] - fields[4]) / CLOCK_TICKS, total / CLOCK_TICKS


def children(pid):
    """Direct children of `pid` (nginx workers of a master)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    """Every process below `pid` (children, their children, …)."""
    found = []
    for child in children(pid):
        found += [child] + descendants(child)
    return found


def wrapped_binaries(ws, bin_dir, directory, prefix):
    """A directory `directory` (in the workspace) whose hopgate-server and hopgate-client start
    `bin_dir`'s under a tool: `prefix(role)` ("edge" or "client") is the tool's command line,
    before the program's."""
    wrapped = ws.path(directory)
    os.makedirs(wrapped, exist_ok=True)
    for name, role in (("hopgate-server", "edge"), ("hopgate-client", "client")):
        path = os.path.join(wrapped, name)
        with open(path, "w") as script:
            command = " ".join(shlex.quote(word) for word in prefix(role) + [os.path.join(bin_dir, name)])
            script.write('#!/bin/sh\nexec %s "$@"\n' % command)
        os.chmod(path, 0o755)
    return wrapped


class Workspace:
    """A temporary directory and the processes started in it."""

    def __init__(self, keep=False):
        self.dir = tempfile.mkdtemp(prefix="hopgate-bench-")
        self.keep = keep
        self.processes = []
        atexit.register(self.close)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, _frame):
        self.close()
        raise SystemExit(128 + signum)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def spawn(self, name, argv, env=None, cwd=None):
        """Starts `argv` with its output in `<workspace>/<name>.log`."""
        log = open(self.path(name + ".log"), "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                   start_new_session=True)
        process.bench_name = name
        self.processes.append(process)
        return process

    def stop(self, process, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds, for the whole process group."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        if process in self.processes:
            self.processes.remove(process)

    def log(self, name):
        try:
            with open(self.path(name + ".log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        for process in list(reversed(self.processes)):
            self.stop(process, grace=3.0)
        if not self.keep and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)


def run(argv, timeout=None, env=None, check=True):
    """Runs a command to completion and returns its stdout (stderr appended on failure)."""
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError("%s exited %d: %s%s" % (" ".join(argv), result.returncode, result.stderr[-2000:], result.stdout[-500:]))
    return result.stdout


def http_json(url, body=None, headers=None, timeout=10):
    import json
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers=dict(headers or {}, **{"Content-Type": "application/json"}))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
