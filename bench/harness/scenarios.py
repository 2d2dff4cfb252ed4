"""The scenarios: each takes the running systems and returns plain data for results.json."""
import os
import threading
import time

from load import BackgroundDownloads, BenchError, curl_download, curl_upload, h2load, median_and_spread, paced_probe, wrk
from procs import children, cpu_seconds, rss_kib, run, uss_kib


def small_requests(systems, config, workdir, log):
    """1 KiB GETs: wrk -t1 at each connection count (HTTP/1.1), h2load -t1 -c1 -m50 (HTTP/2)."""
    results = {s.name: {} for s in systems}
    cases = [("h1_c%d" % c, c) for c in config["connections"]] + [("h2_m%d" % config["streams"], None)]
    for system in systems:
        if config["warmup"]:
            wrk(system, "/1k.bin", 50, config["warmup"], workdir)
    raw = {s.name: {case: [] for case, _ in cases} for s in systems}
    for repetition in range(config["repetitions"]):
        for system in systems:
            for case, connections in cases:
                if connections is None:
                    result = h2load(system, "/1k.bin", config["streams"], config["seconds"], workdir)
                else:
                    result = wrk(system, "/1k.bin", connections, config["seconds"], workdir)
                raw[system.name][case].append(result)
                log("small %-12s %-7s rep %d: %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms" % (
                    system.name, case, repetition + 1, result["rps"], result["p50_us"] / 1000, result["p99_us"] / 1000))
    for system in systems:
        for case, _ in cases:
            runs = raw[system.name][case]
            results[system.name][case] = {key: median_and_spread([r[key] for r in runs]) for key in ("rps", "p50_us", "p99_us", "p999_us")}
    return results


def bulk(systems, config, files, backend_root, workdir, log, hopgate):
    """One download and one upload of the bulk file per repetition, checksums verified; the
    HopGate edge and client RSS are sampled during its transfers."""
    name = config["bulk_file"]
    source, digest = files[name], files[name + ".sha256"]
    results = {s.name: {"download": [], "upload": []} for s in systems}
    peak = {"edge": 0, "client": 0}
    for repetition in range(config["repetitions"]):
        for system in systems:
            sampler = RSSSampler(system.pids if system.name == "hopgate" else {})
            with sampler:
                down = curl_download(system, "/" + name, digest, os.path.join(workdir, "download.bin"))
                up = curl_upload(system, source, "bench-%s-%d.bin" % (system.name, repetition), digest, backend_root)
            for role, value in sampler.peaks.items():
                peak[role] = max(peak.get(role, 0), value)
            results[system.name]["download"].append(down["MBps"])
            results[system.name]["upload"].append(up["MBps"])
            log("bulk  %-12s rep %d: download %7.1f MB/s  upload %7.1f MB/s" % (system.name, repetition + 1, down["MBps"], up["MBps"]))
    summary = {s: {d: median_and_spread(v) for d, v in r.items()} for s, r in results.items()}
    return summary, peak


def idle_versus_loaded(idle, loaded, keys):
    """Medians and spreads of `keys` over the idle and the loaded runs, with the loaded ÷ idle
    ratios of p50 and p99."""
    entry = {"idle": {k: median_and_spread([r[k] for r in idle]) for k in keys},
             "loaded": {k: median_and_spread([r[k] for r in loaded]) for k in keys}}
    for percentile in ("p50", "p99"):
        key = percentile + "_us"
        entry[percentile + "_ratio"] = entry["loaded"][key]["median"] / max(entry["idle"][key]["median"], 1)
    return entry


PACED_RATE = 100  # small requests per second of the paced probe
PACED_DOWNLOAD_RATE = "16M"  # each background download's limit in the paced variant (curl --limit-rate)


