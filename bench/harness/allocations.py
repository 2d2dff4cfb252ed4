#!/usr/bin/env python3
"""How many heap allocations one small request costs each HopGate process, and where they come
from: the edge and the client run under heaptrack while `wrk -t1 -c50` sends small GETs, then
each process's allocation calls are divided by the requests the edge served.

usage: allocations.py --bin DIR --out DIR [--seconds N] [--sites N]
Normally started by `scripts/profile --allocations`, which installs heaptrack and builds the
release binaries.

Prints, per process, the allocation calls per request and the call sites that make at least
one allocation per 20 requests, each with its first frames (the allocator's own frames left
out), and writes OUT/allocations-edge.txt and OUT/allocations-client.txt (heaptrack_print's
full lists). The totals include each process's start-up (a few thousand calls, under 1 % of a
run of several seconds). heaptrack slows both processes several times over: the counts are
exact, the request rate under it means nothing.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from load import wrk  # noqa: E402
from procs import Workspace, descendants, wrapped_binaries  # noqa: E402
from systems import HopGate, make_files, start_backend  # noqa: E402

ALLOCATOR_FRAMES = re.compile(
    r"swift_allocObject|swift_slowAlloc|_ContiguousArrayBuffer|_createNewBuffer|reserveCapacity|_allocateUninitialized"
    r"|allocateBufferUninitialized|_copyToNewBuffer|swift_task_alloc|_consumeAndCreateNew|outlined|_growArrayCapacity"
    r"|^malloc$|^operator new")


def served_requests(hopgate):
    """The requests the edge has answered, from its metrics."""
    total = 0.0
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % hopgate.metrics, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("hopgate_http_requests_total"):
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


def program_name(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return os.path.basename(f.read().split(b"\0")[0].decode(errors="replace"))
    except OSError:
        return ""


def stop_under_heaptrack(ws, wrapper, name):
    """SIGTERM to the program alone (not heaptrack's pipeline, which must write its data), then
    waits for heaptrack to finish."""
    target = next((pid for pid in descendants(wrapper.pid) if program_name(pid) == name), None)
    if target is not None:
        os.kill(target, signal.SIGTERM)
    try:
        wrapper.wait(timeout=120)
    except subprocess.TimeoutExpired:
        ws.stop(wrapper, grace=5)


def allocation_sites(text):
    """(total calls, [(calls, frames)]) from heaptrack_print's "most calls" list of swift_slowAlloc
    and the other allocation functions."""
    total, sites = 0, []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        top = re.match(r"^(\d+) calls to allocation functions with .* from$", lines[index])
        site = re.match(r"^(\d+) calls with .* from:$", lines[index])
        if top:
            total += int(top.group(1))
        if site:
            frames = []
            index += 1
            while index < len(lines) and lines[index].startswith("    "):
                frame = lines[index].strip()
                if not frame.startswith(("at ", "in ")):
                    frames.append(frame)
                index += 1
            sites.append((int(site.group(1)), frames))
            continue
        index += 1
    return total, sites


def demangled(symbols):
    swift = "swift-demangle" if subprocess.run(["which", "swift-demangle"], capture_output=True).returncode == 0 else None
    command = [swift, "--simplified", "--compact"] if swift else ["swift", "demangle", "--simplified", "--compact"]
    try:
        out = subprocess.run(command, input="\n".join(symbols), capture_output=True, text=True, timeout=120).stdout.splitlines()
        return dict(zip(symbols, out)) if len(out) == len(symbols) else {}
    except (OSError, subprocess.TimeoutExpired):
        return {}


def report(role, data_file, requests, out, show_threshold, log):
    text = subprocess.run(
        ["heaptrack_print", "-f", data_file, "--print-peaks", "0", "--print-allocators", "1", "--print-temporary", "0",
         "--print-leaks", "0", "-n", "4", "-s", "80"],
        capture_output=True, text=True).stdout
    with open(os.path.join(out, "allocations-%s.txt" % role), "w") as f:
        f.write(text)
    total, sites = allocation_sites(text)
    names = demangled(sorted({frame for _, frames in sites for frame in frames}))
    log("%s: %d allocation calls for %d requests = %.1f per request" % (role, total, requests, total / max(requests, 1)))
    for calls, frames in sorted(sites, key=lambda site: -site[0]):
        per_request = calls / max(requests, 1)
        if per_request < show_threshold:
            break
        shown = [names.get(frame, frame) for frame in frames if not ALLOCATOR_FRAMES.search(frame)][:3]
        log("  %5.2f  %s" % (per_request, "  <-  ".join(name[:100] for name in shown)))
    return {"calls": total, "requests": requests, "per_request": total / max(requests, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory with the release hopgate-server and hopgate-client")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--threshold", type=float, default=0.05, help="show call sites with at least this many allocations per request")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.monotonic()

    def log(message):
        print("[%6.1f s] %s" % (time.monotonic() - t0, message), flush=True)

    ws = Workspace()
    try:
        root = os.environ.get("HOP_BENCH_FILES", "/var/tmp/hopgate-bench-files")
        make_files(root, {"1k.bin": 1024})
        direct, _ = start_backend(ws, root)
        heaptrack = lambda role: ["heaptrack", "-o", os.path.join(out, role)]
        hopgate = HopGate(ws, wrapped_binaries(ws, os.path.abspath(args.bin), "heaptrack-bin", heaptrack), direct.port)
        hopgate.start_server()
        hopgate.start_client()
        hopgate.wait_until_serving(timeout=180)
        hopgate.wait_for_all_tunnels(timeout=120)
        result = wrk(hopgate.system(), "/1k.bin", 50, args.seconds, ws.dir)
        requests = served_requests(hopgate)
        log("wrk -t1 -c50 under heaptrack: %d requests in %d s; the edge answered %d in all" % (result["requests"], args.seconds, requests))
        stop_under_heaptrack(ws, hopgate.client, "hopgate-client")
        stop_under_heaptrack(ws, hopgate.server, "hopgate-server")
        results = {}
        for role in ("edge", "client"):
            data = next((os.path.join(out, f) for f in sorted(os.listdir(out)) if f.startswith(role + ".") and f != role + ".txt"), None)
            if data is None:
                raise SystemExit("heaptrack wrote no data for the %s in %s" % (role, out))
            results[role] = report(role, data, requests, out, args.threshold, log)
        return results
    finally:
        ws.close()


if __name__ == "__main__":
    main()
