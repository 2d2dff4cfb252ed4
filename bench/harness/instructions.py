#!/usr/bin/env python3
"""The instructions one small request costs each HopGate process, counted by callgrind: the
same figure on every run (±0.5 %), so that a step worth 1–3 % shows, where CPU time moves by
±10–20 % from one run to the next on these machines.

usage: instructions.py --bin DIR[,DIR...] --out DIR [--requests N] [--h2] [--functions N]
Normally started by `scripts/profile --instructions`, which installs valgrind and builds the
release binaries.

For each bin directory: copies of its hopgate-server and hopgate-client without debug
information (valgrind 3.19 cannot read the DWARF 5 that Swift 6.3 writes) run under
`valgrind --tool=callgrind`; after a warm-up of 300 requests both processes' counters are
zeroed, `h2load --h1 -c10 -n N` (or, with --h2, `h2load -c1 -m10 -n N`) sends N small GETs,
and the counters are dumped. Prints user-space instructions per request for each process and
the functions with the most instructions of their own (the edge's, then the client's); writes
the callgrind dumps to OUT/<build>/ for `callgrind_annotate` (`--tree=caller` names who calls a
function). Kernel work (system calls, TCP) is not counted; valgrind runs everything on one
thread, so this says nothing of waiting or hops between threads.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from procs import Workspace, descendants, wrapped_binaries  # noqa: E402
from systems import HopGate, make_files, start_backend  # noqa: E402


def stripped_copies(bin_dir, into):
    os.makedirs(into, exist_ok=True)
    for name in ("hopgate-server", "hopgate-client"):
        subprocess.run(["strip", "--strip-debug", "-o", os.path.join(into, name), os.path.join(bin_dir, name)], check=True)
    return into


def valgrind_pid(process):
    for pid in [process.pid] + descendants(process.pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                command = f.read()
            if b"valgrind" in command or b"callgrind" in command:
                return pid
        except OSError:
            continue
    return process.pid


def dumped_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit("no totals in %s" % path)


def h2load(system, count, h2):
    shape = ["-c1", "-m10"] if h2 else ["--h1", "-c10"]
    output = subprocess.run(["h2load", "-t1", "-n%d" % count] + shape + ["--connect-to", "127.0.0.1:%d" % system.port,
                            system.host_url("/1k.bin")], capture_output=True, text=True, timeout=600).stdout
    found = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", output)
    if not found or int(found.group(1)) != count:
        raise SystemExit("h2load did not complete %d requests:\n%s" % (count, output[-1500:]))
    return count


def top_functions(dump, count):
    """The `count` functions with the most instructions of their own in a callgrind dump."""
    output = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", dump], capture_output=True, text=True).stdout
    rows = []
    for line in output.splitlines():
        found = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*?):(.*?) \[", line)
        if found and found.group(4).strip() not in ("clone", "start_thread"):
            rows.append((found.group(2), found.group(4).strip()))
    names = [name for _, name in rows]
    try:
        demangled = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                                   capture_output=True, text=True, timeout=120).stdout.splitlines()
    except OSError:
        demangled = names
    if len(demangled) != len(names):
        demangled = names
    own = [(share, name) for (share, _), name in zip(rows, demangled) if "ThreadOpsPosix" not in name
           and "setupThreadAndEventLoop" not in name and "thunk for @escaping @callee_guaranteed (@guaranteed NIOThread)" not in name]
    return own[:count]


def measure(bin_dir, label, out, requests, h2, functions, log):
    ws = Workspace()
    try:
        root = os.environ.get("HOP_BENCH_FILES", "/var/tmp/hopgate-bench-files")
        make_files(root, {"1k.bin": 1024})
        direct, _ = start_backend(ws, root)
        stripped = stripped_copies(bin_dir, ws.path("stripped"))
        callgrind = lambda role: ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s/%s.out" % (out, role), "--dump-instr=no"]
        hopgate = HopGate(ws, wrapped_binaries(ws, stripped, "callgrind-bin", callgrind), direct.port)
        hopgate.start_server()
        hopgate.start_client()
        hopgate.wait_until_serving(timeout=300)
        hopgate.wait_for_all_tunnels(timeout=300)
        system = hopgate.system()
        h2load(system, 300, h2)  # warm-up
        pids = {"edge": valgrind_pid(hopgate.server), "client": valgrind_pid(hopgate.client)}
        for pid in pids.values():
            subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, check=True)
        h2load(system, requests, h2)
        for pid in pids.values():
            subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True, check=True)
        time.sleep(1)
        result = {}
        for role in ("edge", "client"):
            dumps = sorted(glob.glob(os.path.join(out, role + ".out.*")), key=os.path.getmtime)
            if not dumps:
                raise SystemExit("callgrind dumped nothing for the %s in %s" % (role, out))
            result[role] = {"instructions_per_request": dumped_total(dumps[-1]) / requests, "dump": dumps[-1]}
        log("%-12s %s, %d requests: instructions per request: edge %.0f, client %.0f" % (
            label, "h2load -c1 -m10" if h2 else "h2load --h1 -c10", requests, result["edge"]["instructions_per_request"],
            result["client"]["instructions_per_request"]))
        if functions:
            for role in ("edge", "client"):
                log("  %s, most instructions of their own:" % role)
                for share, name in top_functions(result[role]["dump"], functions):
                    log("    %6s %%  %s" % (share, name[:150]))
        return result
    finally:
        ws.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="release bin directories, comma-separated (NAME=DIR names one)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--h2", action="store_true", help="HTTP/2 with 10 streams on one connection instead of HTTP/1.1 on 10")
    parser.add_argument("--functions", type=int, default=20, help="list this many functions per process (0: none)")
    args = parser.parse_args()
    t0 = time.monotonic()

    def log(message):
        print("[%6.1f s] %s" % (time.monotonic() - t0, message), flush=True)

    for entry in filter(None, args.bin.split(",")):
        label, _, bin_dir = entry.rpartition("=")
        label = label or os.path.basename(os.path.normpath(bin_dir))
        out = os.path.abspath(os.path.join(args.out, label))
        os.makedirs(out, exist_ok=True)
        measure(os.path.abspath(bin_dir), label, out, args.requests, args.h2, args.functions, log)


if __name__ == "__main__":
    main()
