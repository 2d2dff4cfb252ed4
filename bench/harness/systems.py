"""The systems under test, all on loopback, all in front of the same nginx backend.

direct       the backend itself (plain HTTP) — the ceiling
nginx-https  nginx terminating TLS and proxying to the backend — an edge with no tunnel
ssh-N-R      nginx HTTPS → `ssh -N -R` (what people type; Nagle stays on) → backend
ssh-tt-R     nginx HTTPS → `ssh -tt -R … sleep` (a tty makes ssh set TCP_NODELAY) → backend
hopgate      hopgate-server (self-signed TLS, SQLite) → gRPC tunnel → hopgate-client → backend
"""
import os
import time
import urllib.request

from procs import free_port, http_json, run, wait_for_port

HOST = "bench.localhost"
# The domain of the `hopgate-t2` system: the same edge, a second client holding `--tunnels 2`.
HOST_TUNNELS2 = "bench2.localhost"
# The tunnels of the request scenarios' client: 1, the default; HOP_BENCH_CLIENT_TUNNELS=2 runs the
# scenarios with `--tunnels 2` (one per core here), which the README's notes on `--tunnels` quote.
CLIENT_TUNNELS = int(os.environ.get("HOP_BENCH_CLIENT_TUNNELS") or 1)
ADMIN_KEY = "bench-admin-key-0123456789abcdef0123456789"


class System:
    """How the load tools reach one system: `url(path)` for wrk/curl (127.0.0.1 with Host),
    `resolve` for curl, `h2_target` for h2load, and the pids whose cost is measured."""

    def __init__(self, name, scheme, port, description, host=HOST):
        self.name, self.scheme, self.port, self.description, self.host = name, scheme, port, description, host
        self.pids = {}

    def url(self, path):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def host_url(self, path):
        return "%s://%s:%d%s" % (self.scheme, self.host, self.port, path)

    def curl_args(self):
        return ["--resolve", "%s:%d:127.0.0.1" % (self.host, self.port), "-k"] if self.scheme == "https" else []


def make_files(root, sizes):
    """Static files of the given sizes (random bytes) in `root`; returns {name: path}."""
    os.makedirs(os.path.join(root, "upload"), exist_ok=True)
    paths = {}
    for name, size in sizes.items():
        path = os.path.join(root, name)
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open("/dev/urandom", "rb") as source, open(path, "wb") as target:
                left = size
                while left:
                    chunk = source.read(min(left, 1 << 20))
                    target.write(chunk)
                    left -= len(chunk)
        paths[name] = path
    return paths


def spawn_nginx(ws, name, http_settings, servers):
    """An nginx master (as root, workers per core, no access log, its temporary files in the
    workspace) running `servers` inside its `http` block."""
    conf = ws.path(name + ".conf")
    with open(conf, "w") as f:
        f.write("""
user root;
worker_processes auto;
pid %(dir)s/%(name)s.pid;
error_log %(dir)s/%(name)s.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    %(settings)s
    keepalive_requests 1000000;
    client_body_temp_path %(dir)s/%(name)s-body;
    proxy_temp_path %(dir)s/%(name)s-proxy; fastcgi_temp_path %(dir)s/%(name)s-f;
    uwsgi_temp_path %(dir)s/%(name)s-u; scgi_temp_path %(dir)s/%(name)s-s;
%(servers)s
}
""" % {"dir": ws.dir, "name": name, "settings": http_settings, "servers": servers})
    return ws.spawn(name, ["nginx", "-c", conf, "-g", "daemon off;"])


def start_backend(ws, root):
    """nginx serving `root` (GET) and storing PUTs under /upload/ (WebDAV), on a plain HTTP/1.1
    port and an h2c port (for h2load's direct baseline)."""
    http1, h2c = free_port(), free_port()
    process = spawn_nginx(ws, "backend-nginx", "sendfile on; tcp_nopush on; tcp_nodelay on;", """
    server {
        listen 127.0.0.1:%(http1)d;
        listen 127.0.0.1:%(h2c)d http2;
        root %(root)s;
        location /upload/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; client_body_buffer_size 1m; }
    }
""" % {"root": root, "http1": http1, "h2c": h2c})
    wait_for_port(http1, what="the backend nginx")
    system = System("direct", "http", http1, "the backend nginx itself, plain HTTP (the ceiling)")
    system.h2c_port = h2c
    system.pids = {"backend": process.pid}
    return system, process


def tls_certificate(ws):
    key, cert = ws.path("front.key"), ws.path("front.pem")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
         "-out", cert, "-days", "2", "-subj", "/CN=" + HOST, "-addext", "subjectAltName=DNS:%s" % HOST])
    return cert, key


