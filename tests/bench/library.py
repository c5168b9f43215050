"""The library's benchmark (issue 15, `--only library`): /library for a person with a
"Continue watching" row, and progress beacons through HTTP against gunicorn.

The data goes into the bench database of N videos in place, set-based and deterministic:
10 % of the videos (every tenth id) are published with a file key and a duration across 20
categories (one hero each), and U people (`--library-users`, viewers) each have progress on
20 of them, a quarter of it completed. A marker row (bench.library) records what was added;
a run with another U rebuilds the library part only.

/library is timed through the Flask test client like the other pages (median, p95, SQL
statements per request) and must show the first category's most viewed videos and the
person's most recent unfinished one, as computed here in SQL.

The beacons go through HTTP to gunicorn (sync workers, `--library-workers`, default two per
core and one) on a local port: 32 viewers (`--viewers`), each a signed-in person of its own
on a connection of its own, opens the watch pages of their own 20 videos (each gives its
player a beacon token, catalog/library/beacons.py) and posts beacons for them to the
page's beacon URL, so every one is an upsert of an existing row. Twice, `--beacon-seconds`
each: paced, at `--beacon-rate` per second in all (550: above the goal of 500, so that
the count of a 20 s window's edges cannot decide it; a viewer sends on a
schedule, latency counts from when the beacon was due, so a server that falls behind shows
it), and back to back (each viewer sends the next as soon as the last is answered: the
server's ceiling; there latency is only queueing, the viewers divided by the rate, so the
p95 goal is read on the paced run). Reported: beacons
accepted per second, latency median and p95, refusals, the CPU time per beacon of the
gunicorn workers and of the database's backends (what the machine's other work does not
inflate the way it does latency), and that the progress table still holds exactly U x 20
rows of these people afterwards.
"""

import http.client
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from flask_security import hash_password

from catalog import ROOT
from catalog.extensions import db
from tests.bench import database, measure
from tests.bench.database import MARKER_SCHEMA, log

CATEGORIES = 20
VIDEOS_PER_USER = 20
PUBLISHED_EVERY = 10  # every tenth video id: 10 % of the catalog
PASSWORD = "bench-library-password"
EMAIL = "library-{n}@bench.example.com"
GOALS = {"median_ms": 15.0, "p95_ms": 30.0, "statements": 5, "beacons_per_s": 500.0,
         "beacon_p95_ms": 25.0}  # fmt: skip


# -- data ------------------------------------------------------------------------------------


