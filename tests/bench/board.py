"""The production board's benchmark (issue 14, section 6, third bullet): `/production` and
filtered boards through HTTP against the app, on the production bench's database (N tasks
over 500 channels, skewed; tests/bench/production.py builds it).

A real HTTP server (werkzeug, one thread) serves the app on a scratch copy of the database;
a viewer signs in through the login form and each page is requested once a round, `requests`
rounds after `warmup` untimed ones, over one keep-alive-less HTTP/1.1 connection each:
median and p95 of the whole request (server and client in one process, as a gunicorn worker
would be one), and the SQL statements each request sent (an SQLAlchemy event listener). Each
answer is checked: 200, the seven columns, and the count of the first column agrees with
SQL. Each round ends with a reference measured alike: the layout every signed-in page has,
with nothing in it, served by the same app (LAYOUT, added for the bench), so that the board's
times can be read against what this machine takes for any page at that moment."""

import http.client
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import render_template
from flask_security import hash_password
from sqlalchemy import event, select, text
from werkzeug.serving import make_server

from catalog import create_app
from catalog.extensions import db, security
from catalog.models import Role
from catalog.models.task import PHASES
from catalog.permissions import Permission, require
from catalog.pgserver import LocalPostgres
from tests.bench.database import log

GOALS = {"median_ms": 15.0, "p95_ms": 30.0, "statements": 5}
EMAIL = "board-viewer@bench.example"
PASSWORD = "bench-board-password"
WARMUP = 3
REQUESTS = 50
LAYOUT = "/bench/layout"
COUNT = re.compile(r'data-testid="phase-count"[^>]*>([\d,]+)<')


@dataclass
class Board:
    name: str
    path: str
    draft_count: int  # what SQL says the Draft column counts: the page must say the same
    ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.ms, n=20)[-1]


class Client:
    """A signed-in browser, minimal: a cookie jar of one session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, data

    def sign_in(self) -> None:
        status, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"/login answered {status} without a CSRF token")
        status, _ = self.request(
            "POST", "/login",
            urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}),
        )  # fmt: skip
        if status != 302:
            raise RuntimeError(f"signing in answered {status}")


def _targets(app) -> list[Board]:
    """The boards measured, with what SQL says their Draft column counts."""
    with app.app_context():
        biggest = db.session.execute(
            text("SELECT channel_id FROM tasks GROUP BY channel_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar()
        small = db.session.execute(
            text("SELECT channel_id FROM tasks GROUP BY channel_id ORDER BY count(*) LIMIT 1")
        ).scalar()

        def drafts(where: str = "true", **params) -> int:
            return db.session.execute(
                text(f"SELECT count(*) FROM tasks WHERE status = 'draft' AND {where}"), params
            ).scalar()

        old = "status_changed_at <= now() - interval '7 days'"
        return [
            Board("whole board", "/production", drafts()),
            Board(
                "biggest channel, normal priority",
                f"/production?channel={biggest}&priority=normal",
                drafts("channel_id = :c AND priority = 'normal'", c=biggest),
            ),
            Board(
                "smallest channel",
                f"/production?channel={small}",
                drafts("channel_id = :c", c=small),
            ),
            Board(
                "high priority, 7 days in its state",
                "/production?priority=high&age=7d",
                drafts(f"priority = 'high' AND {old}"),
            ),
            Board("stage video", "/production?stage=video", 0),
        ]


def _viewer(app) -> None:
    with app.app_context():
        if not security.datastore.find_user(email=EMAIL):
            viewer = db.session.scalars(select(Role).where(Role.name == "viewer")).one()
            security.datastore.create_user(
                email=EMAIL, password=hash_password(PASSWORD), roles=[viewer]
            )
            db.session.commit()


def _layout_page() -> str:
    """The reference: the layout every signed-in page has, with nothing in it."""
    return render_template("base.html")


def measure(url: str, *, requests: int = REQUESTS, warmup: int = WARMUP) -> list[Board]:
    """Every target board's timings and statements, through HTTP, and last the layout page's
    (LAYOUT, the reference): round by round, each page once a round, so that a slower
    moment of the machine weighs on every page alike."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    app.add_url_rule(LAYOUT, view_func=require(Permission.CATALOG_READ)(_layout_page))
    _viewer(app)
    targets = _targets(app)
    with app.app_context():
        engine = db.engine
    sent = [0]

    def count(*_args):
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(server.server_port)
        client.sign_in()
        layout = Board("the layout alone (reference)", LAYOUT, -1)
        for n in range(warmup + requests):
            for board in (*targets, layout):
                sent[0] = 0
                started = time.perf_counter()
                status, page = client.request("GET", board.path)
                elapsed = (time.perf_counter() - started) * 1000
                _check(board, status, page)
                if n >= warmup:
                    board.ms.append(elapsed)
                    board.statements.append(sent[0])
    finally:
        server.shutdown()
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return [*targets, layout]


