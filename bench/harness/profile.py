#!/usr/bin/env python3
"""What one small request costs each HopGate process: CPU, system calls, context switches.

usage: profile.py --bin DIR --out DIR [--seconds N] [--no-perf] [--call-graph fp|dwarf]
Normally started by `scripts/profile`, which installs the tools and builds the release binaries.

Starts the backend nginx, hopgate-server (dev) and one hopgate-client, and nginx HTTPS in front
of the same backend as the reference. For each load (`wrk -t1 -c50`, `wrk -t1 -c1`,
`h2load -t1 -c1 -m50`; the one-connection loads twice: on the tunnel's event loop and on
another one) it prints, per request and per process: CPU µs (utime + stime from
/proc), system calls (perf's raw_syscalls:sys_enter, or strace -c when perf cannot count) and
context switches (voluntary + involuntary over all threads). Then, unless --no-perf, it records
`perf record -g` of each HopGate process under wrk -c50 and writes the flat profiles
(`perf report --no-children`, demangled) to OUT/perf-edge.txt and OUT/perf-client.txt.
"""
import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from load import h2load, wrk  # noqa: E402
from procs import Workspace, cpu_split, children, machine_cpu, thread_cpu  # noqa: E402
from systems import HopGate, System, make_files, start_backend, start_front_nginx  # noqa: E402


def context_switches(pid):
    total = 0
    for status in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except OSError:
            pass  # a thread ended while we read
    return total


class SyscallCounter:
    """Counts system calls of one process while a load runs: `perf stat` when the kernel lets
    it count tracepoints, else nothing (reported as None)."""

    def __init__(self, pid, seconds, out):
        self.pid, self.seconds, self.out = pid, seconds, out
        self.count = None

    def _run(self):
        if not shutil.which("perf"):
            return
        result = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", str(self.pid), "--",
                                 "sleep", str(self.seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in result.stderr.splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2] == "raw_syscalls:sys_enter" and parts[0].isdigit():
                self.count = int(parts[0])

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.thread.join()


def measure(name, run_load, pids, seconds, log):
    """Runs one load and returns per-request figures for each process in `pids`."""
    flat = {role: (p if isinstance(p, list) else [p]) for role, p in pids.items()}
    before_cpu = {r: [cpu_split(p) for p in ps] for r, ps in flat.items()}
    before_machine = machine_cpu()
    before_threads = {r: thread_cpu(ps[0]) for r, ps in flat.items() if len(ps) == 1}
    started = time.monotonic()
    before_cs = {r: sum(context_switches(p) for p in ps) for r, ps in flat.items()}
    counters = {r: SyscallCounter(ps[0], seconds, None) for r, ps in flat.items() if len(ps) == 1}
    for counter in counters.values():
        counter.__enter__()
    result = run_load()
    for counter in counters.values():
        counter.__exit__()
    after_machine = machine_cpu()
    wall = time.monotonic() - started
    busiest = {}
    for role, before in before_threads.items():
        # The thread that ran most during the load, and for what share of the wall time: near
        # 100 % it is the bottleneck (one event loop, say), whatever the machine's idle time.
        spent = [(thread, seconds - before.get(tid, (thread, 0))[1]) for tid, (thread, seconds) in thread_cpu(flat[role][0]).items()]
        if spent:
            thread, seconds = max(spent, key=lambda entry: entry[1])
            busiest[role] = (thread, 100 * seconds / wall)
    requests = result["requests"]
    busy, total = (after - before for after, before in zip(after_machine, before_machine))
    # How busy the whole machine was (every process: load generator, backend, both HopGate
    # sides), and its CPU per request: below 100 % the load was not CPU-bound.
    figures = {"load": name, "requests": requests, "rps": result["rps"], "p50_ms": result["p50_us"] / 1000,
               "p99_ms": result["p99_us"] / 1000, "machine_busy_percent": 100 * busy / total if total else None,
               "machine_cpu_us_per_request": busy / requests * 1e6, "processes": {}}
    for role, ps in flat.items():
        after = [cpu_split(p) for p in ps]
        user = sum(u for u, _ in after) - sum(u for u, _ in before_cpu[role])
        system = sum(s for _, s in after) - sum(s for _, s in before_cpu[role])
        cpu = user + system
        cs = sum(context_switches(p) for p in ps) - before_cs[role]
        calls = counters[role].count if role in counters else None
        figures["processes"][role] = {
            "cpu_us_per_request": cpu / requests * 1e6,
            "user_us_per_request": user / requests * 1e6,
            "system_us_per_request": system / requests * 1e6,
            "busiest_thread": busiest[role][0] if role in busiest else None,
            "busiest_thread_percent": busiest[role][1] if role in busiest else None,
            # perf counts during its own `sleep seconds`, which the load's run covers: per request
            # of that window, using the load's rate.
            "syscalls_per_request": (calls / (result["rps"] * seconds)) if calls is not None else None,
            "context_switches_per_request": cs / requests,
        }
    log(format_row(figures))
    return figures