def ensure(server, built: dict, users: int) -> dict:
    """The library part of the bench database for `users` people; returns its record."""
    name = built["database"]
    with database.connect(server, name, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_SCHEMA}.library (users int NOT NULL, "
            "published int NOT NULL, progress_rows bigint NOT NULL, seconds float8 NOT NULL, "
            "built_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute(
            f"SELECT users, published, progress_rows, seconds FROM {MARKER_SCHEMA}.library "
            "ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    if row and row[0] == users:
        log(f"Reusing the library data: {row[1]:,} published videos, {row[2]:,} progress rows")
        with database.connect(server, name) as conn:
            _progress(conn, users, row[1])
            conn.commit()
        return {"users": row[0], "published": row[1], "progress_rows": row[2],
                "seconds": row[3], "reused": True}  # fmt: skip
    started = time.perf_counter()
    app = _app(built["url"])
    with app.app_context():
        password = hash_password(PASSWORD)  # one hash for every bench viewer
        db.engine.dispose()
    with database.connect(server, name) as conn:
        published = _load(conn, users, password)
        conn.commit()
    with database.connect(server, name, autocommit=True) as conn:
        for table in ("videos", "video_progress", "video_categories", "users"):
            conn.execute(f"VACUUM ANALYZE {table}")
        rows = conn.execute(
            "SELECT count(*) FROM video_progress p JOIN users u ON u.id = p.user_id "
            "WHERE u.email LIKE 'library-%%@bench.example.com'"
        ).fetchone()[0]
        seconds = time.perf_counter() - started
        conn.execute(
            f"INSERT INTO {MARKER_SCHEMA}.library (users, published, progress_rows, seconds) "
            "VALUES (%s, %s, %s, %s)",
            (users, published, rows, seconds),
        )
    log(f"Library data: {published:,} published videos, {rows:,} progress rows", started)
    return {"users": users, "published": published, "progress_rows": rows,
            "seconds": seconds, "reused": False}  # fmt: skip


def _load(conn, users: int, password: str) -> int:
    t0 = time.perf_counter()
    # The viewers stay from one load to the next (deleting a user touches the audit
    # trail's foreign key, which the app's role may not); their progress goes (_progress).
    conn.execute(
        "UPDATE videos SET published = false, is_hero = false, video_url = NULL "
        "WHERE published OR is_hero"
    )
    conn.execute(
        "INSERT INTO video_categories (name, slug, sort_order, is_active) "
        "SELECT 'Library ' || lpad(n::text, 2, '0'), 'bench-library-' || n, n, true "
        f"FROM generate_series(1, {CATEGORIES}) n ON CONFLICT (slug) DO NOTHING"
    )
    log("Library: categories", t0)
    t0 = time.perf_counter()
    # Published: every tenth video, spread over the categories by a hash of its id; the
    # duration from 1 to 11 minutes; the file key is a name (no file: the beacons and the
    # page never read it).
    conn.execute(
        "UPDATE videos v SET published = true, "
        "category_id = k.id, video_url = 'bench/' || v.video_id || '.mp4', "
        "duration_seconds = 60 + (abs(hashint4(v.id)::bigint) % 600) "
        "FROM video_categories k "
        f"WHERE v.id % {PUBLISHED_EVERY} = 0 "
        f"AND k.slug = 'bench-library-' || (1 + abs(hashint4(v.id + 7)::bigint) % {CATEGORIES})"
    )
    conn.execute(
        "UPDATE videos SET is_hero = true WHERE id IN (SELECT DISTINCT ON (category_id) id "
        "FROM videos WHERE published AND category_id IS NOT NULL "
        "ORDER BY category_id, views DESC NULLS LAST, id)"
    )
    (published,) = conn.execute("SELECT count(*) FROM videos WHERE published").fetchone()
    log(f"Library: {published:,} videos published", t0)
    t0 = time.perf_counter()
    conn.execute(
        "INSERT INTO users (email, password, active, fs_uniquifier) "
        "SELECT format('library-%%s@bench.example.com', n), %s, true, md5('library-' || n) "
        "FROM generate_series(1, %s) n ON CONFLICT (email) DO NOTHING",
        (password, users),
    )
    conn.execute(
        "INSERT INTO roles_users (user_id, role_id) SELECT u.id, r.id FROM users u, roles r "
        "WHERE u.email LIKE 'library-%%@bench.example.com' AND r.name = 'viewer' "
        "ON CONFLICT DO NOTHING"
    )
    log(f"Library: {users:,} viewers", t0)
    _progress(conn, users, published)
    return published


def _progress(conn, users: int, published: int) -> None:
    """The viewers' progress rows, as the bench starts from them (made again on reuse: the
    beacons of a run move positions, which later runs must not inherit)."""
    conn.execute(
        "DELETE FROM video_progress WHERE user_id IN "
        "(SELECT id FROM users WHERE email LIKE 'library-%%@bench.example.com')"
    )
    t0 = time.perf_counter()
    # Each person's 20 videos: 20 consecutive published videos from a start picked by a
    # hash of the person (distinct per person, so (user, video) is unique). A quarter of the
    # rows are completed; the rest are somewhere in the video, watched within 30 days.
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS library_published AS "
        "SELECT row_number() OVER (ORDER BY id) AS n, id, duration_seconds FROM videos "
        "WHERE published"
    )
    conn.execute("CREATE UNIQUE INDEX ON library_published (n)")
    conn.execute(
        "INSERT INTO video_progress (user_id, video_id, watched_seconds, duration_seconds, "
        "last_position, completed, created_at, updated_at) "
        "SELECT u.id, p.id, f.share * p.duration_seconds, p.duration_seconds, "
        "f.share * p.duration_seconds, f.share >= 0.9, "
        "now() - interval '30 days', now() - make_interval(secs => f.age) "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) AS un FROM users "
        "      WHERE email LIKE 'library-%%@bench.example.com' ORDER BY id LIMIT %s) u "
        "CROSS JOIN generate_series(0, %s) k "
        "JOIN library_published p ON p.n = 1 + ((hashint8(u.un) & 9223372036854775807) + k) %% %s "
        "CROSS JOIN LATERAL (SELECT CASE WHEN (u.un + k) %% 4 = 0 THEN 0.95 ELSE 0.05 "
        "  + 0.8 * (((hashint8(u.un * 31 + k) & 9223372036854775807) %% 1000) / 1000.0) "
        "  END AS share, "
        "  ((hashint8(u.un * 17 + k) & 9223372036854775807) %% (30 * 86400))::float8 AS age) f",
        (users, VIDEOS_PER_USER - 1, published),
    )
    log("Library: progress rows", t0)