def _check(board: Board, status: int, page: str) -> None:
    if board.path == LAYOUT:
        if status != 200 or 'id="main"' not in page:
            raise RuntimeError(f"{LAYOUT} answered {status} without the layout")
        return
    if status != 200 or page.count('data-testid="column"') != len(PHASES):
        raise RuntimeError(f"{board.path} answered {status} without its columns")
    shown = int(COUNT.search(page).group(1).replace(",", ""))
    if shown != board.draft_count:
        raise RuntimeError(f"{board.path}: Draft shows {shown}, SQL {board.draft_count}")


def explain(url: str, filters: dict | None = None) -> str:
    """EXPLAIN ANALYZE of a board's two statements (the whole board's, or with `filters`
    as the URL gives them), as the app sends them."""
    from catalog.production import queries

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    plans = []
    with app.app_context():
        captured: list[tuple[str, object]] = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            captured.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", keep)
        queries.board(queries.BoardFilter.from_args(filters or {}))
        event.remove(db.engine, "before_cursor_execute", keep)
        with db.engine.connect() as conn:
            for statement, parameters in captured:
                cursor = conn.connection.dbapi_connection.cursor()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        db.engine.dispose()
    return "\n\n".join(plans)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def render(tasks: int, boards: list[Board], plan: str, filtered_plan: str) -> str:
    *pages, layout = boards
    rows = "\n".join(
        f"| {b.name} | `{b.path}` | {b.median:.1f} ms | {b.p95:.1f} ms | "
        f"{b.median / layout.median:.1f}x | {max(b.statements)} | "
        f"{_verdict(b.median <= GOALS['median_ms'] and b.p95 <= GOALS['p95_ms'] and max(b.statements) <= GOALS['statements'])} |"  # noqa: E501
        for b in pages
    )
    rows += (
        f"\n| {layout.name} | `{layout.path}` | {layout.median:.1f} ms | {layout.p95:.1f} ms | "
        f"1x | {max(layout.statements)} | |"
    )
    return f"""# Production board benchmark: {tasks:,} tasks, 500 channels

Through HTTP (werkzeug, one thread, the client in the same process), signed in as a viewer;
{REQUESTS} timed rounds after {WARMUP} untimed, each round every board once and then the
reference, the layout every signed-in page has with nothing in it (what this machine takes for
any page at that moment; the goals are absolute). Goals: median <= {GOALS["median_ms"]:.0f} ms,
p95 <= {GOALS["p95_ms"]:.0f} ms, at most {GOALS["statements"]} SQL statements per page (the session's
user included).

| board | URL | median | p95 | median / the layout's | statements | |
|---|---|---|---|---|---|---|
{rows}

## The whole board's statements (EXPLAIN ANALYZE, BUFFERS)

```
{plan}
```

## `?priority=high&age=7d`: its statements (EXPLAIN ANALYZE, BUFFERS)

```
{filtered_plan}
```
"""  # noqa: E501


def missed(boards: list[Board]) -> bool:
    *pages, _layout = boards
    return any(
        b.median > GOALS["median_ms"] or b.p95 > GOALS["p95_ms"]
        or max(b.statements) > GOALS["statements"]
        for b in pages
    )  # fmt: skip


def run(server: LocalPostgres, url: str, tasks: int) -> tuple[str, bool]:
    """Measure the boards on the database at `url`; the report's text and whether a goal
    was missed."""
    t0 = time.perf_counter()
    boards = measure(url)
    whole = boards[0]
    log(f"Board: median {whole.median:.1f} ms, p95 {whole.p95:.1f} ms, "
        f"{max(whole.statements)} statements", t0)  # fmt: skip
    filtered = explain(url, {"priority": "high", "age": "7d"})
    return render(tasks, boards, explain(url), filtered), missed(boards)
