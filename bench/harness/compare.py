#!/usr/bin/env python3
"""Same-hour A/B of release builds: what one small request costs each process, per build.

usage: compare.py --variant NAME=BIN_DIR[:VAR=VALUE,...] --variant ... [--rounds N] [--seconds N] --out DIR
Normally started by `scripts/profile --compare`, which explains the arguments.

Runs `profile.py --no-perf` for every variant in turn, round after round (A B C A B C …), so that
the machine's drift over the minutes falls on all of them alike, then prints for each load and
variant the median over the rounds of req/s, p50, the edge's and the client's CPU µs and context
switches per request, and nginx HTTPS's req/s measured in the same minute (the yardstick of how
fast the machine was). On these 2-core VMs one run differs from the next by ±10–20 %: only
medians of alternating rounds show a step's effect, and a change under about 5 % does not show.
`VAR=VALUE` pairs are set in the variant's environment (the edge and the client inherit them;
`HOP_CLIENT_*` settings reach the client, for instance); `HOP_BENCH_EDGE_ENV=VAR=VALUE` sets
`VAR` for the edge alone, `HOP_BENCH_CLIENT_ENV=VAR=VALUE` for the client alone (several: `;`
between them) — `one=DIR:HOP_BENCH_EDGE_ENV=NIO_SINGLETON_GROUP_LOOP_COUNT=1` is the edge on one
event loop. Writes DIR/compare.json and each round's profile under DIR/NAME-ROUND/.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FIGURES = [
    # (heading, how to read it from one load's hopgate entry, format)
    ("req/s", lambda h: h["rps"], "%.0f"),
    ("p50 ms", lambda h: h["p50_ms"], "%.2f"),
    ("edge µs", lambda h: h["processes"]["edge"]["cpu_us_per_request"], "%.0f"),
    ("client µs", lambda h: h["processes"]["client"]["cpu_us_per_request"], "%.0f"),
    ("edge sys", lambda h: h["processes"]["edge"]["system_us_per_request"], "%.0f"),
    ("client sys", lambda h: h["processes"]["client"]["system_us_per_request"], "%.0f"),
    ("busy %", lambda h: h["machine_busy_percent"], "%.0f"),
    ("edge top %", lambda h: h["processes"]["edge"]["busiest_thread_percent"], "%.0f"),
    ("client top %", lambda h: h["processes"]["client"]["busiest_thread_percent"], "%.0f"),
    ("machine µs", lambda h: h["machine_cpu_us_per_request"], "%.0f"),
    ("edge cs", lambda h: h["processes"]["edge"]["context_switches_per_request"], "%.1f"),
    ("client cs", lambda h: h["processes"]["client"]["context_switches_per_request"], "%.1f"),
]


def parse_variant(text):
    """NAME=BIN_DIR[:VAR=VALUE,...] → (name, bin_dir, {VAR: VALUE})."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise argparse.ArgumentTypeError("expected NAME=BIN_DIR[:VAR=VALUE,...], not %r" % text)
    bin_dir, _, settings = rest.partition(":")
    env = {}
    for pair in filter(None, settings.split(",")):
        var, sep, value = pair.partition("=")
        if not sep or not var:
            raise argparse.ArgumentTypeError("expected VAR=VALUE in %r, not %r" % (text, pair))
        env[var] = value
    if not os.path.isfile(os.path.join(bin_dir, "hopgate-server")):
        raise argparse.ArgumentTypeError("%s has no hopgate-server (give a release build's bin directory)" % bin_dir)
    return name, bin_dir, env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", action="append", type=parse_variant, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    names = [name for name, _, _ in args.variant]
    if len(set(names)) != len(names):
        parser.error("variant names must differ: %s" % ", ".join(names))
    os.makedirs(args.out, exist_ok=True)
    profile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "profile.py")
    t0 = time.monotonic()
    runs = {name: [] for name in names}
    for round_number in range(1, args.rounds + 1):
        for name, bin_dir, env in args.variant:
            out = os.path.join(args.out, "%s-%d" % (name, round_number))
            result = subprocess.run([sys.executable, profile, "--bin", bin_dir, "--out", out, "--seconds", str(args.seconds),
                                     "--no-perf"], env=dict(os.environ, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            if result.returncode != 0:
                sys.exit("%s, round %d failed:\n%s" % (name, round_number, result.stdout[-3000:]))
            with open(os.path.join(out, "profile.json")) as f:
                runs[name].append(json.load(f))
            print("[%6.1f s] round %d: %s done" % (time.monotonic() - t0, round_number, name), flush=True)

    summary = {}
    loads = [entry["load"] for entry in runs[names[0]][0]["hopgate"]]
    for index, load in enumerate(loads):
        print("\n%s — medians of %d alternating rounds" % (load, args.rounds))
        print("%-12s " % "variant" + " ".join("%10s" % heading for heading, _, _ in FIGURES) + " %12s" % "nginx req/s")
        for name in names:
            entries = [run["hopgate"][index] for run in runs[name]]
            medians = {heading: statistics.median(read(entry) for entry in entries) for heading, read, _ in FIGURES}
            medians["nginx req/s"] = statistics.median(run["nginx-https"][index]["rps"] for run in runs[name])
            summary.setdefault(load, {})[name] = medians
            print("%-12s " % name + " ".join("%10s" % (form % medians[heading]) for heading, _, form in FIGURES)
                  + " %12.0f" % medians["nginx req/s"])
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump({"rounds": args.rounds, "seconds": args.seconds, "variants": {name: {"bin": bin_dir, "env": env}
                   for name, bin_dir, env in args.variant}, "medians": summary}, f, indent=1)
    print("\nwritten: %s" % os.path.join(args.out, "compare.json"))


if __name__ == "__main__":
    main()