def _app(url: str):
    from tests.bench.build import make_app

    return make_app(url)


# -- /library --------------------------------------------------------------------------------


def page_target(conn) -> tuple[measure.Target, str]:
    """/library for the first bench viewer, and what it must show: the first category's
    most viewed video, and the person's most recently watched unfinished one."""
    email = EMAIL.format(n=1)
    (first_video,) = conn.execute(
        "SELECT v.video_id FROM videos v JOIN video_categories k ON k.id = v.category_id "
        "WHERE v.published AND v.video_url IS NOT NULL AND k.is_active "
        "AND k.id = (SELECT k2.id FROM video_categories k2 WHERE k2.is_active AND EXISTS "
        "  (SELECT FROM videos v2 WHERE v2.category_id = k2.id AND v2.published "
        "   AND v2.video_url IS NOT NULL) ORDER BY k2.sort_order, k2.id LIMIT 1) "
        "ORDER BY v.views DESC NULLS LAST, v.id DESC LIMIT 1"
    ).fetchone()
    (latest,) = conn.execute(
        "SELECT v.video_id FROM video_progress p JOIN videos v ON v.id = p.video_id "
        "JOIN users u ON u.id = p.user_id WHERE u.email = %s AND NOT p.completed "
        "ORDER BY p.updated_at DESC, v.id DESC LIMIT 1",
        (email,),
    ).fetchone()
    target = measure.Target(
        "/library with Continue watching", "/library",
        [f'data-video-id="{first_video}"', f'data-video-id="{latest}"',
         'data-row="continue"'],
        f"{email}: the first row's top video and the latest unfinished one checked",
    )  # fmt: skip
    return target, email


def time_page(built: dict, target: measure.Target, email: str, args):
    """The page's timings, and the EXPLAIN ANALYZE of its last request's statements."""
    app = _app(built["url"])
    with app.app_context():
        engine = db.engine
    statements = measure.StatementLog(engine)
    client = app.test_client()
    try:
        _sign_in_client(client, email)
        result = measure.run(client, statements, target, warmup=args.warmup, requests=args.requests)
    finally:
        statements.close()
    plan = measure.explain(engine, result) if result.last_statements else ""
    engine.dispose()
    return result, plan


