"""The throughput benchmark (issue 16, section 4; `--only throughput`): requests per second
and latency through HAProxy, measured by wrk, on the bench catalog of N videos.

The stack is deploy/'s: gunicorn with deploy/gunicorn.conf.py (2 workers per instance) behind
HAProxy with deploy/haproxy.cfg (templated for this machine as the cluster test does), once
with one instance and once with two. Beside Catalog runs the alternative a team would pick, a
Flask-Admin ModelView over the same videos table (tests/bench/admin_app.py), under the same
gunicorn settings behind its own HAProxy; the runs are interleaved (for each concurrency and
page: Catalog, then Flask-Admin), so that both meet the same load on this shared machine.

Pages: list page 1, a search, a video's detail page, and a static file (Catalog's, versioned:
the ceiling of the stack on this machine); and the list benchmark's hand-written floor
(tests/bench/reference.py: the same 50 rows from one raw SQL statement and a minimal template,
no sign-in), served by the same workers beside Catalog, so that the goal's distance can be
read against what a page of these rows costs at all on this machine. Each run: wrk for
`--throughput-seconds` (5 s) at concurrency 1, 8 and 32, with Catalog signed in as an editor
(the session cookie from one sign-in, carried by a wrk Lua script) and every request accepting
gzip and Brotli, as browsers do. Reported per run: requests per second, p50 and p99 latency,
errors (connection, read, write, timeout, non-2xx/3xx answers) and the CPU time of the web
processes per request (gunicorn's master and workers, those replaced meanwhile included;
PostgreSQL's is not); then the ratios the issue asks for: list page 1 at c32 / the static file
at c32, and Catalog / Flask-Admin per page. Goal: list page 1 at concurrency 32 at least 60 %
of the static file's requests per second, p99 at most 150 ms, no errors.
"""

import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from catalog import ROOT
from tests.bench import build, database, reference, words
from tests.bench.database import BENCH_DIR, log, relative
from tests.cluster.stack import Client, Process, free_port, haproxy_config, wait_for

BIN = Path(sys.executable).parent
CONCURRENCY = (1, 8, 32)
INSTANCES = (1, 2)
WORKERS_PER_INSTANCE = 2
GOAL_SHARE_OF_STATIC = 0.60
GOAL_P99_MS = 150.0
FLOOR = "hand-written list (floor)"
# Catalog with the reference pages beside it (one WSGI app: the same workers serve both).
CATALOG_APP = "tests.bench.reference:wsgi()"
START_TIMEOUT = 90.0
LUA = """
local cookie = os.getenv("WRK_COOKIE") or ""
if cookie ~= "" then wrk.headers["Cookie"] = cookie end
wrk.headers["Accept-Encoding"] = "gzip, br"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Run:
    app: str  # "Catalog" or "Flask-Admin"
    instances: int
    page: str
    concurrency: int
    per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    cpu_ms_per_request: float = 0.0
    requests: int = 0


class Stack:
    """`instances` gunicorn instances of one app behind an HAProxy of their own."""

    def __init__(self, name: str, app: str | None, url: str, instances: int, base: Path):
        self.name, self.base = name, base
        self.web: list[Process] = []
        servers = {}
        for n in range(1, instances + 1):
            port = free_port()
            servers[f"web{n}"] = port
            env = {
                **os.environ,
                "DATABASE_URL": url,
                # The bench users' passwords are hashed with the development salt; every other
                # setting is the production one (deploy/gunicorn.conf.py).
                "CATALOG_ENV": "development",
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": str(WORKERS_PER_INSTANCE),
                "GUNICORN_PROC_NAME": f"bench-{name}-{n}",
                "PYTHONUNBUFFERED": "1",
            }
            command = [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy/gunicorn.conf.py")]
            if app:
                command.append(app)
            log_file = base / f"{name}-{instances}-web{n}.log"
            self.web.append(Process(f"{name} web{n}", command, log_file, env=env).start())
        self.port = free_port()
        config = base / f"{name}-{instances}-haproxy.cfg"
        text = (ROOT / "deploy" / "haproxy.cfg").read_text()
        # The file's check interval; maxconn for these instances' workers (see haproxy.cfg).
        config.write_text(haproxy_config(text, self.port, servers, check_every=None,
                                         maxconn=2 * WORKERS_PER_INSTANCE))  # fmt: skip
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.haproxy = Process(f"{name} haproxy", [haproxy, "-db", "-f", str(config)],
                               base / f"{name}-{instances}-haproxy.log").start()  # fmt: skip
        self.servers = servers

    def wait_ready(self) -> None:
        for process, port in zip(self.web, self.servers.values(), strict=True):
            wait_for(lambda p=port, pr=process: _ready(p) or _died(pr), START_TIMEOUT,
                     f"{process.name} to answer")  # fmt: skip
        # HAProxy checks every 300 ms; two good checks put a server in.
        wait_for(lambda: _ready(self.port) or _died(self.haproxy), START_TIMEOUT,
                 f"{self.name}'s HAProxy to answer")  # fmt: skip

    def cpu_seconds(self) -> float:
        return sum(_group_cpu(process.popen.pid) for process in self.web)

    def close(self) -> None:
        for process in (*self.web, self.haproxy):
            process.signal(signal.SIGTERM)
        for process in (*self.web, self.haproxy):
            process.stop()


def _ready(port: int) -> bool:
    try:
        return Client(port).get("/health/ready").status == 200
    except OSError:
        return False


def _died(process: Process) -> bool:
    if not process.running:
        raise RuntimeError(f"{process.name} exited:\n{process.output()[-3000:]}")
    return False


TICKS = os.sysconf("SC_CLK_TCK")


def _group_cpu(pgid: int) -> float:
    """CPU seconds of a process group: its members' user and system time, and the time of
    the children its leader reaped (gunicorn workers replaced after max_requests)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid pgrp ... utime(12) stime(13) cutime(14) cstime(15).
        if int(fields[2]) != pgid:
            continue
        total += int(fields[11]) + int(fields[12])
        if int(entry.name) == pgid:
            total += int(fields[13]) + int(fields[14])
    return total / TICKS


