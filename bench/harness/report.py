"""report.md and PNG charts from results.json."""
import json
import os

SYSTEM_ORDER = ["direct", "nginx-https", "ssh-N-R", "ssh-tt-R", "hopgate", "hopgate-t2"]


def ratio(ours, theirs):
    return "%.2f×" % (ours / theirs) if theirs else "—"


def write(results, out):
    lines = ["# HopGate benchmark — %s" % results["started"], ""]
    machine = results["machine"]
    lines += ["Mode: **%s**. Machine: %s, %s cores, kernel %s, Debian %s." % (
        results["mode"], machine["cpu"], machine["cores"], machine["kernel"], machine["debian"]), ""]
    lines += ["Versions: " + "; ".join("%s `%s`" % (k, v) for k, v in machine["versions"].items()), ""]
    lines += ["Systems (all on loopback, all in front of the same nginx backend; load generators `-t1`):", ""]
    for name, description in results["systems"].items():
        lines.append("- `%s`: %s" % (name, description))
    lines += ["", "Settings: %s" % json.dumps(results["config"]), ""]

    if "small" in results:
        lines += small_section(results)
    if "bulk" in results:
        lines += bulk_section(results)
    if "head_of_line" in results:
        lines += head_of_line_section(results)
    lines += memory_section(results)
    if "cpu" in results:
        lines += ["", "## CPU seconds per 10,000 small requests (wrk -c50)", ""]
        for name, entry in results["cpu"].items():
            lines.append("- %s: %s" % (name, ", ".join("%s %.3f s" % (k, v) for k, v in entry.items() if k != "requests")))
    if "startup" in results:
        start = results["startup"]
        lines += ["", "## Start-up", "",
                  "- client start → first successful request: %.2f s" % start["client_start_to_first_request_s"],
                  "- edge restart → first successful request again: %.2f s" % start["edge_restart_to_first_request_s"]]
    lines += ["", "## Commands", "", "```"] + results["commands"] + ["```", "", "Charts: " + ", ".join(
        "![%s](%s)" % (c, c) for c in results.get("charts", [])), ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))


def small_section(results):
    lines = []
    small = results["small"]
    lines += ["## Small requests (1 KiB GET) — median of %d runs [min–max]" % results["config"]["repetitions"], ""]
    cases = list(next(iter(small.values())).keys())
    header = "| system | " + " | ".join("%s req/s | %s p50 ms | %s p99 ms | %s p99.9 ms" % (c, c, c, c) for c in cases) + " |"
    lines += [header, "|" + "---|" * (1 + 4 * len(cases))]
    for name in ordered(small):
        row = [name]
        for case in cases:
            entry = small[name][case]
            row += ["%.0f [%.0f–%.0f]" % (entry["rps"]["median"], entry["rps"]["min"], entry["rps"]["max"]),
                    "%.2f" % (entry["p50_us"]["median"] / 1000), "%.2f" % (entry["p99_us"]["median"] / 1000),
                    "%.2f" % (entry["p999_us"]["median"] / 1000)]
        lines.append("| " + " | ".join(row) + " |")
    for ours in [name for name in ("hopgate", "hopgate-t2") if name in small]:
        lines += ["", "%s's ratio to each peer (req/s; p99, lower is better):" % ours, "",
                  "| peer | " + " | ".join("%s req/s | %s p99" % (c, c) for c in cases) + " |", "|" + "---|" * (1 + 2 * len(cases))]
        for name in ordered(small):
            if name == ours:
                continue
            row = [name]
            for case in cases:
                row += [ratio(small[ours][case]["rps"]["median"], small[name][case]["rps"]["median"]),
                        ratio(small[ours][case]["p99_us"]["median"], small[name][case]["p99_us"]["median"])]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def bulk_section(results):
    lines = []
    bulk = results["bulk"]
    lines += ["", "## Bulk (%s, checksums verified) — MB/s, median [min–max]" % results["config"]["bulk_file"], "",
              "| system | download | upload | HopGate ÷ it (down) | HopGate ÷ it (up) |", "|---|---|---|---|---|"]
    for name in ordered(bulk):
        d, u = bulk[name]["download"], bulk[name]["upload"]
        lines.append("| %s | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | %s | %s |" % (
            name, d["median"], d["min"], d["max"], u["median"], u["min"], u["max"],
            ratio(bulk["hopgate"]["download"]["median"], d["median"]), ratio(bulk["hopgate"]["upload"]["median"], u["median"])))
    return lines


def head_of_line_section(results):
    lines = []
    hol = results["head_of_line"]
    lines += ["", "## Head-of-line: small requests (wrk -c10) idle vs during %d looping downloads of %s" % (
        results["config"]["hol_downloads"], results["config"]["hol_file"]), "",
              "| system | idle p50 ms | idle p99 ms | loaded p50 ms | loaded p99 ms | p99 loaded ÷ idle | downloads finished |",
              "|---|---|---|---|---|---|---|"]
    for name in ordered(hol):
        e = hol[name]
        lines.append("| %s | %.2f | %.2f | %.2f | %.2f | %.2f× | %d |" % (
            name, e["idle"]["p50_us"]["median"] / 1000, e["idle"]["p99_us"]["median"] / 1000,
            e["loaded"]["p50_us"]["median"] / 1000, e["loaded"]["p99_us"]["median"] / 1000, e["p99_ratio"], e["downloads_completed"]))
    paced = {name: hol[name]["paced"] for name in ordered(hol) if "paced" in hol[name]}
    if paced:
        first = next(iter(paced.values()))
        lines += ["", "Paced, with the CPU partly idle: %d small requests per second on one connection, idle and during %d "
                  "downloads of %s limited to %s/s each (latency counted from each request's time slot)." % (
                      first["rate"], results["config"]["hol_downloads"], results["config"]["hol_file"], first["download_limit"]), "",
                  "| system | idle p50 ms | idle p99 ms | loaded p50 ms | loaded p99 ms | p99 loaded ÷ idle |", "|---|---|---|---|---|---|"]
        for name, e in paced.items():
            lines.append("| %s | %.2f | %.2f | %.2f | %.2f | %.2f× |" % (
                name, e["idle"]["p50_us"]["median"] / 1000, e["idle"]["p99_us"]["median"] / 1000,
                e["loaded"]["p50_us"]["median"] / 1000, e["loaded"]["p99_us"]["median"] / 1000, e["p99_ratio"]))
    return lines


