"""Builds the release binaries and runs the server under test (beryl-server or the yardstick)."""

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request

BUILD_TARGETS = ["beryl-server", "beryl-yardstick", "beryl-loadgen"]

# A run's server (plan.Run.server, "beryl-tls" being beryl-server with a certificate) -> its binary
# in the build dir and its log in the results directory.
BINARIES = {"beryl": (os.path.join("app", "beryl-server"), "server.log"),
            "beryl-no-metrics": (os.path.join("app", "beryl-server"), "server.log"),
            "yardstick": (os.path.join("bench", "beryl-yardstick"), "yardstick.log")}


def build(repo, build_dir, targets, log):
    """Configures a Release build in build_dir and builds only the bench's targets."""
    log(f"building {', '.join(targets)} in {build_dir} (Release)")
    # Configured every time so that a build dir left in Debug is switched back to Release.
    subprocess.run(["cmake", "-S", repo, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    # -j2: the machine has two cores; Beast translation units need over 1 GB each.
    subprocess.run(["cmake", "--build", build_dir, "-j2", "--target", *targets], check=True)


def free_ports(count):
    """`count` distinct free ports: all are held while picking, so none comes back twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port():
    return free_ports(1)[0]


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 and its key, for the TLS runs."""
    cert, key = os.path.join(directory, "tls-cert.pem"), os.path.join(directory, "tls-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class ManagedServer:
    """One server process on 127.0.0.1, started fresh for each scenario run."""

    def __init__(self, build_dir, scratch_dir, log_name=None):
        self.build_dir = build_dir
        self.scratch_dir = scratch_dir  # where the logs and the TLS runs' certificate go
        self.log_name = log_name  # None: the server's own (BINARIES)
        self.certificate = None
        self.proc = None
        self.port = None
        self.tls = False

    @property
    def url(self):
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://127.0.0.1:{self.port}/socket/websocket"

    @property
    def pid(self):
        return self.proc.pid

    @property
    def urls(self):
        return [self.url]

    @property
    def pids(self):
        return [self.pid]

    def start(self, server, extra_args=(), timeout_s=30, port=None, env=None):
        """server: "beryl", "beryl-tls" (also serves wss://, and url says wss://),
        "beryl-no-metrics" (its arguments say --no-metrics) or "yardstick"; port: None for a
        free one; env: variables added to the server's environment."""
        self.port = port or free_port()
        self.tls = server == "beryl-tls"
        binary, log_name = BINARIES["beryl" if self.tls else server]
        log_path = os.path.join(self.scratch_dir, self.log_name or log_name)
        args = [os.path.join(self.build_dir, binary), "--host", "127.0.0.1",
                "--port", str(self.port), *extra_args]
        if self.tls:
            self.certificate = self.certificate or make_certificate(self.scratch_dir)
            args += ["--tls-cert", self.certificate[0], "--tls-key", self.certificate[1]]
        with open(log_path, "a") as log:
            self.proc = subprocess.Popen(
                args, env={**os.environ, **(env or {})},
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {log_path}")
            if _healthy(self.port):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /healthz within {timeout_s} s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace_s=10):
        """Stops the server; returns its exit code (negative: killed by that signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            # A cluster node the heal run stopped (SIGSTOP) would not act on SIGTERM.
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code


class ManagedCluster:
    """Three beryl-server nodes on 127.0.0.1 forming one cluster (docs/cluster.md), started fresh
    for each cluster run: free HTTP and cluster ports, a secret made for the run, each node given
    the previous one as its seed. Same interface as ManagedServer, with a URL and pid per node."""

    def __init__(self, build_dir, scratch_dir, nodes=3):
        self.nodes = [ManagedServer(build_dir, scratch_dir, f"cluster-n{i + 1}.log")
                      for i in range(nodes)]

    @property
    def urls(self):
        return [node.url for node in self.nodes]

    @property
    def pids(self):
        return [node.pid for node in self.nodes]

    def start(self, server="beryl", extra_args=(), timeout_s=30):
        ports = free_ports(2 * len(self.nodes))
        http_ports, cluster_ports = ports[:len(self.nodes)], ports[len(self.nodes):]
        secret = {"BERYL_CLUSTER_SECRET": secrets.token_hex(16)}  # kept off the command line
        try:
            for i, node in enumerate(self.nodes):
                args = ["--node", f"n{i + 1}", "--cluster-port", str(cluster_ports[i])]
                if i:
                    args += ["--peers", f"127.0.0.1:{cluster_ports[i - 1]}"]
                node.start(server, [*args, *extra_args], timeout_s, http_ports[i], secret)
            self._wait_for_mesh(timeout_s)
        except (RuntimeError, OSError):
            self.stop()
            raise

    def _wait_for_mesh(self, timeout_s):
        """Until every node's /debug/cluster shows every other node up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(_peers_up(node.port) == len(self.nodes) - 1 for node in self.nodes):
                return
            if not self.alive():
                raise RuntimeError("a cluster node exited while the mesh formed")
            time.sleep(0.1)
        raise RuntimeError(f"the cluster did not form a full mesh within {timeout_s} s")

    def alive(self):
        return all(node.alive() for node in self.nodes)

    def stop(self, grace_s=10):
        """Stops every node; returns the first non-zero exit code, else 0 (None: not started)."""
        codes = [node.stop(grace_s) for node in self.nodes]
        failed = [code for code in codes if code]
        return failed[0] if failed else (None if all(c is None for c in codes) else 0)


# Loopback only: never route the health check through a proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(port, path):
    with _NO_PROXY.open(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
        return r.status, r.read()


def _healthy(port):
    try:
        return _get(port, "/healthz")[0] == 200
    except OSError:
        return False


def _peers_up(port):
    """How many peers the node at `port` sees up; 0 when it does not answer."""
    try:
        status, body = _get(port, "/debug/cluster")
        peers = json.loads(body).get("peers", []) if status == 200 else []
    except (OSError, ValueError):
        return 0
    return sum(1 for peer in peers if peer.get("status") == "up")