def edge_context_switches(figures):
    return figures["processes"]["edge"]["context_switches_per_request"]


def same_placement(a, b):
    """Whether two runs of one load took the same event loop: a hop between loops costs the edge
    extra context switches per request (4 instead of 2 at one connection)."""
    low, high = sorted((edge_context_switches(a), edge_context_switches(b)))
    return high < 1.5 * max(low, 0.05)


def format_row(figures):
    parts = ["%-22s %7.0f req/s p50 %6.2f ms p99 %6.2f ms" % (figures["load"], figures["rps"], figures["p50_ms"], figures["p99_ms"])]
    for role, entry in figures["processes"].items():
        calls = "%.1f" % entry["syscalls_per_request"] if entry["syscalls_per_request"] is not None else "?"
        busiest = " busiest thread %s %.0f %%," % (entry["busiest_thread"], entry["busiest_thread_percent"]) \
            if entry["busiest_thread"] is not None else ""
        parts.append("%s: %.0f µs CPU (%.0f user + %.0f sys),%s %s syscalls, %.1f cs" % (
            role, entry["cpu_us_per_request"], entry["user_us_per_request"], entry["system_us_per_request"], busiest, calls,
            entry["context_switches_per_request"]))
    parts.append("machine: %.0f %% busy, %.0f µs CPU" % (figures["machine_busy_percent"] or 0, figures["machine_cpu_us_per_request"]))
    return " | ".join(parts)