def wrk(port: int, path: str, concurrency: int, seconds: float, cookie: str, script: Path):
    """One wrk run; its summary (the Lua script's JSON line)."""
    command = [
        shutil.which("wrk") or "wrk", "-t", str(min(2, concurrency)), "-c", str(concurrency),
        "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(script),
        f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    out = Process("wrk", command, script.with_suffix(".out"), env={**os.environ,
                  "WRK_COOKIE": cookie})  # fmt: skip
    out.log.write_text("")
    out.start()
    out.popen.wait(timeout=seconds + 60)
    lines = [line for line in out.output().splitlines() if line.startswith('{"requests"')]
    if not lines:
        raise RuntimeError(f"wrk printed no summary:\n{out.output()[-2000:]}")
    return json.loads(lines[-1])


# Queries of the bench database still running, other than the one asking.
BUSY = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
    "AND pid <> pg_backend_pid() AND datname = current_database()"
)


def drained(server, database_name: str) -> None:
    """Wait until no query of the bench database is running: when wrk stops, the requests
    queued behind a slow page (Flask-Admin's search takes seconds) are still being served,
    and would otherwise run into the next measurement."""
    with database.connect(server, database_name, autocommit=True) as conn:
        wait_for(lambda: conn.execute(BUSY).fetchone()[0] == 0, 120, "the last run's queries")


def measure(stack: Stack, run: Run, path: str, seconds: float, cookie: str, script: Path):
    cpu_before = stack.cpu_seconds()
    summary = wrk(stack.port, path, run.concurrency, seconds, cookie, script)
    cpu = stack.cpu_seconds() - cpu_before
    run.requests = summary["requests"]
    run.per_second = summary["requests"] / (summary["duration_us"] / 1e6)
    run.p50_ms = summary["p50_us"] / 1000
    run.p99_ms = summary["p99_us"] / 1000
    run.errors = sum(summary[k] for k in ("connect", "read", "write", "status", "timeout"))
    run.cpu_ms_per_request = 1000 * cpu / summary["requests"] if summary["requests"] else 0.0
    return run


