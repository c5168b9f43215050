"""Time the list and Changes pages through the real app: Flask test client, real sign-in,
real SQL."""

import math
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import event

from catalog.web.pagination import decode_cursor, encode_cursor
from tests.bench import words
from tests.bench.build import EDITORS, LOGIN_EMAIL, PASSWORD

PAGE_SIZE = 25
DEEP_PAGE = 10_000
AUDIT_PAGE_SIZE = 50  # catalog.changes.queries.PAGE_SIZE
AUDIT_DEEP_PAGE = 10_000
AUDIT_ORDER = "sync_time DESC, id DESC"
# The user filter's 30 days (whole UTC days, both ends included, as the page reads them).
AUDIT_FROM = date(2026, 6, 1)
AUDIT_TO = AUDIT_FROM + timedelta(days=29)
AUDIT_FIELD = "privacy_status"
AUDIT_SOURCE = "bulk"
# Without a video, entity, field or batch filter the page shows a batch as one line, its
# first row (the one with the batch's size): the rows of catalog.models.audit.EVENT.
AUDIT_EVENT = "(batch_id IS NULL OR batch_size IS NOT NULL)"


class NotReady(RuntimeError):
    """The app cannot serve the list page yet (e.g. its template is still being written)."""


@dataclass
class AuditRows:
    """What a Changes page must show: its number of rows and its "Older" link's position."""

    rows: int
    older: tuple[datetime, int] | None  # (sync_time, id) of the last row when there are more


@dataclass
class Target:
    name: str
    path: str
    # What the page must contain: the video_ids (channel ids) of its first and last rows,
    # and for some pages a figure as the template writes it.
    expected: list[str]
    note: str = ""
    audit: AuditRows | None = None
    # Strings the page must contain exactly so many times (its rows, their card values).
    counts: dict[str, int] = field(default_factory=dict)
    # The texts a column of the list (by its heading) must show, row by row.
    columns: dict[str, list[str]] = field(default_factory=dict)
    # The page whose median a deep page is compared with (default: the table's first).
    baseline: str = ""

    def problems(self, body: str) -> list[str]:
        """How the page differs from what the SQL computed independently says it must show."""
        missing = [vid for vid in self.expected if vid not in body]
        found = [f"lacks the expected content {missing or '(none expected)'}"]
        found = found if not self.expected or missing else []
        found += [
            f"contains {text!r} {body.count(text)} times, not {count}"
            for text, count in self.counts.items()
            if body.count(text) != count
        ]
        for heading, texts in self.columns.items():
            shown = column_texts(body, heading)
            if shown != texts:
                found.append(f"shows {shown} in its {heading} column, not {texts}")
        if self.audit:
            rows = body.count('data-testid="change-row"')
            if rows != self.audit.rows:
                found.append(f"shows {rows} change rows, not {self.audit.rows}")
            older = next_cursor(body)
            if older != self.audit.older:
                found.append(f'its rel="next" link points at {older}, not {self.audit.older}')
        return found


@dataclass
class Result:
    target: Target
    times_ms: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    last_statements: list[tuple[str, object, float]] = field(default_factory=list)
    # Why the page failed: an HTTP error (then nothing is timed) or content that differs
    # from what the SQL says it must show (the timings are kept, the row says FAIL).
    error: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else math.nan

    @property
    def p95(self) -> float:
        ordered = sorted(self.times_ms)
        return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else math.nan

    @property
    def max_statements(self) -> int:
        return max(self.statements, default=0)

    @property
    def sql_median(self) -> float:
        return statistics.median(self.sql_ms) if self.sql_ms else math.nan


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


def sign_in(client, email: str = LOGIN_EMAIL, check: str = "/videos") -> str:
    """Sign in through POST /login (the bench editor unless told); returns how it was done."""
    page = client.get("/login")
    match = _CSRF_INPUT.search(page.get_data(as_text=True)) if page.status_code == 200 else None
    token = _VALUE.search(match.group(0)) if match else None
    if token:
        how = "login form (csrf_token parsed from the HTML)"
        response = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
    else:  # the login template is unavailable: Flask-Security's JSON API, same checks
        how = "JSON login (the HTML login form could not be read)"
        info = client.get("/login", headers={"Accept": "application/json"})
        csrf = info.get_json()["response"]["csrf_token"]
        response = client.post(
            "/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-CSRF-Token": csrf},
        )
    if response.status_code not in (200, 302):
        raise RuntimeError(f"Sign-in failed with HTTP {response.status_code}")
    answer = client.get(check)
    if answer.status_code in (301, 302, 401, 403):
        raise RuntimeError(
            f"Sign-in as {email} did not stick: {check} answered {answer.status_code}"
        )
    if answer.status_code != 200:
        body = answer.get_data(as_text=True)
        raise NotReady(f"{check} answered HTTP {answer.status_code}:\n{body[:500]}")
    return how