def _sign_in_client(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise RuntimeError(f"{email} could not sign in: HTTP {answer.status_code}")


# -- beacons through gunicorn ----------------------------------------------------------------


@dataclass
class Phase:
    """One stretch of beacons: paced at `rate` per second in all (0: back to back)."""

    name: str
    rate: float
    seconds: float = 0.0
    accepted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    times_ms: list[float] = field(default_factory=list)
    worker_cpu_ms: float = math.nan  # per beacon answered
    database_cpu_ms: float = math.nan

    @property
    def per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else math.nan

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else math.nan


@dataclass
class BeaconResult:
    viewers: int
    workers: int
    phases: list[Phase] = field(default_factory=list)
    rows_before: int = 0
    rows_after: int = 0
    expected_rows: int = 0
    error: str = ""


class Gunicorn:
    """gunicorn serving `app` (wsgi:app unless told) on a free local port, stopped by
    close()."""

    def __init__(self, url: str, workers: int, app: str = "wsgi:app"):
        self.port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.process = subprocess.Popen(  # noqa: S603  (our own venv's gunicorn, fixed arguments)
            [
                gunicorn, "--workers", str(workers), "--worker-class", "sync",
                "--bind", f"127.0.0.1:{self.port}", "--backlog", "256",
                "--log-level", "warning", "--chdir", str(ROOT), app,
            ],
            env=env,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                time.sleep(0.2)  # waiting for gunicorn to bind: not a test
        self.close()
        raise RuntimeError("gunicorn did not answer /health within 60 s")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Viewer:
    """One signed-in person on a keep-alive connection of their own."""

    def __init__(self, port: int, email: str, password: str = PASSWORD):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        page = self.request("GET", "/login")[1]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST", "/login", {"email": email, "password": password, "csrf_token": token}
        )
        if status != 302:
            raise RuntimeError(f"{email} could not sign in: HTTP {status}")
        # Each video's beacon token and URL, as its watch page gives them to its player.
        self.beacons: dict[str, tuple[str, str]] = {}

    def open(self, video_id: str) -> None:
        """Open the video's watch page, as a person does before their player reports."""
        status, page = self.request("GET", f"/library/{video_id}")
        if status != 200:
            raise RuntimeError(f"/library/{video_id} answered {status}")
        url = re.search(r'data-progress-url="([^"]+)"', page).group(1)
        token = re.search(r'data-progress-token="([^"]+)"', page).group(1)
        self.beacons[video_id] = (url, token)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def close(self) -> None:
        self.connection.close()


def beacons(server, built: dict, users: int, args) -> BeaconResult:
    """The viewers sign in to gunicorn, then post beacons for their own videos: paced at
    args.beacon_rate in all, then back to back, args.beacon_seconds each."""
    # gunicorn's own advice for sync workers: two per core and one more, so that a worker
    # waiting on PostgreSQL leaves the cores busy.
    workers = args.library_workers or 2 * (os.cpu_count() or 1) + 1
    result = BeaconResult(args.viewers, workers)
    viewers_n = min(args.viewers, users)
    with database.connect(server, built["database"], autocommit=True) as conn:
        plans = {}
        for n in range(1, viewers_n + 1):
            email = EMAIL.format(n=n)
            plans[email] = conn.execute(
                "SELECT v.video_id, p.duration_seconds FROM video_progress p "
                "JOIN videos v ON v.id = p.video_id JOIN users u ON u.id = p.user_id "
                "WHERE u.email = %s ORDER BY v.id",
                (email,),
            ).fetchall()
        result.rows_before = _bench_rows(conn)
    result.expected_rows = users * VIDEOS_PER_USER
    t0 = time.perf_counter()
    server_process = Gunicorn(built["url"], workers)
    log(f"gunicorn with {workers} sync workers on port {server_process.port}", t0)
    try:
        t0 = time.perf_counter()
        # Side by side: each sign-in verifies an Argon2 hash at production cost.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            viewers = list(pool.map(lambda email: Viewer(server_process.port, email), plans))
        log(f"{len(viewers)} viewers signed in through HTTP", t0)
        t0 = time.perf_counter()
        pairs = list(zip(viewers, plans.values(), strict=True))
        with ThreadPoolExecutor(max_workers=workers) as pool:  # a viewer's pages one by one
            list(pool.map(lambda pair: [pair[0].open(v) for v, _ in pair[1]], pairs))
        opened = sum(len(viewer.beacons) for viewer in viewers)
        log(f"{opened} watch pages opened (each gives its player a beacon token)", t0)
        for phase in (Phase("paced", args.beacon_rate), Phase("back to back", 0.0)):
            t0 = time.perf_counter()
            cpu = _cpu(server_process, server, built["database"])
            _run_phase(phase, viewers, list(plans.values()), args.beacon_seconds)
            used = _cpu(server_process, server, built["database"])
            answered = phase.accepted + sum(phase.refused.values())
            phase.worker_cpu_ms = 1000 * (used[0] - cpu[0]) / max(answered, 1)
            phase.database_cpu_ms = 1000 * (used[1] - cpu[1]) / max(answered, 1)
            result.phases.append(phase)
            log(
                f"Beacons {phase.name}: {phase.per_second:.0f}/s accepted, median "
                f"{phase.median:.1f} ms, p95 {phase.p95:.1f} ms, refused "
                f"{phase.refused or 'none'}; CPU per beacon: workers "
                f"{phase.worker_cpu_ms:.2f} ms, PostgreSQL {phase.database_cpu_ms:.2f} ms",
                t0,
            )
        for viewer in viewers:
            viewer.close()
    except Exception as exc:  # reported with the figures, not lost in a traceback
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        server_process.close()
    with database.connect(server, built["database"], autocommit=True) as conn:
        result.rows_after = _bench_rows(conn)
    log(
        f"Progress rows {result.rows_before:,} -> {result.rows_after:,} "
        f"(expected {result.expected_rows:,})"
    )
    return result


def _cpu(gunicorn: "Gunicorn", server, name: str) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn's workers and by the database's backends (the
    machine's other work is not in them, unlike wall-clock time)."""
    workers = [
        int(entry.name) for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == gunicorn.process.pid
    ]  # fmt: skip
    with database.connect(server, name, autocommit=True) as conn:
        backends = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )]  # fmt: skip
    return sum(map(database.cpu_seconds, workers)), sum(map(database.cpu_seconds, backends))


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _run_phase(phase: Phase, viewers: list, plans: list, seconds: float) -> None:
    """Every viewer posts beacons for its own videos for `seconds`: at rate / viewers per
    second each, on a schedule (a late beacon goes at once, so an overloaded server is
    measured, not hidden), or back to back when the rate is 0. Latency is timed from the
    moment a beacon was due, so waiting for a busy server counts (no coordinated omission)."""
    stop = threading.Event()
    start = threading.Barrier(len(viewers) + 1)
    lock = threading.Lock()
    interval = len(viewers) / phase.rate if phase.rate else 0.0

    def watch(number: int, viewer: Viewer, videos: list) -> None:
        times, refused, accepted, i = [], {}, 0, 0
        start.wait()
        # Viewers spread over the interval, not all at its start.
        due = time.perf_counter() + interval * number / len(viewers)
        while not stop.is_set():
            if interval:
                if stop.wait(max(0.0, due - time.perf_counter())):
                    break
            else:
                due = time.perf_counter()
            video_id, duration = videos[i % len(videos)]
            position = (i * 7.3) % (0.85 * duration)  # below 90 %: never completes
            url, token = viewer.beacons[video_id]
            form = {"token": token, "position": f"{position:.3f}", "played": "10.000"}
            status, _ = viewer.request("POST", url, form)
            elapsed = (time.perf_counter() - due) * 1000
            if status == 204:
                accepted += 1
                times.append(elapsed)
            else:
                refused[status] = refused.get(status, 0) + 1
            i += 1
            due += interval
        with lock:
            phase.accepted += accepted
            phase.times_ms.extend(times)
            for status, count in refused.items():
                phase.refused[status] = phase.refused.get(status, 0) + count

    threads = [
        threading.Thread(target=watch, args=(n, viewer, videos), daemon=True)
        for n, (viewer, videos) in enumerate(zip(viewers, plans, strict=True))
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began


def _bench_rows(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM video_progress p JOIN users u ON u.id = p.user_id "
        "WHERE u.email LIKE 'library-%%@bench.example.com'"
    ).fetchone()[0]


# -- the report ------------------------------------------------------------------------------


def render(videos: int, data: dict, page: measure.Result, beacon: BeaconResult,
           machine: tuple) -> str:  # fmt: skip
    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows_ok = beacon.rows_after == beacon.expected_rows == beacon.rows_before
    lines = [
        f"## The library (issue 15): {videos:,} videos, {data['users']:,} viewers",
        "",
        f"{data['published']:,} published videos across {CATEGORIES} categories; "
        f"{data['progress_rows']:,} progress rows ({VIDEOS_PER_USER} per viewer)"
        + (" (reused)" if data.get("reused") else f", loaded in {data['seconds']:.0f} s"),
        f"Machine: {machine[0]} cores, load {machine[1]:.2f} before and {machine[2]:.2f} after.",
        "",
        "| measure | result | goal | |",
        "|---|---|---|---|",
        f"| {page.target.name}: median | {page.median:.1f} ms | <= {GOALS['median_ms']:.0f} ms "
        f"| {verdict(page.median <= GOALS['median_ms'])} |",
        f"| {page.target.name}: p95 | {page.p95:.1f} ms | <= {GOALS['p95_ms']:.0f} ms "
        f"| {verdict(page.p95 <= GOALS['p95_ms'])} |",
        f"| {page.target.name}: SQL statements | {page.max_statements} | "
        f"<= {GOALS['statements']} | {verdict(page.max_statements <= GOALS['statements'])} |",
    ]
    for phase in beacon.phases:
        how = f"{phase.rate:.0f}/s offered" if phase.rate else "back to back"
        label = (
            f"beacons, {beacon.viewers} viewers {how}, gunicorn {beacon.workers} workers, "
            f"{phase.seconds:.0f} s"
        )
        lines += [
            f"| {label}: accepted per second | {phase.per_second:.0f} | "
            f">= {GOALS['beacons_per_s']:.0f} | "
            f"{verdict(phase.per_second >= GOALS['beacons_per_s'])} |",
            # Back to back, latency is the viewers divided by the rate: no goal of its own.
            f"| {label}: latency median / p95 | {phase.median:.1f} / {phase.p95:.1f} ms | "
            + (
                f"p95 <= {GOALS['beacon_p95_ms']:.0f} ms | "
                f"{verdict(phase.p95 <= GOALS['beacon_p95_ms'])} |"
                if phase.rate
                else "(queueing) | |"
            ),
            f"| {label}: CPU per beacon, gunicorn workers / PostgreSQL | "
            f"{phase.worker_cpu_ms:.2f} / {phase.database_cpu_ms:.2f} ms | | |",
        ]
    refused = {phase.name: phase.refused for phase in beacon.phases if phase.refused}
    lines += [
        f"| progress rows after the beacons | {beacon.rows_after:,} | "
        f"= {beacon.expected_rows:,} (viewers x {VIDEOS_PER_USER}) | {verdict(rows_ok)} |",
        "",
        f"Page SQL median {page.sql_median:.1f} ms. Beacons refused: {refused or 'none'}. "
        "Paced: each viewer sends on a schedule and latency counts from when a beacon was "
        "due; back to back: each sends its next as soon as the last is answered (the "
        "server's ceiling, where latency is queueing: viewers / rate).",
    ]
    if page.error:
        lines.append(f"PAGE FAILED: {page.error}")
    if beacon.error:
        lines.append(f"BEACONS FAILED: {beacon.error}")
    return "\n".join(lines) + "\n"


def run(server, args, built: dict) -> int:
    """Load (or reuse) the library data, time /library and the beacons, write the table to
    instance/bench/results-library-<N>.md; 1 when the page or the beacons failed."""
    data = ensure(server, built, args.library_users)
    with database.connect(server, built["database"], autocommit=True) as conn:
        target, email = page_target(conn)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    page, plan = time_page(built, target, email, args)
    log(
        f"{target.name}: median {page.median:.1f} ms, p95 {page.p95:.1f} ms, "
        f"{page.max_statements} statements" + (f" -- FAILED: {page.error}" if page.error else ""),
        t0,
    )
    beacon = beacons(server, built, args.library_users, args)
    machine = (os.cpu_count() or 0, load_before, os.getloadavg()[0])
    text = render(args.videos, data, page, beacon, machine)
    print()
    print(text)
    results_file = database.BENCH_DIR / f"results-library-{args.videos}.md"
    results_file.write_text(text)
    log(f"Wrote {database.relative(results_file)}")
    plan_file = database.BENCH_DIR / f"explain-library-{args.videos}.txt"
    plan_file.write_text(plan)
    log(f"Wrote {database.relative(plan_file)} (EXPLAIN ANALYZE of /library's SQL)")
    missed = page.median > GOALS["median_ms"] or page.p95 > GOALS["p95_ms"]
    if args.explain or page.error or missed:
        print(plan)
    return 1 if page.error or beacon.error else 0