def sign_in(port: int) -> str:
    """The Cookie header of an editor signed in through HAProxy."""
    client = Client(port)
    page = client.get("/login").body
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", {"email": build.LOGIN_EMAIL, "password": build.PASSWORD, "csrf_token": token}
    )
    if answer.status != 302:
        raise RuntimeError(f"The bench editor could not sign in: HTTP {answer.status}")
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def pages(server, built: dict) -> tuple[dict, dict, str]:
    """The paths of each page for Catalog and for Flask-Admin, and the newest video's id
    (which list page 1 of both must show)."""
    with database.connect(server, built["database"], autocommit=True) as conn:
        row_id, video_id = conn.execute(
            "SELECT id, video_id FROM videos WHERE NOT hidden ORDER BY id DESC LIMIT 1"
        ).fetchone()
    from catalog import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": built["url"]})
    with app.test_request_context():
        from flask import url_for

        static = url_for("static", filename="js/app.js")
    word = words.SEARCH_WORD
    catalog = {
        "list page 1": "/videos",
        f"search q={word}": f"/videos?q={word}",
        "video detail": f"/videos/{video_id}",
        "static file": static,
        FLOOR: f"{reference.PREFIX}/videos",
    }
    admin = {
        "list page 1": "/admin/video/",
        f"search q={word}": f"/admin/video/?search={word}",
        "video detail": f"/admin/video/details/?id={row_id}",
    }
    return catalog, admin, video_id


def run(server, args, built: dict) -> int:
    seconds = args.throughput_seconds
    catalog_pages, admin_pages, newest = pages(server, built)
    runs: list[Run] = []
    base = Path(tempfile.mkdtemp(prefix="catalog-throughput-"))
    script = base / "session.lua"
    script.write_text(LUA)
    load_before = os.getloadavg()[0]
    try:
        for instances in INSTANCES:
            t0 = time.perf_counter()
            catalog = Stack("catalog", CATALOG_APP, built["url"], instances, base)
            admin = Stack("admin", "tests.bench.admin_app:app", built["url"], instances, base)
            try:
                catalog.wait_ready()
                admin.wait_ready()
                log(f"{instances} instance(s) of each, {WORKERS_PER_INSTANCE} workers each", t0)
                cookie = sign_in(catalog.port)
                _check(catalog.port, catalog_pages["list page 1"], cookie, newest)
                _check(catalog.port, catalog_pages[FLOOR], "", newest)
                _check(admin.port, admin_pages["list page 1"], "", newest)
                for path in (*catalog_pages.values(), *admin_pages.values()):
                    # Warm-up, untimed: every worker's first requests fill its caches.
                    stack = catalog if path in catalog_pages.values() else admin
                    wrk(stack.port, path, 4, 1, cookie if stack is catalog else "", script)
                for concurrency in CONCURRENCY:
                    for page, path in catalog_pages.items():
                        drained(server, built["database"])
                        t0 = time.perf_counter()
                        done = measure(catalog, Run("Catalog", instances, page, concurrency),
                                       path, seconds, cookie, script)  # fmt: skip
                        runs.append(done)
                        _log_run(done, t0)
                        if page in admin_pages:
                            drained(server, built["database"])
                            t0 = time.perf_counter()
                            done = measure(admin, Run("Flask-Admin", instances, page, concurrency),
                                           admin_pages[page], seconds, "", script)  # fmt: skip
                            runs.append(done)
                            _log_run(done, t0)
            finally:
                catalog.close()
                admin.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    machine = (os.cpu_count() or 0, load_before, os.getloadavg()[0])
    text = render(runs, args.videos, seconds, machine)
    print()
    print(text)
    out = BENCH_DIR / f"throughput-{args.videos}.md"
    out.write_text(text)
    log(f"Wrote {relative(out)}")
    return 0 if not misses(runs) else 1


def _check(port: int, path: str, cookie: str, newest: str) -> None:
    client = Client(port)
    answer = client.request("GET", path, headers={"Cookie": cookie} if cookie else None)
    if answer.status != 200 or newest not in answer.body:
        raise RuntimeError(f"{path} does not show the newest video: HTTP {answer.status}")


def _log_run(run: Run, t0: float) -> None:
    log(
        f"{run.app} x{run.instances} {run.page} c{run.concurrency}: {run.per_second:.0f}/s, "
        f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms, {run.errors} errors, "
        f"{run.cpu_ms_per_request:.1f} ms CPU/request",
        t0,
    )