def memory_section(results):
    memory = results["memory"]
    lines = ["", "## Memory (HopGate)", "",
             "- idle: edge %.1f MiB, client %.1f MiB" % (memory["idle"]["edge"] / 1024, memory["idle"]["client"] / 1024)]
    if "bulk_peak" in memory:
        lines.append("- peak during the bulk transfers: edge %.1f MiB, client %.1f MiB" % (
            memory["bulk_peak"]["edge"] / 1024, memory["bulk_peak"]["client"] / 1024))
    if "transfer" in memory:
        lines += transfer_lines(memory)
    if "tunnels" in memory:
        lines += tunnel_lines(memory)
    return lines


def transfer_lines(memory):
    lines = []
    growth = memory["transfer"]
    lines.append("- during one %s download: edge +%.1f MiB (peak %.1f), client +%.1f MiB (peak %.1f), %.1f MB/s" % (
        memory["transfer_file"], growth["edge"]["growth_kib"] / 1024, growth["edge"]["peak_kib"] / 1024,
        growth["client"]["growth_kib"] / 1024, growth["client"]["peak_kib"] / 1024, growth["MBps"]))
    return lines


def tunnel_lines(memory):
    lines = []
    lines += ["", "Idle tunnels (N client processes, one domain each — a client serves one domain):", "",
              "| tunnels | edge RSS MiB | edge growth per tunnel KiB | client RSS MiB (each) | client private MiB (each) | all connected in s | domains registered in s (before) |", "|---|---|---|---|---|---|---|"]
    for count, entry in memory["tunnels"].items():
        if "skipped" in entry:
            lines.append("| %s | skipped: %s | | | | | |" % (count, entry["skipped"]))
        else:
            registered = entry.get("seconds_to_register_all")
            lines.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %s |" % (
                count, entry["edge_rss_kib"] / 1024, entry["per_tunnel_kib"], entry["client_rss_kib_median"] / 1024,
                entry["client_private_kib_median"] / 1024, entry["seconds_to_connect_all"],
                "%.1f" % registered if registered is not None else "(counted in)"))
    storms = [(count, entry) for count, entry in memory["tunnels"].items() if "seconds_to_reconnect_all_after_edge_restart" in entry]
    for count, entry in storms:
        lines += ["", "Edge restarted under %s idle tunnels (the clients already running): half back in %.1f s, 90 %% in %.1f s, all in %.1f s; edge RSS then %.1f MiB." % (
            count, entry.get("seconds_to_reconnect_half", float("nan")), entry.get("seconds_to_reconnect_90_percent", float("nan")),
            entry["seconds_to_reconnect_all_after_edge_restart"], entry["edge_rss_kib_after_reconnect"] / 1024)]
    for count, entry in memory["tunnels"].items():
        if "swarm_seconds_to_connect_all" in entry:
            lines += ["", "The same %s tunnels held by one `hopgate-swarm` process (the client's code, a connection per tunnel; no process start per tunnel): all connected in %.1f s, edge +%.1f KiB per tunnel, swarm RSS %.1f MiB." % (
                count, entry["swarm_seconds_to_connect_all"], entry["swarm_edge_per_tunnel_kib"], entry["swarm_rss_kib"] / 1024)]
    return lines


def ordered(mapping):
    return [name for name in SYSTEM_ORDER if name in mapping]


def charts(results, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []

    def bars(filename, title, ylabel, groups, series):
        figure, axis = plt.subplots(figsize=(9, 4.5))
        width = 0.8 / max(len(series), 1)
        for index, (label, values) in enumerate(series.items()):
            axis.bar([g + index * width for g in range(len(groups))], values, width, label=label)
        axis.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))])
        axis.set_xticklabels(groups)
        axis.set_title(title)
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=8)
        figure.tight_layout()
        figure.savefig(os.path.join(out, filename), dpi=110)
        plt.close(figure)
        made.append(filename)

    if "small" in results:
        small_charts(results, bars)
    if "bulk" in results:
        bulk = results["bulk"]
        bars("bulk.png", "Bulk transfer (%s)" % results["config"]["bulk_file"], "MB/s", ["download", "upload"],
             {n: [bulk[n]["download"]["median"], bulk[n]["upload"]["median"]] for n in ordered(bulk)})
    if "head_of_line" in results:
        hol = results["head_of_line"]
        bars("head-of-line.png", "Small-request p99: idle vs during downloads", "ms", ["idle", "loaded"],
             {n: [hol[n]["idle"]["p99_us"]["median"] / 1000, hol[n]["loaded"]["p99_us"]["median"] / 1000] for n in ordered(hol)})
    return made


def small_charts(results, bars):
    small = results["small"]
    cases = list(next(iter(small.values())).keys())
    names = ordered(small)
    bars("small-rps.png", "Small requests: req/s (median)", "req/s", cases,
         {n: [small[n][c]["rps"]["median"] for c in cases] for n in names})
    bars("small-p99.png", "Small requests: p99 latency (median)", "ms", cases,
         {n: [small[n][c]["p99_us"]["median"] / 1000 for c in cases] for n in names})
