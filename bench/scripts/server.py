"""Builds the release binaries and runs the server under test."""

import signal
import socket
import subprocess
import time
import urllib.request

BUILD_TARGETS = ["beryl-server", "beryl-loadgen"]


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


class ManagedServer:
    """One beryl-server process on 127.0.0.1, started fresh for each scenario run."""

    def __init__(self, binary, log_path):
        self.binary = binary
        self.log_path = log_path
        self.proc = None
        self.port = None

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/socket/websocket"

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout_s=30):
        self.port = free_port()
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}")
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
