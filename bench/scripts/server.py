"""Builds the release binaries and runs the server under test (beryl-server or the yardstick)."""

import os
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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    def __init__(self, build_dir, scratch_dir):
        self.build_dir = build_dir
        self.scratch_dir = scratch_dir  # where the logs and the TLS runs' certificate go
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

    def start(self, server, extra_args=(), timeout_s=30):
        """server: "beryl", "beryl-tls" (also serves wss://, and url says wss://),
        "beryl-no-metrics" (its arguments say --no-metrics) or "yardstick"."""
        self.port = free_port()
        self.tls = server == "beryl-tls"
        binary, log_name = BINARIES["beryl" if self.tls else server]
        log_path = os.path.join(self.scratch_dir, log_name)
        args = [os.path.join(self.build_dir, binary), "--host", "127.0.0.1",
                "--port", str(self.port), *extra_args]
        if self.tls:
            self.certificate = self.certificate or make_certificate(self.scratch_dir)
            args += ["--tls-cert", self.certificate[0], "--tls-key", self.certificate[1]]
        with open(log_path, "a") as log:
            self.proc = subprocess.Popen(
                args,
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
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code


# Loopback only: never route the health check through a proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _healthy(port):
    try:
        with _NO_PROXY.open(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False