# -- what to request -------------------------------------------------------------------------


# What the default list shows: videos not hidden, of no channel or a channel not hidden.
VISIBLE = (
    "NOT videos.hidden AND (videos.channel_id IS NULL "
    "OR videos.channel_id NOT IN (SELECT id FROM channels WHERE hidden))"
)


def video_ids(conn, where: str, order: str, params: tuple = (), size: int = PAGE_SIZE) -> list[str]:
    """The video_ids of the first and last rows of a page of the visible videos."""
    rows = conn.execute(
        f"SELECT video_id FROM videos WHERE {VISIBLE} AND {where} ORDER BY {order} LIMIT {size}",
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
    result = [Target("list page 1", "/videos", video_ids(conn, "true", newest))]
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
                video_ids(conn, "id < %s", newest, (after_id,)),
                note,
            )
        )
    word = words.SEARCH_WORD
    result.append(
        Target(
            f"search q={word}",
            f"/videos?q={word}",
            video_ids(conn, "search_text LIKE %s", newest, (f"%{word}%",)),
        )
    )
    result.append(
        Target(
            f"channel {biggest_channel} (biggest)",
            f"/videos?channel={biggest_channel}",
            video_ids(conn, "channel_id = %s", newest, (biggest_channel,)),
        )
    )
    result.append(
        Target(
            "sort by views desc",
            "/videos?sort=views&dir=desc",
            video_ids(conn, "true", "coalesce(views, -1) DESC, id DESC"),
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


# -- custom fields (issue 5) ----------------------------------------------------------------

RATING_AT_LEAST = 4
SELECT_OPTION = "great"


def _field_page(conn, stats: dict, sql: str, params: tuple) -> tuple[list[str], dict[str, int]]:
    """The first and last video_ids of a list page, and what its card columns must show:
    `sql` selects (videos.id, videos.video_id) in the page's order (the LIMIT is added)."""
    fields = stats["custom_fields"]
    rating, select = fields["rating_field"], fields["select_field"]
    page = conn.execute(f"{sql} LIMIT {PAGE_SIZE}", params).fetchall()
    values = {
        (video, field): (number, text)
        for video, field, number, text in conn.execute(
            "SELECT video_id, field_id, value_numeric, value_text FROM video_field_values "
            "WHERE video_id = ANY(%s) AND field_id IN (%s, %s)",
            ([pk for pk, _ in page], rating["id"], select["id"]),
        )
    }
    rows = [
        (
            video_id,
            values.get((pk, rating["id"]), (None, None))[0],
            values.get((pk, select["id"]), (None, None))[1],
        )
        for pk, video_id in page
    ]
    # The list template: a rating as stars titled "4 of 5", a select value as the cell's text.
    counts = {}
    for value in range(1, rating["max"] + 1):
        counts[f'title="{value} of {rating["max"]}"'] = sum(1 for r in rows if r[1] == value)
    columns = {select["name"]: [r[2] or "" for r in rows]}
    return ([rows[0][0], rows[-1][0]] if rows else []), counts, columns


_HEADING = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TAG = re.compile(r"<[^>]+>")


def column_texts(body: str, heading: str) -> list[str]:
    """The texts of the list's cells under `heading`, row by row (its rows leave their cells
    unclosed, and a cell's column is its heading's position)."""
    head = body[body.find("<thead") : body.find("</thead>")]
    headings = [_TAG.sub("", h).strip().rstrip(" ▲▼") for h in _HEADING.findall(head)]
    if heading not in headings:
        return []
    index = headings.index(heading)
    rows = body[body.find("<tbody") : body.find("</tbody>")].split("<tr")[1:]
    cells = [re.split(r"<td\b[^>]*>", row)[1:] for row in rows]
    return [_TAG.sub("", row[index]).strip() if index < len(row) else "" for row in cells]


def field_targets(conn, stats: dict) -> list[Target]:
    """The list filtered by "Rating >= 4", with a channel, sorted by rating, a deep page of
    that sort by cursor, and a select filter; each with the rows and card values it must
    show, computed in SQL."""
    fields = stats["custom_fields"]
    rating, select = fields["rating_field"]["id"], fields["select_field"]["id"]
    has_rating = (
        "EXISTS (SELECT FROM video_field_values f WHERE f.video_id = videos.id "
        "AND f.field_id = %s AND f.value_numeric >= %s)"
    )
    base = {f"cf{rating}": RATING_AT_LEAST, f"cf{rating}_op": "gte"}
    label = f"Rating >= {RATING_AT_LEAST}"
    newest = f"SELECT id, video_id FROM videos WHERE {VISIBLE} AND {{}} ORDER BY id DESC"

    def count(where: str, params: tuple) -> int:
        return conn.execute(
            f"SELECT count(*) FROM videos WHERE {VISIBLE} AND {where}", params
        ).fetchone()[0]

    matching = count(has_rating, (rating, RATING_AT_LEAST))
    visible = count("true", ())
    result = []
    expected, counts, columns = _field_page(
        conn, stats, newest.format(has_rating), (rating, RATING_AT_LEAST)
    )
    result.append(
        Target(
            label,
            "/videos?" + urlencode(base),
            expected,
            f"{matching:,} videos, {100 * matching / max(visible, 1):.0f}%",
            counts=counts,
            columns=columns,
        )
    )

    # The biggest channel and a typical one (the median number of videos).
    sizes = conn.execute(
        "SELECT channel_id, count(*) FROM videos GROUP BY 1 ORDER BY 2, 1"
    ).fetchall()
    typical = sizes[len(sizes) // 2]
    biggest = max(sizes, key=lambda row: (row[1], -row[0]))
    for kind, (channel, videos) in (("biggest", biggest), ("typical", typical)):
        where = f"{has_rating} AND channel_id = %s"
        params = (rating, RATING_AT_LEAST, channel)
        expected, counts, columns = _field_page(conn, stats, newest.format(where), params)
        result.append(
            Target(
                f"{label}, channel {channel} ({kind})",
                "/videos?" + urlencode({**base, "channel": channel}),
                expected,
                f"{count(where, params):,} of its {videos:,} videos",
                counts=counts,
                columns=columns,
            )
        )

    # Sorted by rating, highest first: the join the app makes, in the value index's order.
    by_rating = (
        "SELECT videos.id, videos.video_id FROM videos JOIN video_field_values f "
        "ON f.video_id = videos.id AND f.field_id = %s "
        f"WHERE {VISIBLE} AND f.value_numeric >= %s AND {{}} "
        "ORDER BY f.value_numeric DESC, f.video_id DESC"
    )
    sorted_args = {**base, "sort": f"cf{rating}", "dir": "desc"}
    sorted_name = f"{label}, sorted by rating desc"
    expected, counts, columns = _field_page(
        conn, stats, by_rating.format("true"), (rating, RATING_AT_LEAST)
    )
    result.append(
        Target(
            sorted_name,
            "/videos?" + urlencode(sorted_args),
            expected,
            counts=counts,
            columns=columns,
        )
    )
    deep = min(DEEP_PAGE, max(1, matching // PAGE_SIZE))
    if deep > 1:
        # The row just before page `deep` in that order: its cursor opens the page.
        offset = (deep - 1) * PAGE_SIZE - 1
        key, video_pk = conn.execute(
            "SELECT f.value_numeric, f.video_id FROM videos JOIN video_field_values f "
            "ON f.video_id = videos.id AND f.field_id = %s "
            f"WHERE {VISIBLE} AND f.value_numeric >= %s "
            "ORDER BY f.value_numeric DESC, f.video_id DESC OFFSET %s LIMIT 1",
            (rating, RATING_AT_LEAST, offset),
        ).fetchone()
        note = f"reached by cursor: row {offset + 1:,} in rating order, rating {key}"
        if deep < DEEP_PAGE:
            note += f"; the last full page, there are fewer than {DEEP_PAGE:,}"
        expected, counts, columns = _field_page(
            conn,
            stats,
            by_rating.format("(f.value_numeric, f.video_id) < (%s, %s)"),
            (rating, RATING_AT_LEAST, key, video_pk),
        )
        result.append(
            Target(
                f"{label}, sorted by rating, page {deep:,}",
                "/videos?" + urlencode({**sorted_args, "after": encode_cursor(key, video_pk)}),
                expected,
                note,
                counts=counts,
                columns=columns,
                baseline=sorted_name,
            )
        )

    has_option = (
        "EXISTS (SELECT FROM video_field_values f WHERE f.video_id = videos.id "
        "AND f.field_id = %s AND f.value_text = %s)"
    )
    expected, counts, columns = _field_page(
        conn, stats, newest.format(has_option), (select, SELECT_OPTION)
    )
    chosen = count(has_option, (select, SELECT_OPTION))
    result.append(
        Target(
            f"{fields['select_field']['name']} is {SELECT_OPTION}",
            "/videos?" + urlencode({f"cf{select}": SELECT_OPTION}),
            expected,
            f"{chosen:,} videos, {100 * chosen / max(visible, 1):.0f}%",
            counts=counts,
            columns=columns,
        )
    )
    return result


# -- the list's total (issue 11) -------------------------------------------------------------

EXACT_LIMIT = 10_000  # catalog.config LIST_EXACT_LIMIT's default


def total_targets(conn, stats: dict) -> list[Target]:
    """The list's total as /videos/total answers it (the list loads it when its page cannot
    tell): the whole catalog, the search, the biggest channel and "Rating >= 4", each with
    the text it must show, counted in SQL here."""
    biggest = stats["biggest_channel"]["id"]
    rating = stats["custom_fields"]["rating_field"]["id"] if stats.get("custom_fields") else None
    cases = [
        ("total: the whole list", {}, "true", ()),
        (f"total: search q={words.SEARCH_WORD}", {"q": words.SEARCH_WORD},
         "search_text LIKE %s", (f"%{words.SEARCH_WORD}%",)),
        (f"total: channel {biggest} (biggest)", {"channel": biggest}, "channel_id = %s",
         (biggest,)),
    ]  # fmt: skip
    if rating is not None:
        cases.append((
            f"total: Rating >= {RATING_AT_LEAST}",
            {f"cf{rating}": RATING_AT_LEAST, f"cf{rating}_op": "gte"},
            "EXISTS (SELECT FROM video_field_values f WHERE f.video_id = videos.id "
            "AND f.field_id = %s AND f.value_numeric >= %s)",
            (rating, RATING_AT_LEAST),
        ))  # fmt: skip
    result = []
    for name, args, where, params in cases:
        (matching,) = conn.execute(
            f"SELECT count(*) FROM videos WHERE {VISIBLE} AND {where}", params
        ).fetchone()
        if matching > EXACT_LIMIT:
            shown = f"More than {EXACT_LIMIT:,} videos"
        else:
            shown = f"{matching:,} video{'s' if matching != 1 else ''}"
        path = "/videos/total" + (f"?{urlencode(args)}" if args else "")
        result.append(Target(name, path, [shown], f"{matching:,} match"))
    return result


# -- channels (issue 6) ----------------------------------------------------------------------

CHANNEL_PAGE_SIZE = 50  # catalog.channels.queries.PAGE_SIZES[0]
RECENT_VIDEOS = 10  # catalog.channels.queries.RECENT_VIDEOS


def channel_targets(conn) -> list[Target]:
    """The channel list by number of videos and by name, and the biggest channel's page.

    The figures are counted from the videos here, not read from channel_stats (which the
    app reads, kept by triggers): the pages check the triggers too.
    """
    conn.execute(
        "CREATE TEMP TABLE bench_channel_counts AS SELECT c.id, c.channel_id, c.name, c.hidden, "
        "count(v.id) AS videos, coalesce(sum(v.views), 0) AS views "
        "FROM channels c LEFT JOIN videos v ON v.channel_id = c.id GROUP BY c.id"
    )
    try:

        def page(order: str) -> list[tuple]:
            return conn.execute(
                "SELECT channel_id, videos FROM bench_channel_counts WHERE NOT hidden "
                f"ORDER BY {order} LIMIT {CHANNEL_PAGE_SIZE}"
            ).fetchall()

        (channels,) = conn.execute(
            "SELECT count(*) FROM bench_channel_counts WHERE NOT hidden"
        ).fetchone()
        rows = 'data-testid="channel-row"'
        result = []
        by_videos = page("videos DESC, id DESC")
        result.append(
            Target(
                "channels by videos desc",
                "/channels?sort=videos",
                [by_videos[0][0], by_videos[-1][0], f">{by_videos[0][1]:,}</a>"],
                f"{channels:,} channels; the first has {by_videos[0][1]:,} videos",
                counts={rows: len(by_videos)},
            )
        )
        by_name = page("lower(name), id")
        result.append(
            Target(
                "channels by name",
                "/channels",
                [by_name[0][0], by_name[-1][0]],
                counts={rows: len(by_name)},
            )
        )
        key, videos, views = conn.execute(
            "SELECT channel_id, videos, views FROM bench_channel_counts "
            "ORDER BY videos DESC, id LIMIT 1"
        ).fetchone()
        newest = [
            video_id
            for (video_id,) in conn.execute(
                "SELECT v.video_id FROM videos v JOIN channels c ON c.id = v.channel_id "
                "WHERE c.channel_id = %s ORDER BY v.id DESC LIMIT %s",
                (key, RECENT_VIDEOS),
            )
        ]
        result.append(
            Target(
                "channel page of the biggest",
                f"/channels/{key}",
                [
                    newest[0],
                    newest[-1],
                    f'data-stat="video_count">{videos:,}<',
                    f'data-stat="total_views">{views:,}<',
                ],
                f"{videos:,} videos; its figures and newest {len(newest)} videos checked",
            )
        )
        return result
    finally:
        conn.execute("DROP TABLE bench_channel_counts")


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


def next_cursor(body: str) -> tuple | None:
    """The (key, id) the page's rel="next" link's `after` cursor points at, if it has one."""
    link = _NEXT_LINK.search(body)
    href = _HREF.search(link.group(0)) if link else None
    if not href:
        return None
    after = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query).get("after", [""])[0]
    return decode_cursor(after) or ("undecodable", after)


# -- the Changes page ------------------------------------------------------------------------


def _audit_page(
    conn, name: str, path: str, where: str, params: tuple = (), note: str = ""
) -> Target:
    """A Changes page and what it must show, from its own SQL over metadata_syncs: each row
    by its entity key, a batch's line (grouped pages) by its batch id, which its links name."""
    rows = conn.execute(
        "SELECT CASE WHEN batch_size IS NULL THEN coalesce(entity_key, '') "
        "ELSE batch_id::text END, "
        f"sync_time, id FROM metadata_syncs WHERE {where} "
        f"ORDER BY {AUDIT_ORDER} LIMIT {AUDIT_PAGE_SIZE + 1}",
        params,
    ).fetchall()
    shown = rows[:AUDIT_PAGE_SIZE]
    older = (shown[-1][1], shown[-1][2]) if len(rows) > AUDIT_PAGE_SIZE else None
    expected = [shown[0][0], shown[-1][0]] if shown else []
    return Target(name, path, expected, note, AuditRows(len(shown), older))


def audit_targets(conn, stats: dict) -> tuple[list[Target], dict]:
    """The Changes page: newest first, a deep page by cursor, and each kind of filter."""
    total = stats["audit"]["rows"]
    # Pages of the collapsed log count lines: a change outside a batch, or a whole batch.
    (lines,) = conn.execute(f"SELECT count(*) FROM metadata_syncs WHERE {AUDIT_EVENT}").fetchone()
    deep = min(AUDIT_DEEP_PAGE, max(1, lines // AUDIT_PAGE_SIZE))
    result = [_audit_page(conn, "audit page 1", "/audit", AUDIT_EVENT)]
    if deep > 1:
        # The last row of page deep - 1 (newest first): its cursor opens page `deep`.
        offset = (deep - 1) * AUDIT_PAGE_SIZE - 1
        at, row_id = conn.execute(
            f"SELECT sync_time, id FROM metadata_syncs WHERE {AUDIT_EVENT} "
            f"ORDER BY {AUDIT_ORDER} OFFSET %s LIMIT 1",
            (offset,),
        ).fetchone()
        note = f"reached by cursor: line {offset + 1:,} newest first (a batch is one line)"
        if deep < AUDIT_DEEP_PAGE:
            note += f"; the last full page, there are fewer than {AUDIT_DEEP_PAGE:,}"
        result.append(
            _audit_page(
                conn,
                f"audit page {deep:,}",
                "/audit?" + urlencode({"after": encode_cursor(at, row_id)}),
                f"(sync_time, id) < (%s, %s) AND {AUDIT_EVENT}",
                (at, row_id),
                note,
            )
        )

    (user_id,) = conn.execute("SELECT id FROM users WHERE email = %s", (EDITORS[0],)).fetchone()
    end = AUDIT_TO + timedelta(days=1)
    (in_range,) = conn.execute(
        "SELECT count(*) FROM metadata_syncs WHERE user_id = %s "
        "AND sync_time >= %s::date::timestamp AT TIME ZONE 'UTC' "
        "AND sync_time < %s::date::timestamp AT TIME ZONE 'UTC'",
        (user_id, AUDIT_FROM, end),
    ).fetchone()
    user_args = {"user": user_id, "from": AUDIT_FROM.isoformat(), "to": AUDIT_TO.isoformat()}
    result.append(
        _audit_page(
            conn,
            f"user {user_id}, {AUDIT_FROM:%Y-%m-%d}..{AUDIT_TO:%Y-%m-%d}",
            "/audit?" + urlencode(user_args),
            "user_id = %s AND sync_time >= %s::date::timestamp AT TIME ZONE 'UTC' "
            f"AND sync_time < %s::date::timestamp AT TIME ZONE 'UTC' AND {AUDIT_EVENT}",
            (user_id, AUDIT_FROM, end),
            f"{EDITORS[0]}, the most active editor: {in_range:,} changes in the 30 days",
        )
    )

    # A typical video (the median number of changes) and the busiest one. Every row of a
    # video carries both its id and its video_id; the expected rows come by entity_id.
    typical = conn.execute(
        "SELECT v.id, v.video_id FROM videos v WHERE v.version = (SELECT percentile_disc(0.5) "
        "WITHIN GROUP (ORDER BY version) FROM videos WHERE version > 1) ORDER BY v.id LIMIT 1"
    ).fetchone()
    busiest = conn.execute(
        "SELECT id, video_id FROM videos ORDER BY version DESC, id LIMIT 1"
    ).fetchone()
    for label, (video_pk, video_id) in (("typical", typical), ("busiest", busiest)):
        (count,) = conn.execute(
            "SELECT count(*) FROM metadata_syncs WHERE entity_type = 'video' AND entity_id = %s",
            (video_pk,),
        ).fetchone()
        result.append(
            _audit_page(
                conn,
                f"video {video_id} ({label})",
                "/audit?" + urlencode({"video": video_id}),
                "entity_type = 'video' AND entity_id = %s",
                (video_pk,),
                f"{count:,} changes",
            )
        )

    (with_field,) = conn.execute(
        "SELECT count(*) FROM metadata_syncs WHERE changes ? %s", (AUDIT_FIELD,)
    ).fetchone()
    result.append(
        _audit_page(
            conn,
            f"field={AUDIT_FIELD}",
            "/audit?" + urlencode({"field": AUDIT_FIELD}),
            "changes ? %s",
            (AUDIT_FIELD,),
            f"{with_field:,} changes ({100 * with_field / max(total, 1):.0f}%)",
        )
    )
    from_source = stats["audit"]["sources"].get(AUDIT_SOURCE, 0)
    result.append(
        _audit_page(
            conn,
            f"source={AUDIT_SOURCE}",
            "/audit?" + urlencode({"source": AUDIT_SOURCE}),
            f"source = %s AND {AUDIT_EVENT}",
            (AUDIT_SOURCE,),
            f"{from_source:,} changes ({100 * from_source / max(total, 1):.0f}%)",
        )
    )
    return result, {"user_id": user_id}


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
            result.error = f"HTTP {response.status_code}"
            return result
        if i == 0 and (problems := target.problems(response.get_data(as_text=True))):
            result.error = "the page " + "; ".join(problems)
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
            if estimate:
                est_statement, est_parameters, _ = estimate[0]
                est_key = uses(estimate[0])
                plan_json = connection.exec_driver_sql(
                    est_statement, {**est_parameters, est_key: _like(term)}
                ).scalar_one()
            else:  # the page no longer asks the planner: ask it the same question here
                plan_json = connection.exec_driver_sql(
                    "EXPLAIN (FORMAT JSON) SELECT id FROM videos "
                    "WHERE NOT hidden AND search_text LIKE %(term)s",
                    {"term": _like(term)},
                ).scalar_one()
            shown = int(plan_json[0]["Plan"]["Plan Rows"])
            (matches,) = conn.execute(
                "SELECT count(*) FROM videos WHERE NOT hidden AND search_text LIKE %s",
                (_like(term),),
            ).fetchone()
            probes.append(Probe(term, matches, shown, how, statistics.median(times)))
        connection.rollback()
    return probes
