#!/usr/bin/env python3
"""Which thread hand-overs a small request costs each HopGate process: wake-ups per request,
grouped by where they come from.

usage: wakeups.py --bin DIR [--seconds N] [--connections N | --h2-streams N | --upload | --download] [--top N]
Normally started by `scripts/profile --wakeups`, which installs perf and builds the release
binaries.

Starts the backend nginx, hopgate-server (dev) and one hopgate-client, runs `wrk -t1 -cN` (one
connection by default: every hand-over then finds its thread asleep), or `h2load -c1 -mN` for the
public HTTP/2 path, or back-to-back `curl` uploads (`--upload`) or downloads (`--download`) of
a 256 MiB file (counted per MiB), and records the kernel's
`sched:sched_wakeup` events with call stacks in each HopGate process for N seconds. Each wake-up
is grouped by the waker's first frames past the runtime's plumbing (locks, semaphores,
continuations), demangled, and counted per request: "loop->task" is an event-loop thread waking a
Swift-concurrency worker, "task->loop" the reverse, "->other" a wake-up of another process (the
peer's socket). The rows are the hops a request takes; fewer rows of the first two kinds is the
aim of the event-loop-native data path.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from load import curl_download, curl_upload, h2load, wrk  # noqa: E402
from procs import Workspace  # noqa: E402
from systems import HopGate, make_files, start_backend  # noqa: E402

# Frames that say how a thread is woken, not which hand-over woke it.
PLUMBING = ("libc.so", "futex", "pthread", "__GI", "dispatch", "swift_task", "swift::", "Semaphore", "NIOThread",
            "Lock", "lock", "semaphore", "withLock", "signal", "Continuation", "continuation", "resume",
            "swift_job", "enqueue", "Mutex")


def parse_wakeups(script_text):
    """(waker thread name, (woken thread name, woken thread id), user-space frames) for each
    sched_wakeup event."""
    for block in script_text.split("\n\n"):
        lines = block.strip().split("\n")
        if not lines or "sched:sched_wakeup" not in lines[0]:
            continue
        waker = re.match(r"\s*(\S.*?)\s+\d+\s+\[", lines[0])
        woken = re.search(r"comm=(.*?) pid=(\d+)", lines[0])
        frames = []
        for line in lines[1:]:
            parts = line.strip().split(None, 1)
            if len(parts) == 2 and "kernel.kallsyms" not in parts[1]:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1].rsplit(" (", 1)[0]))
        yield (waker.group(1) if waker else "?"), (woken.groups() if woken else ("?", "0")), frames


def demangle(symbols):
    try:
        output = subprocess.run(["swift-demangle", "--simplified", "--compact"], input="\n".join(symbols),
                                capture_output=True, text=True, check=True).stdout.split("\n")
        return dict(zip(symbols, output))
    except (OSError, subprocess.CalledProcessError):
        return {}


def kind(waker, woken, own_threads):
    name, tid = woken
    if tid not in own_threads:
        return "->other"
    source = "loop" if waker.startswith("NIO-") else "task"
    target = "loop" if name.startswith("NIO-") else "task"
    return "%s->%s" % (source, target)


def thread_ids(pid):
    return set(os.listdir("/proc/%d/task" % pid))


def record(pid, seconds, path):
    subprocess.run(["perf", "record", "-q", "-e", "sched:sched_wakeup", "-g", "-p", str(pid), "-o", path,
                    "--", "sleep", str(seconds)], stderr=subprocess.DEVNULL, check=True)
    return subprocess.run(["perf", "script", "-i", path], capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="directory with hopgate-server and hopgate-client")
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=1, help="wrk connections (HTTP/1.1)")
    parser.add_argument("--h2-streams", type=int, default=0, help="h2load -c1 -mN instead of wrk (HTTP/2)")
    parser.add_argument("--upload", action="store_true", help="curl uploads of a 256 MiB file instead (per MiB)")
    parser.add_argument("--download", action="store_true", help="curl downloads of a 256 MiB file instead (per MiB)")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    ws = Workspace()
    try:
        root = os.environ.get("HOP_BENCH_FILES", "/var/tmp/hopgate-bench-files")
        files = make_files(root, {"1k.bin": 1024, "256m.bin": 256 << 20} if args.upload or args.download else {"1k.bin": 1024})
        backend, _ = start_backend(ws, root)
        hopgate = HopGate(ws, args.bin, backend.port)
        hopgate.start_server()
        hopgate.start_client()
        hopgate.wait_until_serving()
        hopgate.wait_for_all_tunnels()
        system = hopgate.system()
        unit = "request"
        if args.upload or args.download:
            source = files["256m.bin"]
            digest = subprocess.run(["sha256sum", source], stdout=subprocess.PIPE, text=True, check=True).stdout.split()[0]
            name, unit = ("curl uploads" if args.upload else "curl downloads"), "MiB"

            def run_load(seconds):
                moved, started = 0, time.monotonic()
                while time.monotonic() - started < seconds:
                    if args.upload:
                        curl_upload(system, source, "wakeups.bin", digest, root)
                    else:
                        curl_download(system, "/256m.bin", digest, os.path.join(ws.dir, "download.bin"))
                    moved += 256
                return {"rps": moved / (time.monotonic() - started)}
        elif args.h2_streams:
            name = "h2load -t1 -c1 -m%d" % args.h2_streams
            run_load = lambda seconds: h2load(system, "/1k.bin", args.h2_streams, seconds, ws.dir)  # noqa: E731
        else:
            name = "wrk -t1 -c%d" % args.connections
            run_load = lambda seconds: wrk(system, "/1k.bin", args.connections, seconds, ws.dir)  # noqa: E731
        run_load(2)  # warm-up
        for role, pid in system.pids.items():
            result = {}
            load = threading.Thread(target=lambda: result.update(run=run_load(args.seconds + 3)))
            load.start()
            time.sleep(1.5)
            own = thread_ids(pid)
            with tempfile.NamedTemporaryFile(suffix=".data") as data:
                events = list(parse_wakeups(record(pid, args.seconds, data.name)))
            load.join()
            requests = result["run"]["rps"] * args.seconds
            names = demangle(sorted({frame for _, _, frames in events for frame in frames[:14]}))
            counts = collections.Counter()
            for waker, woken, frames in events:
                readable = [names.get(f, f) for f in frames[:14]]
                origin = [f[:70] for f in readable if not any(p in f for p in PLUMBING)][:3]
                counts[(kind(waker, woken, own), " | ".join(origin))] += 1
            print("%s under %s (%.0f %s/s): %.2f wake-ups per %s" % (
                role, name, result["run"]["rps"], unit, len(events) / requests, unit))
            for (how, origin), count in counts.most_common(args.top):
                if count / requests < 0.01:
                    break
                print("  %5.2f  %-10s %s" % (count / requests, how, origin))
    finally:
        ws.close()


if __name__ == "__main__":
    main()