def _find(runs: list[Run], app: str, instances: int, page: str, concurrency: int) -> Run | None:
    for run in runs:
        if (run.app, run.instances, run.page, run.concurrency) == (
            app, instances, page, concurrency,
        ):  # fmt: skip
            return run
    return None


def misses(runs: list[Run]) -> list[str]:
    """What misses the goal: list page 1 at c32 (each instance count) against the static
    file's rate, its p99, errors anywhere in Catalog's runs."""
    found = []
    for instances in INSTANCES:
        listing = _find(runs, "Catalog", instances, "list page 1", 32)
        static = _find(runs, "Catalog", instances, "static file", 32)
        if listing is None or static is None:
            continue
        share = listing.per_second / static.per_second if static.per_second else 0.0
        if share < GOAL_SHARE_OF_STATIC:
            found.append(f"x{instances}: list page 1 at c32 is {share:.0%} of the static file")
        if listing.p99_ms > GOAL_P99_MS:
            found.append(f"x{instances}: list page 1 at c32 p99 {listing.p99_ms:.0f} ms")
    found += [
        f"{r.app} x{r.instances} {r.page} c{r.concurrency}: {r.errors} errors"
        for r in runs
        if r.errors and r.app == "Catalog"
    ]
    return found


def render(runs: list[Run], videos: int, seconds: float, machine) -> str:
    cores, load_before, load_after = machine
    lines = [
        f"# Throughput through HAProxy: {videos:,} videos",
        "",
        f"wrk, {seconds:g} s a run; gunicorn {WORKERS_PER_INSTANCE} sync workers per instance "
        f"(deploy/gunicorn.conf.py), HAProxy round robin (deploy/haproxy.cfg); Catalog signed "
        f"in as an editor; Accept-Encoding gzip, br. Machine: {cores} cores, load "
        f"{load_before:.1f} before, {load_after:.1f} after. CPU: the web processes' time per "
        "request (PostgreSQL's not included).",
        "",
        "| app | instances | page | c | req/s | p50 ms | p99 ms | errors | CPU ms/req |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.app} | {run.instances} | {run.page} | {run.concurrency} | "
            f"{run.per_second:,.0f} | {run.p50_ms:.1f} | {run.p99_ms:.1f} | {run.errors} | "
            f"{run.cpu_ms_per_request:.1f} |"
        )
    lines += ["", "## Ratios", ""]
    for instances in INSTANCES:
        listing = _find(runs, "Catalog", instances, "list page 1", 32)
        static = _find(runs, "Catalog", instances, "static file", 32)
        floor = _find(runs, "Catalog", instances, FLOOR, 32)
        if listing and static and static.per_second:
            lines.append(
                f"- {instances} instance(s): list page 1 c32 / static file c32 = "
                f"{listing.per_second / static.per_second:.0%} (goal >= "
                f"{GOAL_SHARE_OF_STATIC:.0%}); list p99 {listing.p99_ms:.0f} ms (goal <= "
                f"{GOAL_P99_MS:.0f} ms)"
            )
            if floor:
                lines.append(
                    f"- {instances} instance(s): the hand-written floor c32 / static file c32 = "
                    f"{floor.per_second / static.per_second:.0%}; list page 1 / floor = "
                    f"{listing.per_second / floor.per_second:.0%}"
                )
    shares = []
    for run in runs:
        other = _find(runs, "Flask-Admin", run.instances, run.page, run.concurrency)
        if run.app == "Catalog" and other and other.per_second:
            share = run.per_second / other.per_second
            shares.append(share)
            lines.append(
                f"- Catalog / Flask-Admin, {run.page}, x{run.instances} c{run.concurrency}: "
                f"{share:.2f} (req/s {run.per_second:,.0f} / {other.per_second:,.0f}; CPU/req "
                f"{run.cpu_ms_per_request:.1f} / {other.cpu_ms_per_request:.1f} ms)"
            )
    if shares:
        lines.append(
            f"- Catalog / Flask-Admin, median over the runs: {statistics.median(shares):.2f}"
        )
    problems = misses(runs)
    lines += ["", "## Goal", ""]
    lines += [f"- MISS: {problem}" for problem in problems] or ["- met"]
    return "\n".join(lines) + "\n"
