"""A production-shaped cluster on this machine, started from the files in deploy/: one
PostgreSQL (a LocalPostgres of its own, since a test restarts it), PgBouncer in transaction
mode in front of it, two gunicorn instances (deploy/gunicorn.conf.py) through PgBouncer, HAProxy
(deploy/haproxy.cfg) in front of them, and two job workers connected to PostgreSQL directly.

The deploy files are used as they are, with only what differs on this machine replaced at
start: addresses, ports and paths; HAProxy's health-check interval (2 s there, 300 ms here,
so that a stopped instance is noticed within the test's patience); and HAProxy's privilege
drop (user, group, chroot), which needs root and its Debian directories.

Every process runs in a process group of its own and is killed, group and all, when the
module ends, whatever happened; its output is in the test's temporary directory and printed
when a test fails.
"""

import configparser
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import flask_migrate
import pytest

from catalog import ROOT, create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres
from tests.cluster.stack import Client, Process, free_port, haproxy_config, wait_for
from tests.conftest import FAST_SERVER, app_config
from tests.jobs.conftest import JOB_SETTINGS

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
PASSWORD = secrets.token_urlsafe(16)  # the app role's, known to PgBouncer's userlist only
START_TIMEOUT = 60  # seconds for a process to answer (two cores, shared)


