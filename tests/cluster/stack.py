"""Processes for a production-shaped stack on one machine, shared by the cluster test
(tests/cluster/conftest.py) and the throughput benchmark (tests/bench/throughput.py): programs
in process groups of their own, free ports, HAProxy's configuration templated for this
machine, and a small HTTP client that keeps cookies."""

import contextlib
import http.client
import os
import re
import secrets
import signal
import subprocess
import urllib.parse
from pathlib import Path

from catalog import ROOT
from tests.helpers import wait_for  # noqa: F401  (the cluster's modules import it from here)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """A started program in a process group of its own, its output in `log`."""

    def __init__(self, name: str, command: list[str], log: Path, *, env=None, user=None):
        self.name, self.command, self.log, self.env, self.user = name, command, log, env, user
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        command = self.command
        if self.user:  # PgBouncer refuses to run as root
            command = ["runuser", "-u", self.user, "--", *command]
        with self.log.open("a") as out:
            self.popen = subprocess.Popen(  # noqa: S603  (the test's own fixed commands)
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)

    def stop(self, timeout: float = 20) -> None:
        """TERM to the group, KILL after `timeout`; waits for it."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # A group's other members (gunicorn's workers) may outlive their parent briefly.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def haproxy_config(
    text: str, port: int, servers: dict[str, int], *, check_every: str | None = "300ms",
    maxconn: int | None = None,
) -> str:  # fmt: skip
    """deploy/haproxy.cfg for this machine: listening on `port` of 127.0.0.1, with one
    server line per `servers` entry (name: port; the file's own server lines go), checks
    every `check_every` (300 ms: a stopped instance is noticed within a test's patience;
    None: the file's), `maxconn` per server when given (the instances' workers), and no
    privilege drop (user, group, chroot need root and Debian's directories)."""
    text = re.sub(r"^\s*(user|group|chroot) .*$", "", text, flags=re.M)
    text = re.sub(r"bind :80\b", f"bind 127.0.0.1:{port}", text)
    if check_every:
        text = re.sub(r"\binter \S+", f"inter {check_every}", text)
    if maxconn:
        text = re.sub(r"^(\s*default-server .*\bmaxconn )\d+", rf"\g<1>{maxconn}", text,
                      flags=re.M)  # fmt: skip
    text = re.sub(r"^\s*server \S+ \S+.*\n", "", text, flags=re.M)
    lines = "".join(f"    server {name} 127.0.0.1:{p}\n" for name, p in servers.items())
    return text.rstrip("\n") + "\n" + lines


class Answer:
    def __init__(self, status: int, headers, body: str):
        self.status, self.headers, self.body = status, headers, body

    @property
    def request_id(self) -> str:
        return self.headers["X-Request-ID"]


class Client:
    """A browser's HTTP in miniature: cookies kept, redirects not followed, a connection per
    request (so HAProxy balances each one)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Answer:  # fmt: skip
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, response.headers, text)

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields: dict | list) -> Answer:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def post_file(self, path: str, fields: dict, name: str, filename: str, data: bytes):
        boundary = secrets.token_hex(16)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            .encode()
            for key, value in fields.items()
        ]  # fmt: skip
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
