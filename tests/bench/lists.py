"""The list pages through HTTP (issue 17, `--only lists`): Catalog's video list scenarios, the
channel list and /audit against gunicorn, each interleaved with a hand-written reference
page (tests/bench/reference.py) served by the same gunicorn workers.

Per scenario: median and p95 of both through HTTP and their ratio, the application's CPU
per request for both (a response header the bench middleware adds) and its ratio, HTML
bytes, and from an instrumented pass over the Flask test client the SQL statements per
request and where a request's time goes: SQL (outside the user load), template (its own
Python, SQL inside counted as SQL), user load (Flask-Security's loader, its SQL included)
and the rest (dispatch, views, forms, ORM rows). Absolute times on a busy machine are
noise; the ratios, measured in the same interleaved run, are what to read.
"""

import math
import os
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import before_render_template, template_rendered
from sqlalchemy import event

from catalog.extensions import db
from catalog.web.pagination import encode_cursor
from tests.bench import build, database, library, measure, reference, words
from tests.bench.database import log

PAGE_SIZE = 50
DEEP_PAGE = 10_000
WORKERS = 2  # the issue's `gunicorn -w 2`, until deploy/gunicorn.conf.py says otherwise
GOALS = {"ratio": 1.5, "median_ms": 10.0, "p95_ms": 20.0, "statements": 3, "html_kb": 30.0}
VISIBLE = measure.VISIBLE


@dataclass
class Scenario:
    name: str
    path: str  # Catalog's
    reference: str  # the reference page's, under reference.PREFIX
    expected: list[str]  # what both pages must show (the first and last rows' ids)
    auditor: bool = False  # /audit: signed in as the auditor
    video_list: bool = True  # the HTML size goal is the video list's
    times: dict[str, list[float]] = field(default_factory=lambda: {"app": [], "ref": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"app": [], "ref": []})
    size: dict[str, int] = field(default_factory=lambda: {"app": 0, "ref": 0})
    statements: int = 0
    breakdown: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def median(self, kind: str) -> float:
        return statistics.median(self.times[kind]) if self.times[kind] else math.nan

    def p95(self, kind: str) -> float:
        ordered = sorted(self.times[kind])
        return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else math.nan

    def cpu_median(self, kind: str) -> float:
        return statistics.median(self.cpu[kind]) if self.cpu[kind] else math.nan

    @property
    def ratio(self) -> float:
        return self.median("app") / self.median("ref")

    @property
    def cpu_ratio(self) -> float:
        return self.cpu_median("app") / self.cpu_median("ref")

    def misses(self) -> list[str]:
        if self.error:
            return [f"FAIL: {self.error}"]
        found = []
        if self.ratio > GOALS["ratio"]:
            found.append(f"ratio > {GOALS['ratio']}")
        if self.video_list:
            if self.median("app") > GOALS["median_ms"]:
                found.append(f"median > {GOALS['median_ms']:g} ms")
            if self.p95("app") > GOALS["p95_ms"]:
                found.append(f"p95 > {GOALS['p95_ms']:g} ms")
            if self.statements > GOALS["statements"]:
                found.append(f"> {GOALS['statements']} statements")
            if self.size["app"] > GOALS["html_kb"] * 1024:
                found.append(f"HTML > {GOALS['html_kb']:g} kB")
        return found


def _ids(conn, where: str, order: str, params: tuple = ()) -> list[str]:
    return measure.video_ids(conn, where, order, params, size=PAGE_SIZE)