class Cluster:
    """The processes, their addresses, and what the tests need to reach them."""

    def __init__(self, base: Path):
        self.base = base
        self.processes: dict[str, Process] = {}
        self.postgres: LocalPostgres | None = None
        self.reports = base / "reports"
        self.die_marker = base / "a-worker-died"
        self.ports = {name: free_port() for name in ("pgbouncer", "web1", "web2", "haproxy")}

    # -- addresses --------------------------------------------------------------------------
    @property
    def direct_url(self) -> str:
        return self.postgres.url("catalog")

    @property
    def pooled_url(self) -> str:
        return (
            f"postgresql+psycopg://catalog:{PASSWORD}@127.0.0.1:{self.ports['pgbouncer']}/catalog"
        )

    # The app's production secrets, shared by every process (and the seeding app: passwords
    # are peppered with the salt).
    SECRETS = {
        "SECRET_KEY": "cluster-secret-key-" + "k" * 20,
        "SECURITY_PASSWORD_SALT": "cluster-password-salt-" + "s" * 20,
        "SECURITY_TOTP_SECRET": "cluster-totp-secret-" + "t" * 30,
    }

    def secrets_env(self) -> dict:
        return {
            **os.environ,
            **self.SECRETS,
            "CATALOG_ENV": "production",
            "REPORTS_DIR": str(self.reports),
            "AUDIT_CHECKPOINT_DIR": str(self.base / "checkpoints"),
            "AUDIT_CHECKPOINT_CRON": "",
            "NOTION_SYNC_CRON": "",
            "PYTHONUNBUFFERED": "1",
        }

    # -- starting -----------------------------------------------------------------------------
    def start_postgres(self) -> None:
        self.postgres = LocalPostgres(self.base / "pg", settings=FAST_SERVER)
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database("catalog")
        secrets = {key: value for key, value in self.SECRETS.items() if key.startswith("SEC")}
        app = create_app({**app_config(self.direct_url), **secrets})
        with app.app_context():
            flask_migrate.upgrade()  # `make migrate`, as the schema's owner
            db.engine.dispose()
        self.seed_app = app

    def start_pgbouncer(self) -> None:
        directory = self.base / "pgbouncer"
        directory.mkdir()
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str
        parser.read_string((DEPLOY / "pgbouncer.ini").read_text())
        database = parser["databases"]["catalog"]
        database = re.sub(r"host=\S+", f"host={self.postgres.socket_dir}", database)
        parser["databases"]["catalog"] = re.sub(r"port=\S+", "port=5432", database)
        settings = parser["pgbouncer"]
        settings["listen_addr"] = "127.0.0.1"
        settings["listen_port"] = str(self.ports["pgbouncer"])
        settings["unix_socket_dir"] = ""
        settings["auth_file"] = str(directory / "userlist.txt")
        settings["logfile"] = ""
        settings["pidfile"] = ""
        with (directory / "pgbouncer.ini").open("w") as out:
            parser.write(out)
        # The userlist a deployment generates from pg_authid: here a plain password, which
        # PgBouncer accepts for SCRAM; it reaches PostgreSQL over its socket (trust).
        (directory / "userlist.txt").write_text(f'"catalog" "{PASSWORD}"\n')
        user = self.postgres.owner
        if user:
            for path in (directory, *directory.iterdir()):
                shutil.chown(path, user)
        pgbouncer = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        process = Process(
            "pgbouncer", [pgbouncer, str(directory / "pgbouncer.ini")],
            self.base / "pgbouncer.log", user=user,
        ).start()  # fmt: skip
        self.processes["pgbouncer"] = process
        wait_for(lambda: self._accepts(self.ports["pgbouncer"]) or self._died(process),
                 START_TIMEOUT, "PgBouncer to listen")  # fmt: skip

    def web_process(self, name: str) -> Process:
        env = {
            **self.secrets_env(),
            "DATABASE_URL": self.pooled_url,
            "DATABASE_POOLER": "transaction",
            "TRUSTED_PROXIES": "1",
            "GUNICORN_BIND": f"127.0.0.1:{self.ports[name]}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_PROC_NAME": f"catalog-{name}",
        }
        command = [str(BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py")]
        return Process(name, command, self.base / f"{name}.log", env=env)

    def start_web(self, name: str) -> None:
        process = self.processes[name] = self.web_process(name).start()
        wait_for(lambda: self.ready(name) or self._died(process), START_TIMEOUT,
                 f"{name} to be ready")  # fmt: skip

    def start_haproxy(self) -> None:
        servers = {name: self.ports[name] for name in ("web1", "web2")}
        text = haproxy_config((DEPLOY / "haproxy.cfg").read_text(), self.ports["haproxy"], servers)
        config = self.base / "haproxy.cfg"
        config.write_text(text)
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        process = Process("haproxy", [haproxy, "-db", "-f", str(config)],
                          self.base / "haproxy.log").start()  # fmt: skip
        self.processes["haproxy"] = process
        wait_for(lambda: self._both_up() or self._died(process), START_TIMEOUT,
                 "HAProxy to see both instances up")  # fmt: skip

    def start_worker(self, name: str) -> None:
        env = {
            **self.secrets_env(), **JOB_SETTINGS,
            "DATABASE_URL": self.direct_url,  # LISTEN/NOTIFY: not through the pooler
            "CLUSTER_DIE_ONCE": str(self.die_marker),
        }  # fmt: skip
        command = [str(BIN / "flask"), "--app", "tests.cluster.worker_app", "catalog", "worker"]
        self.processes[name] = Process(name, command, self.base / f"{name}.log", env=env).start()

    def _accepts(self, port: int) -> bool:
        import socket

        with socket.socket() as probe:
            probe.settimeout(1)
            return probe.connect_ex(("127.0.0.1", port)) == 0

    def _died(self, process: Process):
        if not process.running:
            raise RuntimeError(f"{process.name} exited:\n{process.output()[-3000:]}")
        return False

    def _both_up(self) -> bool:
        """Each instance has served a request sent through HAProxy."""
        served = set()
        for _ in range(4):
            try:
                answer = Client(self.ports["haproxy"]).get("/health/live")
            except OSError:
                return False
            if answer.status != 200:
                return False
            served.add(self.served_by(answer.request_id))
        return served == {"web1", "web2"}

    # -- looking -------------------------------------------------------------------------------
    def ready(self, name: str) -> bool:
        try:
            return Client(self.ports[name]).get("/health/ready").status == 200
        except OSError:
            return False

    def access_log(self, name: str) -> list[dict]:
        """The instance's JSON access log lines."""
        lines = self.processes[name].output().splitlines()
        return [json.loads(line) for line in lines if line.startswith('{"time"')]

    def served_by(self, request_id: str, timeout: float = 5) -> str:
        """Which instance logged the request (the log line follows the answer closely)."""

        def find():
            for name in ("web1", "web2"):
                if name in self.processes and any(
                    line["request_id"] == request_id for line in self.access_log(name)
                ):
                    return name
            return None

        return wait_for(find, timeout, f"request {request_id} in an access log")

    def dump(self) -> None:
        for process in self.processes.values():
            print(f"---- {process.name} ({process.log}) ----")
            print(process.output()[-5000:])
        if self.postgres:
            print("---- postgres ----")
            print(self.postgres.log_file.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        # Killed, not asked to stop: the cluster's directory is deleted next, so there is
        # nothing a graceful stop would save, and it took seconds (gunicorn and the workers
        # finishing up) at the end of every run. The tests' own stops are graceful or not as
        # each test says.
        for process in self.processes.values():
            if process.popen is not None:
                with contextlib.suppress(ProcessLookupError):  # the whole group, gone or not
                    os.killpg(process.popen.pid, signal.SIGKILL)
        for process in self.processes.values():
            if process.popen is not None:
                process.popen.wait()
        if self.postgres:
            self.postgres.stop()


@pytest.fixture(scope="module")
def cluster():
    base = Path(tempfile.mkdtemp(prefix="catalog-cluster-"))
    os.chmod(base, 0o755)  # noqa: S103  (PostgreSQL and PgBouncer may run as another user)
    running = Cluster(base)
    running.reports.mkdir()
    try:
        # The instances boot side by side (each takes seconds to import the app) while
        # PostgreSQL is made and migrated: they reach it only when asked whether they are ready.
        for name in ("web1", "web2"):
            running.processes[name] = running.web_process(name).start()
        running.start_postgres()
        running.start_pgbouncer()
        for name in ("worker1", "worker2"):
            running.start_worker(name)
        for name in ("web1", "web2"):
            process = running.processes[name]
            wait_for(lambda n=name, p=process: running.ready(n) or running._died(p),
                     START_TIMEOUT, f"{name} to be ready")  # fmt: skip
        running.start_haproxy()
        yield running
    except BaseException:
        running.dump()
        raise
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def logs_on_failure(cluster, request):
    """The processes' output, printed when the test fails."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        cluster.dump()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call":
        item.rep_call = report
    return report