def head_of_line(systems, config, workdir, log):
    """Small-request latency (wrk -c10) idle, then while 4 downloads of the bulk file loop
    through the same system (the same tunnel for HopGate). On two cores both loads take all the
    CPU, so that ratio mixes waiting behind the downloads with sharing the CPU with them. The
    paced variant separates the two: `PACED_RATE` small requests per second on one connection,
    idle and then during 4 downloads limited to `PACED_DOWNLOAD_RATE` each, with the CPU left
    partly idle."""
    results = {}
    for system in systems:
        idle = [wrk(system, "/1k.bin", 10, config["seconds"], workdir) for _ in range(config["repetitions"])]
        loaded, completed = [], 0
        for _ in range(config["repetitions"]):
            with BackgroundDownloads(system, "/" + config["hol_file"], config["hol_downloads"]) as downloads:
                time.sleep(1)
                loaded.append(wrk(system, "/1k.bin", 10, config["seconds"], workdir))
                completed += downloads.completed
        entry = dict(idle_versus_loaded(idle, loaded, ("p50_us", "p99_us", "rps")), downloads_completed=completed)
        log("hol   %-12s idle p99 %6.2f ms, loaded p99 %6.2f ms (x%.2f), %d downloads finished meanwhile" % (
            system.name, entry["idle"]["p99_us"]["median"] / 1000, entry["loaded"]["p99_us"]["median"] / 1000,
            entry["p99_ratio"], completed))
        paced_idle = [paced_probe(system, "/1k.bin", PACED_RATE, config["seconds"]) for _ in range(config["repetitions"])]
        paced_loaded = []
        for _ in range(config["repetitions"]):
            with BackgroundDownloads(system, "/" + config["hol_file"], config["hol_downloads"], PACED_DOWNLOAD_RATE):
                time.sleep(1)
                paced_loaded.append(paced_probe(system, "/1k.bin", PACED_RATE, config["seconds"]))
        paced = dict(idle_versus_loaded(paced_idle, paced_loaded, ("p50_us", "p99_us")), rate=PACED_RATE, download_limit=PACED_DOWNLOAD_RATE)
        entry["paced"] = paced
        log("hol   %-12s paced %d/s: idle p99 %6.2f ms, during %d downloads at %s/s p99 %6.2f ms (x%.2f)" % (
            system.name, PACED_RATE, paced["idle"]["p99_us"]["median"] / 1000, config["hol_downloads"], PACED_DOWNLOAD_RATE,
            paced["loaded"]["p99_us"]["median"] / 1000, paced["p99_ratio"]))
        results[system.name] = entry
    return results


class RSSSampler:
    """Samples the RSS of `pids` ({role: pid}) every 50 ms while active; keeps the peaks."""

    def __init__(self, pids):
        self.pids, self.peaks = pids, {role: 0 for role in pids}
        self.stopping = threading.Event()

    def _run(self):
        while not self.stopping.is_set():
            for role, pid in self.pids.items():
                try:
                    self.peaks[role] = max(self.peaks[role], rss_kib(pid))
                except OSError:
                    pass
            time.sleep(0.05)

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def cpu_per_requests(systems, config, workdir, front_nginx_pid, log):
    """CPU seconds per 10,000 small requests (wrk -c50): HopGate's edge and client from /proc,
    and the front nginx's workers for nginx-https as the reference."""
    results = {}
    for system in systems:
        if system.name in ("hopgate", "hopgate-t2"):
            pids = dict(system.pids)
        elif system.name == "nginx-https":
            pids = {"nginx workers": children(front_nginx_pid)}
        else:
            continue
        flat = {role: (p if isinstance(p, list) else [p]) for role, p in pids.items()}
        before = {role: sum(cpu_seconds(p) for p in ps) for role, ps in flat.items()}
        result = wrk(system, "/1k.bin", 50, config["seconds"], workdir)
        after = {role: sum(cpu_seconds(p) for p in ps) for role, ps in flat.items()}
        results[system.name] = {role: (after[role] - before[role]) / result["requests"] * 10_000 for role in flat}
        results[system.name]["requests"] = result["requests"]
        log("cpu   %-12s %s per 10k requests" % (system.name, ", ".join("%s %.3f s" % (r, v) for r, v in results[system.name].items() if r != "requests")))
    return results