def perf_profile(role, pid, seconds, out, run_load, call_graph):
    """Records `role` under `run_load` and writes its flat profile (self time per function) and,
    with `call_graph` dwarf, its inclusive one (time per function with what it calls): Swift's
    release code has no frame pointers, so only DWARF unwinding shows who calls the runtime."""
    data = os.path.join(out, "perf-%s.data" % role)
    graph = ["--call-graph", "dwarf,16384"] if call_graph == "dwarf" else ["-g"]
    frequency = os.environ.get("HOP_PERF_FREQUENCY") or ("199" if call_graph == "dwarf" else "499")  # DWARF samples are large; fewer keep the data small
    recorder = subprocess.Popen(["perf", "record", "-F", frequency] + graph + ["-o", data, "-p", str(pid), "--", "sleep", str(seconds)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_load()
    recorder.wait()
    reports = [("perf-%s.txt" % role, ["--no-children", "--sort", "symbol", "-g", "none"])]
    if call_graph == "dwarf":
        reports.append(("perf-%s-inclusive.txt" % role, ["--children", "--sort", "symbol", "-g", "none"]))
    for name, options in reports:
        report = subprocess.run(["perf", "report", "-i", data] + options + ["--stdio"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        demangled = subprocess.run(["swift", "demangle", "--simplified"], input=report, stdout=subprocess.PIPE, text=True).stdout
        with open(os.path.join(out, name), "w") as f:
            f.write(demangled)
    return os.path.join(out, reports[-1][0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--no-perf", action="store_true")
    parser.add_argument("--call-graph", choices=["fp", "dwarf"], default="fp",
                        help="dwarf: also an inclusive profile, with callers through the Swift runtime (slower to report)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.monotonic()

    def log(message):
        print("[%6.1f s] %s" % (time.monotonic() - t0, message), flush=True)

    ws = Workspace()
    try:
        root = os.environ.get("HOP_BENCH_FILES", "/var/tmp/hopgate-bench-files")
        make_files(root, {"1k.bin": 1024})
        direct, _ = start_backend(ws, root)
        fronts, front_nginx = start_front_nginx(ws, {"nginx-https": direct.port})
        nginx = System("nginx-https", "https", fronts["nginx-https"], "nginx HTTPS")
        hopgate = HopGate(ws, args.bin, direct.port)
        hopgate.start_server()
        hopgate.start_client()
        hopgate.wait_until_serving()
        hopgate.wait_for_all_tunnels()
        system = hopgate.system()
        seconds = args.seconds
        wrk(system, "/1k.bin", 50, 2, ws.dir)  # warm-up
        loads = [  # (name, run, whether it is one connection)
            ("wrk -t1 -c50", lambda s: wrk(s, "/1k.bin", 50, seconds, ws.dir), False),
            ("wrk -t1 -c1", lambda s: wrk(s, "/1k.bin", 1, seconds, ws.dir), True),
            ("h2load -t1 -c1 -m50", lambda s: h2load(s, "/1k.bin", 50, seconds, ws.dir), True),
        ]
        results = {"seconds": seconds, "hopgate": [], "nginx-https": []}
        for name, load, one_connection in loads:
            if not one_connection:
                runs = [measure(name, lambda: load(system), system.pids, seconds, log)]
            else:
                # One connection lands on the edge's event loops in turn (NIO's round-robin): on
                # the tunnel's loop, or on another one and every request hops between the two
                # threads. An idle connection opened between two runs moves the turn, so the
                # second run usually takes the other loop; the runs are labelled by the edge's
                # context switches (the hop's), so that builds are compared placement for
                # placement. The turn also moves when a job reaches NIO (our global executor)
                # from a thread that is not one of its loops, hence the retries.
                first = measure(name, lambda: load(system), system.pids, seconds, log)
                holders = []
                try:
                    for _ in range(3):  # usually one
                        holders.append(socket.create_connection(("127.0.0.1", system.port)))
                        second = measure(name, lambda: load(system), system.pids, seconds, log)
                        if not same_placement(first, second):
                            break
                finally:
                    for holder in holders:
                        holder.close()
                runs = sorted((first, second), key=edge_context_switches)
                labels = ("tunnel's loop", "other loop")
                if same_placement(first, second):  # seen with 1 s runs
                    log("   both runs of %s took the same event loop" % name)
                    labels = ("run 1", "run 2")
                for figures, placement in zip(runs, labels):
                    figures["load"] = "%s (%s)" % (name, placement)
            for figures in runs:
                results["hopgate"].append(figures)
                results["nginx-https"].append(measure(figures["load"], lambda: load(nginx), {"nginx workers": children(front_nginx.pid)},
                                                      seconds, lambda m: log("   nginx-https " + m)))
        if not args.no_perf and shutil.which("perf"):
            for role, pid in system.pids.items():
                path = perf_profile(role, pid, seconds, args.out, lambda: wrk(system, "/1k.bin", 50, seconds, ws.dir), args.call_graph)
                log("perf profile of the %s under wrk -c50: %s" % (role, path))
        with open(os.path.join(args.out, "profile.json"), "w") as f:
            json.dump(results, f, indent=2)
        log("figures: %s" % os.path.join(args.out, "profile.json"))
    finally:
        ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
