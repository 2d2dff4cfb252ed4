#!/usr/bin/env python3
"""HopGate against nginx and ssh -R tunnels, every scenario against every system in one run.

usage: run.py --bin DIR --out DIR [--smoke] [--keep] [--only SCENARIO,…] [--systems NAME,…]
Normally started by `scripts/bench`, which installs the tools and builds the binaries.
Scenarios: small, bulk, hol, cpu, transfer, tunnels, startup (default: all).
Systems: direct, nginx-https, ssh-N-R, ssh-tt-R, hopgate (default: all; hopgate always runs).
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
import scenarios  # noqa: E402
from load import BenchError  # noqa: E402
from procs import Workspace, rss_kib, run  # noqa: E402
from systems import HopGate, System, make_files, start_backend, start_front_nginx, start_ssh_tunnels  # noqa: E402

FULL = {"repetitions": 3, "seconds": 4, "warmup": 1, "connections": [1, 50, 200], "streams": 50,
        "bulk_file": "256m.bin", "hol_file": "256m.bin", "hol_downloads": 4, "tunnels": [1, 100, 1000], "transfer_file": "1g.bin"}
SMOKE = {"repetitions": 1, "seconds": 1, "warmup": 0, "connections": [1, 50], "streams": 50,
         "bulk_file": "8m.bin", "hol_file": "8m.bin", "hol_downloads": 4, "tunnels": [1, 10], "transfer_file": "32m.bin"}
SCENARIOS = ["small", "bulk", "hol", "cpu", "transfer", "tunnels", "startup"]
SYSTEMS = ["direct", "nginx-https", "ssh-N-R", "ssh-tt-R", "hopgate", "hopgate-t2"]
SIZES = {"1k.bin": 1024, "8m.bin": 8 << 20, "32m.bin": 32 << 20, "256m.bin": 256 << 20, "1g.bin": 1 << 30}


def machine():
    def first_line(argv):
        try:
            out = run(argv, check=False, timeout=20)
            return out.strip().splitlines()[0] if out.strip() else ""
        except Exception:
            return "?"
    import subprocess
    def stderr_line(argv):
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return result.stdout.strip().splitlines()[0] if result.stdout.strip() else "?"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "debian": open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?",
        "memory_gib": round(int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal:")).split()[1]) / 1048576, 1),
        "versions": {
            "swift": stderr_line(["swift", "--version"]), "nginx": stderr_line(["nginx", "-v"]),
            "openssh": stderr_line(["ssh", "-V"]), "wrk": stderr_line(["wrk", "-v"]).split(" Copyright")[0],
            "h2load": first_line(["h2load", "--version"]), "curl": first_line(["curl", "--version"]),
            "openssl": first_line(["openssl", "version"]),
        },
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory with hopgate-server and hopgate-client")
    parser.add_argument("--out", required=True)
    parser.add_argument("--smoke", action="store_true", help="one short run of every scenario (CI)")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, configs)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run: " + ",".join(SCENARIOS))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="systems to compare: " + ",".join(SYSTEMS))
    args = parser.parse_args()
    config = dict(SMOKE if args.smoke else FULL)
    only = [name for name in args.only.split(",") if name]
    wanted = set(name for name in args.systems.split(",") if name) | {"hopgate"}
    for name in only:
        if name not in SCENARIOS:
            parser.error("unknown scenario %r (known: %s)" % (name, ", ".join(SCENARIOS)))
    for name in wanted:
        if name not in SYSTEMS:
            parser.error("unknown system %r (known: %s)" % (name, ", ".join(SYSTEMS)))
    config["scenarios"], config["compared"] = only, [name for name in SYSTEMS if name in wanted]
    os.makedirs(args.out, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    log_file = open(os.path.join(args.out, "run.log"), "w")

    def log(message):
        line = "[%6.1f s] %s" % (time.monotonic() - t0, message)
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    t0 = time.monotonic()
    ws = Workspace(keep=args.keep)
    commands = []
    try:
        # Files live outside the workspace so repeated runs need not write 1.3 GiB again.
        root = os.path.join(os.environ.get("HOP_BENCH_FILES", "/var/tmp/hopgate-bench-files"))
        wanted_files = ["1k.bin"] + ([config["bulk_file"]] if "bulk" in only else []) + (
            [config["hol_file"]] if "hol" in only else []) + ([config["transfer_file"]] if "transfer" in only else [])
        needed = {n: s for n, s in SIZES.items() if n in wanted_files}
        files = make_files(root, needed)
        for name in needed:
            files[name + ".sha256"] = run(["sha256sum", files[name]]).split()[0]
        log("files ready in %s" % root)

        direct, _ = start_backend(ws, root)
        remote = {}
        if wanted & {"ssh-N-R", "ssh-tt-R"}:
            remote, _, _ = start_ssh_tunnels(ws, direct.port)
            remote = {name: port for name, port in remote.items() if name in wanted}
        fronts, front_nginx = start_front_nginx(ws, {"nginx-https": direct.port, **remote})
        if "nginx-https" not in wanted:
            fronts.pop("nginx-https")
        hopgate = HopGate(ws, args.bin, direct.port)
        hopgate.start_server()
        hopgate.start_client()
        hopgate.wait_until_serving()
        hopgate.wait_for_all_tunnels()
        systems = ([direct] if "direct" in wanted else []) + [System(name, "https", port, {
            "nginx-https": "nginx terminating TLS (TLS 1.2/1.3, P-256, h2 + http/1.1), proxying with keep-alive, unbuffered",
            "ssh-N-R": "the same nginx in front of `ssh -N -R` to sshd on loopback (Nagle on, what people type)",
            "ssh-tt-R": "the same nginx in front of `ssh -tt -R … sleep` (a tty: TCP_NODELAY on, the fair form)",
        }[name]) for name, port in fronts.items()] + [hopgate.system()]
        log("systems up: " + ", ".join("%s :%d" % (s.name, s.port) for s in systems))
        commands += [
            "wrk -t1 -c{1,50,200} -d%ds --timeout 10s -s report.lua -H 'Host: bench.localhost' URL/1k.bin (hopgate-t2: bench2.localhost)" % config["seconds"],
            "h2load -t1 -c1 -m%d -D %d --warm-up-time=1 --log-file F --connect-to 127.0.0.1:PORT https://bench.localhost:PORT/1k.bin" % (config["streams"], config["seconds"]),
            "curl -sS --http1.1 -o FILE URL/%s (sha256 compared); curl -T FILE URL/upload/NAME (stored file's sha256 compared)" % config["bulk_file"],
            "head-of-line: %d × curl loop of URL/%s, then wrk -t1 -c10 -d%ds" % (config["hol_downloads"], config["hol_file"], config["seconds"]),
        ]

        results = {"started": started.strftime("%Y-%m-%d %H:%M:%S UTC"), "mode": "smoke" if args.smoke else "full",
                   "machine": machine(), "config": config, "systems": {s.name: s.description for s in systems},
                   "commands": commands}
        results["memory"] = {"idle": {"edge": rss_kib(hopgate.server.pid), "client": rss_kib(hopgate.client.pid)}}
        if "hopgate-t2" in wanted:
            # Started after the idle memory is measured, which is the main client's alone.
            hopgate.start_client_tunnels2()
            systems.append(hopgate.system_tunnels2())
            results["systems"][systems[-1].name] = systems[-1].description
            log("systems up: hopgate-t2 :%d (Host %s)" % (systems[-1].port, systems[-1].host))
        if "small" in only:
            results["small"] = scenarios.small_requests(systems, config, ws.dir, log)
        if "bulk" in only:
            results["bulk"], results["memory"]["bulk_peak"] = scenarios.bulk(systems, config, files, root, ws.dir, log, hopgate)
        if "hol" in only:
            results["head_of_line"] = scenarios.head_of_line(systems, config, ws.dir, log)
        if "cpu" in only:
            results["cpu"] = scenarios.cpu_per_requests(systems, config, ws.dir, front_nginx.pid, log)
        if "transfer" in only:
            name = config["transfer_file"]
            results["memory"]["transfer_file"] = name
            results["memory"]["transfer"] = scenarios.transfer_growth(hopgate.system(), "/" + name, files[name + ".sha256"], ws.dir)
            log("transfer %s: edge +%.1f MiB, client +%.1f MiB" % (
                name, results["memory"]["transfer"]["edge"]["growth_kib"] / 1024, results["memory"]["transfer"]["client"]["growth_kib"] / 1024))
        # The scenarios below count the edge's tunnels or restart it: the main client only.
        hopgate.stop_client_tunnels2()
        if "tunnels" in only:
            results["memory"]["tunnels"] = scenarios.tunnels_memory(hopgate, config["tunnels"], log)
        if "startup" in only:
            results["startup"] = scenarios.startup_times(hopgate, log)
        results["seconds"] = time.monotonic() - t0
        results["charts"] = report.charts(results, args.out)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=2)
        report.write(results, args.out)
        log("report: %s (%.0f s)" % (os.path.join(args.out, "report.md"), results["seconds"]))
    except BenchError as error:
        log("FAILED: %s" % error)
        return 1
    finally:
        ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
