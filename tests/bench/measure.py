"""Time the list pages through the real app: Flask test client, real sign-in, real SQL."""

import math
import re
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import event

from catalog.pagination import decode_cursor, encode_cursor
from tests.bench import words
from tests.bench.build import LOGIN_EMAIL, PASSWORD

PAGE_SIZE = 25
DEEP_PAGE = 10_000


class NotReady(RuntimeError):
    """The app cannot serve the list page yet (e.g. its template is still being written)."""


@dataclass
class Target:
    name: str
    path: str
    expected: list[str]  # video_ids of the first and last rows the page must show
    note: str = ""


@dataclass
class Result:
    target: Target
    times_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    last_statements: list[tuple[str, object, float]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    @property
    def max_statements(self) -> int:
        return max(self.statements)

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql_ms)


class StatementLog:
    """Counts and times the statements one request sends (before/after_cursor_execute)."""

    def __init__(self, engine):
        self.recording = False
        self.entries: list[tuple[str, object, float]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        self.engine = engine

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording:
            conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording and conn.info.get("bench_started"):
            elapsed = (time.perf_counter() - conn.info["bench_started"].pop()) * 1000
            self.entries.append((statement, parameters, elapsed))

    def start(self) -> None:
        self.entries = []
        self.recording = True

    def stop(self) -> list[tuple[str, object, float]]:
        self.recording = False
        return self.entries

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


# -- signing in ------------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>", re.IGNORECASE)
_VALUE = re.compile(r"\bvalue=\"([^\"]*)\"")


def sign_in(client) -> str:
    """Sign in as the bench editor through POST /login; returns how it was done."""
    page = client.get("/login")
    match = _CSRF_INPUT.search(page.get_data(as_text=True)) if page.status_code == 200 else None
    token = _VALUE.search(match.group(0)) if match else None
    if token:
        how = "login form (csrf_token parsed from the HTML)"
        response = client.post(
            "/login",
            data={"email": LOGIN_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
        )
    else:  # the login template is unavailable: Flask-Security's JSON API, same checks
        how = "JSON login (the HTML login form could not be read)"
        info = client.get("/login", headers={"Accept": "application/json"})
        csrf = info.get_json()["response"]["csrf_token"]
        response = client.post(
            "/login",
            json={"email": LOGIN_EMAIL, "password": PASSWORD},
            headers={"X-CSRF-Token": csrf},
        )
    if response.status_code not in (200, 302):
        raise RuntimeError(f"Sign-in failed with HTTP {response.status_code}")
    check = client.get("/videos")
    if check.status_code in (301, 302, 401, 403):
        raise RuntimeError(f"Sign-in did not stick: /videos answered {check.status_code}")
    if check.status_code != 200:
        body = check.get_data(as_text=True)
        raise NotReady(f"/videos answered HTTP {check.status_code}:\n{body[:500]}")
    return how


# -- what to request -------------------------------------------------------------------------


def _video_ids(conn, where: str, order: str, params: tuple = ()) -> list[str]:
    rows = conn.execute(
        f"SELECT video_id FROM videos WHERE NOT hidden AND {where} ORDER BY {order} "
        f"LIMIT {PAGE_SIZE}",
        params,
    ).fetchall()
    return [rows[0][0], rows[-1][0]] if rows else []


def targets(conn, biggest_channel: int) -> tuple[list[Target], dict]:
    """The pages to time, each with the rows it must show, computed independently in SQL."""
    visible = conn.execute("SELECT count(*) FROM videos WHERE NOT hidden").fetchone()[0]
    last_full_page = max(1, visible // PAGE_SIZE)
    deep = min(DEEP_PAGE, last_full_page)
    newest = "id DESC"
    first_page = conn.execute(
        f"SELECT id FROM videos WHERE NOT hidden ORDER BY id DESC LIMIT {PAGE_SIZE}"
    ).fetchall()
    result = [Target("list page 1", "/videos", _video_ids(conn, "true", newest))]
    if deep > 1:
        # The row just before page `deep` in the default order: its cursor opens that page.
        (after_id,) = conn.execute(
            "SELECT id FROM videos WHERE NOT hidden ORDER BY id DESC OFFSET %s LIMIT 1",
            ((deep - 1) * PAGE_SIZE - 1,),
        ).fetchone()
        note = "reached by cursor"
        if deep < DEEP_PAGE:
            note += f"; the last full page, there are fewer than {DEEP_PAGE:,}"
        result.append(
            Target(
                f"list page {deep:,}",
                "/videos?" + urlencode({"after": encode_cursor(after_id, after_id)}),
                _video_ids(conn, "id < %s", newest, (after_id,)),
                note,
            )
        )
    word = words.SEARCH_WORD
    result.append(
        Target(
            f"search q={word}",
            f"/videos?q={word}",
            _video_ids(conn, "search_text LIKE %s", newest, (f"%{word}%",)),
        )
    )
    result.append(
        Target(
            f"channel {biggest_channel} (biggest)",
            f"/videos?channel={biggest_channel}",
            _video_ids(conn, "channel_id = %s", newest, (biggest_channel,)),
        )
    )
    result.append(
        Target(
            "sort by views desc",
            "/videos?sort=views&dir=desc",
            _video_ids(conn, "true", "coalesce(views, -1) DESC, id DESC"),
        )
    )
    facts = {
        "visible": visible,
        "last_full_page": last_full_page,
        "page_2_cursor": encode_cursor(first_page[-1][0], first_page[-1][0])
        if len(first_page) == PAGE_SIZE
        else None,
    }
    return result, facts


_NEXT_LINK = re.compile(r"<a\b[^>]*\brel=\"next\"[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=\"([^\"]*)\"")


def pager_check(client, expected_cursor: str | None) -> str:
    """Does page 1's rel="next" link carry the cursor the deep page was computed with?"""
    body = client.get("/videos").get_data(as_text=True)
    link = _NEXT_LINK.search(body)
    href = _HREF.search(link.group(0)) if link else None
    if not href:
        return 'no rel="next" link found on page 1'
    query = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query)
    after = query.get("after", [""])[0]
    if expected_cursor and decode_cursor(after) == decode_cursor(expected_cursor):
        return "page 1's next link carries the same cursor scheme (OK)"
    return f"page 1's next link has after={after!r}, expected {expected_cursor!r} (MISMATCH)"


# -- timing ----------------------------------------------------------------------------------


def run(client, statements: StatementLog, target: Target, *, warmup: int, requests: int):
    result = Result(target)
    for i in range(warmup + requests):
        statements.start()
        started = time.perf_counter()
        response = client.get(target.path)
        elapsed = (time.perf_counter() - started) * 1000
        entries = statements.stop()
        if response.status_code != 200:
            raise AssertionError(f"{target.name}: HTTP {response.status_code} for {target.path}")
        body = response.get_data(as_text=True)
        missing = [vid for vid in target.expected if vid not in body]
        if not target.expected or missing:
            raise AssertionError(
                f"{target.name}: the page lacks the expected rows {missing or '(none expected)'}"
            )
        if i >= warmup:
            result.times_ms.append(elapsed)
            result.statements.append(len(entries))
            result.sql_ms.append(sum(entry[2] for entry in entries))
            result.last_statements = entries
    return result


def explain(engine, result: Result) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement the page's last request sent."""
    lines = [f"## {result.target.name}: {result.target.path}", ""]
    with engine.connect() as connection:
        for statement, parameters, elapsed in result.last_statements:
            lines.append(f"-- {elapsed:.2f} ms in the request")
            lines.append(statement.strip())
            lines.append(f"-- parameters: {parameters!r}")
            if statement.lstrip().upper().startswith("EXPLAIN"):
                lines.append("(itself an EXPLAIN: planning only)")
            else:
                plan = connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).scalars()
                lines.extend(plan)
            lines.append("")
        connection.rollback()
    return "\n".join(lines)


# -- search probe ----------------------------------------------------------------------------


@dataclass
class Probe:
    term: str
    matches: int
    estimate: int
    plan: str
    sql_ms: float


def _like(text: str) -> str:
    """The pattern catalog.videos.queries builds for `q` (kept identical by hand)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def probe_terms(conn) -> list[str]:
    """Common and rare search terms: a word, phrases, an artist, exact identifiers."""
    video_id, isrc, artist = conn.execute(
        "SELECT video_id, isrc, artist[1] FROM videos WHERE isrc IS NOT NULL AND NOT hidden "
        "ORDER BY id LIMIT 1 OFFSET (SELECT count(*) / 2 FROM videos)"
    ).fetchone()
    return [words.SEARCH_WORD, "neon", "official video", artist.lower(), isrc, video_id, "zqx"]


def search_probe(engine, conn, search: Result, terms: list[str]) -> list[Probe]:
    """Run the list statement the search page sent with other terms: rows, estimate, plan.

    Substring search is where the planner's row estimate matters: it picks either the
    trigram index (cost grows with the number of matches, then a sort) or the primary key
    walked newest first (cost grows with the rows skipped before 26 matches are found).
    """
    pattern = _like(words.SEARCH_WORD)

    def uses(entry) -> str | None:
        parameters = entry[1]
        if isinstance(parameters, dict):
            return next((k for k, v in parameters.items() if v == pattern), None)
        return None

    def is_explain(entry) -> bool:
        return entry[0].lstrip().upper().startswith("EXPLAIN")

    found = [e for e in search.last_statements if uses(e)]
    estimate = [e for e in found if is_explain(e)]
    listing = [e for e in found if not is_explain(e) and "LIMIT" in e[0].upper()]
    if not listing:
        return []
    statement, parameters, _ = listing[0]
    key = uses(listing[0])
    probes = []
    with engine.connect() as connection:
        for term in terms:
            args = {**parameters, key: _like(term)}
            plan = "\n".join(
                connection.exec_driver_sql("EXPLAIN " + statement, args).scalars().all()
            )
            if "Bitmap Heap Scan on videos" in plan:
                how = "trigram bitmap, then sort"
            elif "Index Scan Backward using pk_videos" in plan:
                how = "primary key newest first, filter"
            else:
                how = "other"
            times = []
            for _ in range(5):
                started = time.perf_counter()
                connection.exec_driver_sql(statement, args).all()
                times.append((time.perf_counter() - started) * 1000)
            shown = -1
            if estimate:
                est_statement, est_parameters, _ = estimate[0]
                est_key = uses(estimate[0])
                plan_json = connection.exec_driver_sql(
                    est_statement, {**est_parameters, est_key: _like(term)}
                ).scalar_one()
                shown = int(plan_json[0]["Plan"]["Plan Rows"])
            (matches,) = conn.execute(
                "SELECT count(*) FROM videos WHERE NOT hidden AND search_text LIKE %s",
                (_like(term),),
            ).fetchone()
            probes.append(Probe(term, matches, shown, how, statistics.median(times)))
        connection.rollback()
    return probes