def scenarios(conn, biggest_channel: int) -> list[Scenario]:
    """The issue's five list scenarios, the channel list and /audit, each with the rows it
    must show, computed here in SQL."""
    size = {"size": PAGE_SIZE}
    visible = conn.execute(f"SELECT count(*) FROM videos WHERE {VISIBLE}").fetchone()[0]
    deep = max(2, min(DEEP_PAGE, visible // PAGE_SIZE))
    (after,) = conn.execute(
        f"SELECT id FROM videos WHERE {VISIBLE} ORDER BY id DESC OFFSET %s LIMIT 1",
        ((deep - 1) * PAGE_SIZE - 1,),
    ).fetchone()
    word, newest = words.SEARCH_WORD, "id DESC"
    by_views = "coalesce(views, -1) DESC, id DESC"
    (channel,) = conn.execute(
        "SELECT c.name FROM channels c JOIN channel_stats s ON s.channel_id = c.id "
        "WHERE NOT c.hidden ORDER BY lower(c.name), c.id LIMIT 1"
    ).fetchone()
    (audit_key,) = conn.execute(
        "SELECT coalesce(entity_key, '') FROM metadata_syncs "
        "WHERE batch_id IS NULL OR batch_size IS NOT NULL ORDER BY sync_time DESC, id DESC LIMIT 1"
    ).fetchone()

    def both(args: dict, ref: dict) -> tuple[str, str]:
        return (
            "/videos?" + urlencode({**size, **args}),
            f"{reference.PREFIX}/videos?" + urlencode(ref),
        )

    return [
        Scenario("page 1", *both({}, {}), _ids(conn, "true", newest)),
        Scenario(
            f"page {deep:,} by cursor",
            *both({"after": encode_cursor(after, after)}, {"after": after}),
            _ids(conn, "id < %s", newest, (after,)),
        ),
        Scenario(
            f"search q={word}",
            *both({"q": word}, {"q": word}),
            _ids(conn, "search_text LIKE %s", newest, (f"%{word}%",)),
        ),
        Scenario(
            f"channel {biggest_channel}",
            *both({"channel": biggest_channel}, {"channel": biggest_channel}),
            _ids(conn, "channel_id = %s", newest, (biggest_channel,)),
        ),
        Scenario(
            "sort by views",
            *both({"sort": "views", "dir": "desc"}, {"sort": "views"}),
            _ids(conn, "true", by_views),
        ),
        Scenario(
            "/channels",
            "/channels?size=50",
            f"{reference.PREFIX}/channels",
            [channel],
            video_list=False,
        ),
        Scenario(
            "/audit",
            "/audit",
            f"{reference.PREFIX}/audit",
            [audit_key] if audit_key else [],
            auditor=True,
            video_list=False,
        ),
    ]


# -- through HTTP ----------------------------------------------------------------------------


def _fetch(viewer: library.Viewer, path: str) -> tuple[int, bytes, float, float]:
    """(status, body, wall ms, application CPU ms) of one GET on the viewer's connection."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in viewer.cookies.items())}
    started = time.perf_counter()
    viewer.connection.request("GET", path, headers=headers)
    response = viewer.connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    cpu = int(response.headers.get(reference.CPU_HEADER, "0")) / 1000
    return response.status, body, elapsed, cpu


def _check(scenario: Scenario, kind: str, status: int, body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    missing = [value for value in scenario.expected if value not in text]
    if status != 200:
        scenario.error = f"{kind}: HTTP {status}"
    elif missing:
        scenario.error = f"{kind} page lacks {missing}"
    scenario.size[kind] = len(body)


def through_http(built: dict, targets: list[Scenario], *, requests: int, warmup: int) -> int:
    """Interleave each scenario's Catalog and reference requests (their order alternating
    round by round) over keep-alive connections to gunicorn; returns the workers."""
    t0 = time.perf_counter()
    server = library.Gunicorn(built["url"], WORKERS, app="tests.bench.reference:wsgi()")
    log(f"gunicorn with {WORKERS} sync workers on port {server.port}", t0)
    try:
        editor = library.Viewer(server.port, build.LOGIN_EMAIL, build.PASSWORD)
        auditor = library.Viewer(server.port, build.AUDITOR, build.PASSWORD)
        for scenario in targets:
            viewer = auditor if scenario.auditor else editor
            for kind, path in (("app", scenario.path), ("ref", scenario.reference)):
                status, body, _, _ = _fetch(viewer, path)
                _check(scenario, kind, status, body)
        t0 = time.perf_counter()
        for round_ in range(warmup + requests):
            for scenario in targets:
                viewer = auditor if scenario.auditor else editor
                pair = [("app", scenario.path), ("ref", scenario.reference)]
                for kind, path in pair if round_ % 2 else reversed(pair):
                    _, _, elapsed, cpu = _fetch(viewer, path)
                    if round_ >= warmup:
                        scenario.times[kind].append(elapsed)
                        scenario.cpu[kind].append(cpu)
        log(f"{requests} interleaved rounds of {len(targets)} scenarios through HTTP", t0)
        editor.close()
        auditor.close()
    finally:
        server.close()
    return WORKERS


# -- where the time goes: the test client, instrumented ---------------------------------------


class Breakdown:
    """Times one request's SQL, template rendering and user load (see the module's note)."""

    def __init__(self, app):
        self.app = app
        with app.app_context():
            self.engine = db.engine
        self.reset()
        self.rendering: list[float] = []
        self.sql_started: list[float] = []
        self.in_user = False
        event.listen(self.engine, "before_cursor_execute", self._sql_before)
        event.listen(self.engine, "after_cursor_execute", self._sql_after)
        before_render_template.connect(self._render_before, app)
        template_rendered.connect(self._render_after, app)
        manager = app.login_manager
        loader = manager._user_callback

        def timed_loader(user_id):
            started = time.perf_counter()
            self.in_user = True
            try:
                return loader(user_id)
            finally:
                self.in_user = False
                self.parts["user"] += time.perf_counter() - started

        manager._user_callback = timed_loader

    def reset(self) -> None:
        self.parts = {"sql": 0.0, "template": 0.0, "user": 0.0}
        self.statements = 0
        self.sql_in_render = 0.0

    def _sql_before(self, *args, **kwargs) -> None:
        self.sql_started.append(time.perf_counter())

    def _sql_after(self, *args, **kwargs) -> None:
        elapsed = time.perf_counter() - self.sql_started.pop()
        self.statements += 1
        if not self.in_user:
            self.parts["sql"] += elapsed
        if self.rendering:
            self.sql_in_render += elapsed

    def _render_before(self, *args, **kwargs) -> None:
        self.rendering.append(time.perf_counter())

    def _render_after(self, *args, **kwargs) -> None:
        self.parts["template"] += time.perf_counter() - self.rendering.pop()

    def measure(self, client, path: str, requests: int) -> tuple[int, dict[str, float]]:
        """(statements per request, median ms of each part and of the whole)."""
        samples: dict[str, list[float]] = {"sql": [], "template": [], "user": [], "other": []}
        totals, statements = [], 0
        for _ in range(requests):
            self.reset()
            started = time.perf_counter()
            client.get(path)
            total = time.perf_counter() - started
            self.parts["template"] -= self.sql_in_render
            other = total - sum(self.parts.values())
            for name, value in (*self.parts.items(), ("other", other)):
                samples[name].append(value * 1000)
            totals.append(total * 1000)
            statements = max(statements, self.statements)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        return statements, medians | {"total": statistics.median(totals)}


def instrumented(built: dict, targets: list[Scenario], requests: int) -> None:
    app = build.make_app(built["url"])
    breakdown = Breakdown(app)
    clients = {False: app.test_client(), True: app.test_client()}
    measure.sign_in(clients[False])
    measure.sign_in(clients[True], build.AUDITOR, check="/audit")
    for scenario in targets:
        client = clients[scenario.auditor]
        for _ in range(3):  # warm: compiled statement cache, templates
            client.get(scenario.path)
        scenario.statements, scenario.breakdown = breakdown.measure(client, scenario.path, requests)
    with app.app_context():
        db.engine.dispose()


# -- the table -------------------------------------------------------------------------------


def render(targets: list[Scenario], videos: int, requests: int, machine: tuple) -> str:
    cores, load_before, load_after = machine
    lines = [
        f"# List pages through HTTP: {videos:,} videos, gunicorn -w {WORKERS}, "
        f"{PAGE_SIZE} rows a page",
        "",
        f"{requests} interleaved rounds (Catalog and the reference page alternate); "
        f"{cores} cores, load {load_before:.1f} before, {load_after:.1f} after. Goals: "
        f"Catalog/reference <= {GOALS['ratio']}x; video lists: median <= "
        f"{GOALS['median_ms']:g} ms, p95 <= {GOALS['p95_ms']:g} ms (idle machine), <= "
        f"{GOALS['statements']} statements, HTML <= {GOALS['html_kb']:g} kB.",
        "",
        "| scenario | Catalog median / p95 ms | reference median / p95 ms | ratio | "
        "CPU/request ms Catalog / ref (ratio) | HTML kB Catalog / ref | statements | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in targets:
        misses = s.misses()
        lines.append(
            f"| {s.name} | {s.median('app'):.1f} / {s.p95('app'):.1f} | "
            f"{s.median('ref'):.1f} / {s.p95('ref'):.1f} | {s.ratio:.2f}x | "
            f"{s.cpu_median('app'):.1f} / {s.cpu_median('ref'):.1f} ({s.cpu_ratio:.2f}x) | "
            f"{s.size['app'] / 1024:.1f} / {s.size['ref'] / 1024:.1f} | {s.statements} | "
            f"{'; '.join(misses) or 'PASS'} |"
        )
    lines += [
        "",
        "Where a request's time goes (Flask test client, medians in ms; SQL outside the user "
        "load, template without the SQL it runs, user load with its SQL):",
        "",
        "| scenario | total | SQL | template | user load | other |",
        "|---|---|---|---|---|---|",
    ]
    for s in targets:
        b = s.breakdown
        if b:
            lines.append(
                f"| {s.name} | {b['total']:.1f} | {b['sql']:.1f} | {b['template']:.1f} | "
                f"{b['user']:.1f} | {b['other']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def run(server, args, built: dict) -> int:
    """The list benchmark; writes instance/bench/results-lists-<N>.md; 1 when a page failed."""
    with database.connect(server, built["database"], autocommit=True) as conn:
        targets = scenarios(conn, built["stats"]["biggest_channel"]["id"])
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    instrumented(built, targets, args.requests)
    log("Breakdown through the instrumented test client", t0)
    through_http(built, targets, requests=args.requests, warmup=args.warmup)
    machine = (os.cpu_count() or 0, load_before, os.getloadavg()[0])
    text = render(targets, args.videos, args.requests, machine)
    print()
    print(text)
    out = database.BENCH_DIR / f"results-lists-{args.videos}.md"
    out.write_text(text)
    log(f"Wrote {database.relative(out)}")
    return 1 if any(s.error for s in targets) else 0