def tunnels_memory(hopgate, counts, log, client_private_kib=8 * 1024):
    """Edge RSS with N extra idle tunnels (N client processes, one domain each — a client serves
    one domain), and the per-tunnel cost over the bench tunnel alone."""
    results = {}
    base = rss_kib(hopgate.server.pid)
    available = int(next(l for l in open("/proc/meminfo") if l.startswith("MemAvailable:")).split()[1])
    for count in counts:
        need = count * client_private_kib * 1.3
        if need > available * 0.8:
            results[str(count)] = {"skipped": "needs about %d MiB for the client processes; %d MiB available" % (need / 1024, available / 1024)}
            log("tunnels %d: skipped (memory)" % count)
            continue
        # Registering the domains is admin work, timed on its own: "connected in" counts from the
        # first client's start to the last tunnel's welcome.
        registering = time.monotonic()
        keys = []
        for index in range(count):
            domain = "t%d-%d.localhost" % (count, index)
            keys.append((domain, hopgate.register(domain)))
        registered = time.monotonic() - registering
        started = time.monotonic()
        clients = []
        for index, (domain, key) in enumerate(keys):
            clients.append(hopgate.spawn_client(domain, key, "tunnel-client-%d-%d" % (count, index)))
        deadline = time.monotonic() + 60 + count * 0.3
        while hopgate.active_tunnels() < count + 1:
            if time.monotonic() > deadline:
                raise BenchError("only %d of %d tunnels came up" % (hopgate.active_tunnels() - 1, count))
            time.sleep(0.2)
        up = time.monotonic() - started
        time.sleep(2)
        edge = rss_kib(hopgate.server.pid)
        client_rss = sorted(rss_kib(c.pid) for c in clients)
        client_private = sorted(uss_kib(c.pid) for c in clients)
        results[str(count)] = {
            "client_private_kib_median": client_private[len(client_private) // 2],
            "edge_rss_kib": edge, "edge_growth_kib": edge - base, "per_tunnel_kib": (edge - base) / count,
            "client_rss_kib_median": client_rss[len(client_rss) // 2], "seconds_to_connect_all": up,
            "seconds_to_register_all": registered,
        }
        # The next, larger count is planned with what these fresh clients really hold.
        client_private_kib = max(client_private[len(client_private) // 2], 1024)
        log("tunnels %4d: edge RSS %.1f MiB (+%.1f KiB per tunnel), client RSS %.1f MiB each (%.1f MiB private), all up in %.1f s (registered in %.1f s before)" % (
            count, edge / 1024, (edge - base) / count, client_rss[len(client_rss) // 2] / 1024, client_private[len(client_private) // 2] / 1024, up,
            registered))
        if count == max(counts):
            results[str(count)].update(reconnect_storm(hopgate, count, log))
        for client in clients:
            try:
                os.killpg(client.pid, 15)
            except ProcessLookupError:
                pass
        for client in clients:
            hopgate.ws.stop(client, grace=10)
        while hopgate.active_tunnels() > 1:
            time.sleep(0.2)
        if count == max(counts):
            results[str(count)].update(swarm_connect(hopgate, keys, log))
    return results


def swarm_connect(hopgate, keys, log):
    """The same tunnels again, held by one `hopgate-swarm` process (the real client code, one
    connection per tunnel): how fast the edge admits them when the bench machine is not also
    starting a process per tunnel, and what they cost the edge that way."""
    count = len(keys)
    # A fresh edge, so that its growth is the swarm's tunnels' and not heap kept from before.
    hopgate.ws.stop(hopgate.server, grace=30)
    hopgate.start_server()
    hopgate.wait_until_serving()
    time.sleep(1)
    base = rss_kib(hopgate.server.pid)
    started = time.monotonic()
    swarm = hopgate.spawn_swarm(keys)
    deadline = started + 60 + count * 0.1
    while hopgate.active_tunnels() < count + 1:
        if time.monotonic() > deadline or swarm.poll() is not None:
            hopgate.ws.stop(swarm, grace=10)
            raise BenchError("hopgate-swarm: only %d of %d tunnels came up" % (hopgate.active_tunnels() - 1, count))
        time.sleep(0.1)
    up = time.monotonic() - started
    time.sleep(2)
    edge = rss_kib(hopgate.server.pid)
    swarm_rss = rss_kib(swarm.pid)
    hopgate.ws.stop(swarm, grace=10)
    while hopgate.active_tunnels() > 1:
        time.sleep(0.2)
    log("tunnels %4d: one hopgate-swarm process: all up in %.1f s; edge +%.1f KiB per tunnel; swarm RSS %.1f MiB" % (
        count, up, (edge - base) / count, swarm_rss / 1024))
    return {"swarm_seconds_to_connect_all": up, "swarm_edge_per_tunnel_kib": (edge - base) / count,
            "swarm_rss_kib": swarm_rss}


def reconnect_storm(hopgate, count, log):
    """Restarts the edge under `count` idle tunnels (plus the bench's own) and times until every
    client is back: what an operator waits for after an upgrade. The clients are already running,
    so this measures the edge admitting them all at once, plus their jittered reconnect backoff."""
    hopgate.ws.stop(hopgate.server, grace=30)
    started = time.monotonic()
    hopgate.start_server()
    limit = 60 + count * 0.1
    half = ninety = None
    while True:
        try:
            active = hopgate.active_tunnels()
        except OSError:
            active = 0  # the metrics listener is not up yet
        now = time.monotonic() - started
        if half is None and active >= (count + 1) / 2:
            half = now
        if ninety is None and active >= (count + 1) * 0.9:
            ninety = now
        if active >= count + 1:
            break
        if now > limit:
            raise BenchError("after the edge restart only %d of %d tunnels came back" % (active - 1, count))
        time.sleep(0.1)
    back = time.monotonic() - started
    time.sleep(2)
    edge = rss_kib(hopgate.server.pid)
    log("tunnels %4d: edge restarted; half back in %.1f s, 90 %% in %.1f s, all in %.1f s; edge RSS then %.1f MiB" % (
        count, half, ninety, back, edge / 1024))
    return {"seconds_to_reconnect_all_after_edge_restart": back, "seconds_to_reconnect_half": half,
            "seconds_to_reconnect_90_percent": ninety, "edge_rss_kib_after_reconnect": edge}


def transfer_growth(hopgate_system, path, digest, workdir):
    """Edge and client RSS growth during one large download through HopGate."""
    before = {role: rss_kib(pid) for role, pid in hopgate_system.pids.items()}
    sampler = RSSSampler(hopgate_system.pids)
    with sampler:
        download = curl_download(hopgate_system, path, digest, os.path.join(workdir, "transfer.bin"))
    return {role: {"before_kib": before[role], "peak_kib": sampler.peaks[role], "growth_kib": sampler.peaks[role] - before[role]}
            for role in before} | {"MBps": download["MBps"]}


def startup_times(hopgate, log):
    """Client start → first successful request; edge restart → first successful request again."""
    hopgate.ws.stop(hopgate.client)
    started = time.monotonic()
    hopgate.start_client()
    hopgate.wait_until_serving()
    client_start = time.monotonic() - started
    hopgate.ws.stop(hopgate.server, grace=30)
    started = time.monotonic()
    hopgate.start_server()
    hopgate.wait_until_serving()
    edge_restart = time.monotonic() - started
    log("start  client start → first request %.2f s; edge restart → first request %.2f s" % (client_start, edge_restart))
    return {"client_start_to_first_request_s": client_start, "edge_restart_to_first_request_s": edge_restart}