def start_front_nginx(ws, upstreams):
    """One nginx terminating TLS (P-256 certificate, TLS 1.2/1.3, h2 + http/1.1, unbuffered
    streaming both ways like HopGate) for each named upstream port; returns {name: port}."""
    cert, key = tls_certificate(ws)
    ports = {name: free_port() for name in upstreams}
    servers = "".join("""
    upstream %(name)s { server 127.0.0.1:%(upstream)d; keepalive 256; }
    server {
        listen 127.0.0.1:%(port)d ssl http2;
        ssl_certificate %(cert)s; ssl_certificate_key %(key)s;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://%(name)s;
            proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host;
            proxy_buffering off; proxy_request_buffering off; client_max_body_size 0;
        }
    }
""" % {"name": name.replace("-", "_"), "upstream": upstream, "port": ports[name], "cert": cert, "key": key}
        for name, upstream in upstreams.items())
    process = spawn_nginx(ws, "front-nginx", "tcp_nodelay on;", servers)
    for name, port in ports.items():
        wait_for_port(port, what="the front nginx for " + name)
    return ports, process


def start_ssh_tunnels(ws, backend_port):
    """sshd on loopback and two reverse tunnels to the backend; returns {form: remote port}."""
    os.makedirs("/run/sshd", exist_ok=True)
    host_key, user_key = ws.path("ssh_host_ed25519_key"), ws.path("id_ed25519")
    for key in (host_key, user_key):
        if not os.path.exists(key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
    with open(ws.path("authorized_keys"), "w") as f:
        f.write(open(user_key + ".pub").read())
    os.chmod(ws.path("authorized_keys"), 0o600)
    port = free_port()
    conf = ws.path("sshd_config")
    with open(conf, "w") as f:
        f.write("""Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
""" % (port, host_key, ws.dir, ws.path("authorized_keys")))
    sshd = ws.spawn("sshd", ["/usr/sbin/sshd", "-D", "-e", "-f", conf])
    wait_for_port(port, what="sshd")
    common = ["ssh", "-p", str(port), "-i", user_key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
              "-o", "ExitOnForwardFailure=yes", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]
    remote = {"ssh-N-R": free_port(), "ssh-tt-R": free_port()}
    tunnels = [
        ws.spawn("ssh-N-R", common + ["-N", "-R", "%d:127.0.0.1:%d" % (remote["ssh-N-R"], backend_port), "root@127.0.0.1"]),
        # -tt needs a terminal on our side too: `script` gives it one.
        ws.spawn("ssh-tt-R", ["script", "-qfec", " ".join(common + ["-tt", "-R", "%d:127.0.0.1:%d" % (remote["ssh-tt-R"], backend_port),
                                                                   "root@127.0.0.1", "sleep", "1000000"]), "/dev/null"]),
    ]
    for form, remote_port in remote.items():
        wait_for_port(remote_port, what="the %s tunnel" % form)
    return remote, sshd, tunnels


def process_settings(name):
    """The settings in environment variable `name` ("VAR=VALUE;VAR=VALUE"), for one process of
    HopGate's only: `HOP_BENCH_EDGE_ENV=NIO_SINGLETON_GROUP_LOOP_COUNT=1` gives the edge one event
    loop and leaves the client's as they are (plain variables reach both)."""
    settings = {}
    for pair in filter(None, os.environ.get(name, "").split(";")):
        var, sep, value = pair.partition("=")
        if not sep or not var:
            raise SystemExit("%s: expected VAR=VALUE;…, not %r" % (name, pair))
        settings[var] = value
    return settings


class HopGate:
    """hopgate-server (dev mode: self-signed TLS, SQLite) and one hopgate-client for HOST."""

    def __init__(self, ws, bin_dir, backend_port):
        self.ws, self.bin_dir, self.backend_port = ws, bin_dir, backend_port
        self.data = ws.path("hopgate-data")
        self.https, self.http, self.admin, self.metrics = free_port(), free_port(), free_port(), free_port()
        self.server = self.client = self.client_tunnels2 = None
        self.key = None
        self.extra_clients = []

    def server_env(self):
        # Every load generator and all (up to 1000) tunnel clients come from 127.0.0.1: no per-address cap.
        env = dict(os.environ, HOP_ADMIN_API_KEY=ADMIN_KEY, HOP_DATA_DIR=self.data, HOP_LOG_LEVEL="warning",
                   HOP_LOG_FORMAT="text", HOP_METRICS_LISTEN="127.0.0.1:%d" % self.metrics,
                   HOP_SERVER_MAX_CONNECTIONS_PER_IP="0")
        env.pop("HOP_TUNNEL_LISTEN", None)
        env.update(process_settings("HOP_BENCH_EDGE_ENV"))
        return env

    def start_server(self):
        self.server = self.ws.spawn("hopgate-server", [
            os.path.join(self.bin_dir, "hopgate-server"), "dev", "--env-file", "/nonexistent",
            "--admin-listen", "127.0.0.1:%d" % self.admin, "--http-listen", "127.0.0.1:%d" % self.http,
            "--https-listen", "127.0.0.1:%d" % self.https], env=self.server_env())
        wait_for_port(self.https, what="hopgate-server (HTTPS)")
        wait_for_port(self.admin, what="hopgate-server (admin)")
        return self.server

    def register(self, domain):
        answer = http_json("http://127.0.0.1:%d/api/v1/admin/domains/register" % self.admin, {"domain": domain},
                           {"Authorization": "Bearer " + ADMIN_KEY})
        return answer["client_api_key"]

    def spawn_client(self, domain, key, name, tunnels=1):
        env = dict(os.environ, HOP_CLIENT_API_KEY=key)
        env.update(process_settings("HOP_BENCH_CLIENT_ENV"))
        return self.ws.spawn(name, [
            os.path.join(self.bin_dir, "hopgate-client"), "--server", "127.0.0.1:%d" % self.https,
            "--server-name", "hopgate.localhost", "--ca-file", os.path.join(self.data, "ca", "ca.pem"),
            "--domain", domain, "--local-target", "127.0.0.1:%d" % self.backend_port,
            "--env-file", "/nonexistent", "--log-level", "warning", "--log-format", "text"]
            + (["--tunnels", str(tunnels)] if tunnels > 1 else []), env=env)

    def spawn_swarm(self, keys):
        """One `hopgate-swarm` holding a tunnel for each (domain, key); the keys go in a file
        only the bench's user can read, never on a command line."""
        path = os.path.join(self.data, "swarm-tunnels.txt")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            for domain, key in keys:
                out.write("%s %s\n" % (domain, key))
        return self.ws.spawn("hopgate-swarm", [
            os.path.join(self.bin_dir, "hopgate-swarm"), "--server", "127.0.0.1:%d" % self.https,
            "--server-name", "hopgate.localhost", "--ca-file", os.path.join(self.data, "ca", "ca.pem"),
            "--local-target", "127.0.0.1:%d" % self.backend_port, "--tunnels-file", path],
            env=dict(os.environ, **process_settings("HOP_BENCH_CLIENT_ENV")))

    def start_client(self):
        """The client the request scenarios go through, with `--tunnels CLIENT_TUNNELS`."""
        if self.key is None:
            self.key = self.register(HOST)
        self.client = self.spawn_client(HOST, self.key, "hopgate-client", tunnels=CLIENT_TUNNELS)
        return self.client

    def start_client_tunnels2(self):
        """The `hopgate-t2` system's client: `--tunnels 2` for HOST_TUNNELS2 (one tunnel per
        core of the edge, which runs on this machine), serving the same backend."""
        key = self.register(HOST_TUNNELS2)
        self.client_tunnels2 = self.spawn_client(HOST_TUNNELS2, key, "hopgate-client-t2", tunnels=2)
        self.wait_until_serving(host=HOST_TUNNELS2)
        self.wait_for_all_tunnels(count=CLIENT_TUNNELS + 2)
        return self.client_tunnels2

    def stop_client_tunnels2(self):
        """Stops the `hopgate-t2` client (before the scenarios that count the edge's tunnels)."""
        if self.client_tunnels2 is not None:
            self.ws.stop(self.client_tunnels2, grace=10)
            self.client_tunnels2 = None
            deadline = time.monotonic() + 30
            while self.active_tunnels() > CLIENT_TUNNELS and time.monotonic() < deadline:
                time.sleep(0.05)

    def wait_until_serving(self, timeout=60.0, host=HOST):
        """Polls a request through the tunnel until it answers 200; returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            status = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "-k",
                          "--resolve", "%s:%d:127.0.0.1" % (host, self.https), "https://%s:%d/1k.bin" % (host, self.https)],
                         check=False).strip()
            if status == "200":
                return time.monotonic() - started
            time.sleep(0.01)
        raise RuntimeError("HopGate did not serve %s within %.0f s:\n%s\n%s" % (
            host, timeout, self.ws.log("hopgate-server")[-2000:], self.ws.log("hopgate-client")[-2000:]))

    def wait_for_all_tunnels(self, timeout=30.0, count=CLIENT_TUNNELS):
        """Waits until `count` tunnels are up, by default every tunnel of the main client (the
        first request may have gone through the first one alone)."""
        deadline = time.monotonic() + timeout
        while self.active_tunnels() < count:
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d tunnels came up:\n%s" % (
                    self.active_tunnels(), count, self.ws.log("hopgate-client")[-2000:]))
            time.sleep(0.05)

    def active_tunnels(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics, timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith("hopgate_tunnels_active "):
                    return int(float(line.split()[1]))
        return 0

    def system(self):
        system = System("hopgate", "https", self.https, "hopgate-server + gRPC tunnel + hopgate-client" + (
            " --tunnels %d" % CLIENT_TUNNELS if CLIENT_TUNNELS > 1 else ""))
        system.pids = {"edge": self.server.pid, "client": self.client.pid}
        return system

    def system_tunnels2(self):
        system = System("hopgate-t2", "https", self.https, "the same hopgate-server, and a second hopgate-client with "
                        "`--tunnels 2` (one tunnel per edge core) for its own domain", host=HOST_TUNNELS2)
        system.pids = {"edge": self.server.pid, "client": self.client_tunnels2.pid}
        return system
