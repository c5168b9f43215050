"""The floor the list pages are measured against (issue 17): hand-written pages that show
the same rows and columns as Catalog's lists, each one raw SQL statement and a minimal
Jinja template, no sign-in, no ORM, no form machinery.

`served` (the WSGI application gunicorn runs in the list benchmark) mounts this app under
PREFIX beside Catalog itself, so both are served by the same workers with the same
settings, and wraps both in a middleware that reports each request's CPU time in a
response header (CPU_HEADER): the benchmark reads the application's CPU per request from it.
"""

import os
import time

import psycopg
from flask import Flask, abort, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

PREFIX = "/reference"
CPU_HEADER = "X-Bench-Cpu-Us"

VISIBLE = (
    "NOT v.hidden AND (v.channel_id IS NULL "
    "OR v.channel_id <> ALL (ARRAY(SELECT id FROM channels WHERE hidden)))"
)
LATEST = (
    "LEFT JOIN LATERAL (SELECT m.sync_time, m.user_email, m.source FROM metadata_syncs m "
    "WHERE m.entity_type = 'video' AND m.entity_id = v.id "
    "ORDER BY m.sync_time DESC, m.id DESC LIMIT 1) l ON true"
)
# The custom fields shown as columns (Catalog's card fields): their values as one JSON
# object per row, as Catalog reads them.
CARDS = (
    "LEFT JOIN LATERAL (SELECT jsonb_object_agg(f.field_id, coalesce(to_jsonb(f.value_text), "
    "to_jsonb(f.value_numeric), to_jsonb(f.value_boolean))) AS card_values "
    "FROM video_field_values f WHERE f.video_id = v.id AND f.field_id IN (SELECT field_id "
    "FROM schema_fields WHERE show_on_card)) c ON true"
)
ORDERS = {
    "added": ("v.id", "v.id"),
    "views": ("coalesce(v.views, -1)", "v.id"),
}

VIDEOS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Videos</title>
<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css"></head><body>
<h1>Videos</h1><table class="table table-sm"><thead><tr><th>Video id</th><th>Title</th>
<th>Channel</th><th>Artists</th><th>Category</th><th>Claim</th><th>Privacy</th><th>Views</th>
<th>Last change</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="/videos/{{ r[1] }}">{{ r[1] }}</a>
{% if r[2] %} hidden{% endif %}</td>
<td>{{ r[3] or '' }}</td><td>{{ r[4] or '' }}</td><td>{{ (r[5] or []) | join(', ') }}</td>
<td>{{ r[6] or '' }}</td><td>{{ r[7] or '' }}</td><td>{{ r[8] or '' }}</td>
<td>{{ '{:,}'.format(r[9]) if r[9] is not none else '' }}</td>
{% for value in (r[13] or {}).values() %}<td>{{ value }}</td>{% endfor %}
<td>{% if r[10] %}{{ r[10].strftime('%Y-%m-%d %H:%M') }} {{ r[11] or r[12] }}{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% if more %}<a rel="next" href="?after={{ rows[-1][0] }}">Next</a>{% endif %}
</body></html>"""

CHANNELS = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Channels</title>
<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css"></head><body>
<h1>Channels</h1><table class="table table-sm"><thead><tr><th>Name</th><th>Channel id</th>
<th>Country</th><th>Monetized</th><th>Subscribers</th><th>Views</th><th>Videos</th>
<th>Catalog views</th></tr></thead><tbody>
{% for r in rows %}<tr><td><a href="/channels/{{ r[1] }}">{{ r[0] }}</a>
{% if r[2] %} hidden{% endif %}</td>
<td>{{ r[1] }}</td><td>{{ r[3] or '' }}</td><td>{{ 'Yes' if r[4] else 'No' }}</td>
<td>{{ r[5] or '' }}</td><td>{{ r[6] or '' }}</td><td>{{ r[7] }}</td><td>{{ r[8] }}</td></tr>
{% endfor %}</tbody></table></body></html>"""

AUDIT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Changes</title>
<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css"></head><body>
<h1>Changes</h1><table class="table table-sm"><thead><tr><th>When</th><th>Who</th>
<th>Source</th><th>What</th><th>Changes</th></tr></thead><tbody>
{% for r in rows %}<tr data-testid="change-row"><td>{{ r[1].strftime('%Y-%m-%d %H:%M:%S') }}</td>
<td>{{ r[2] or '' }}</td><td>{{ r[3] }}{% if r[9] %} ({{ r[9] }} rows){% endif %}</td>
<td>{{ r[4] }} {{ r[5] or '' }} {{ r[6] or '' }}</td>
<td>{% for name, pair in (r[8] or {}).items() %}
<div>{{ name }}: {{ pair[0] }} → {{ pair[1] }}</div>{% endfor %}</td></tr>
{% endfor %}</tbody></table>
{% if more %}<a rel="next" href="?after={{ rows[-1][0] }}">Older</a>{% endif %}
</body></html>"""

app = Flask(__name__)
_connection: dict[int, psycopg.Connection] = {}
# Compiled once, as Flask's own template loader would (render_template_string compiles anew).
_templates = {name: app.jinja_env.from_string(source) for name, source in
              (("videos", VIDEOS), ("channels", CHANNELS), ("audit", AUDIT))}  # fmt: skip


def _render(name: str, **context) -> str:
    return _templates[name].render(**context)


def _db() -> psycopg.Connection:
    """One connection per worker process (gunicorn forks after import)."""
    pid = os.getpid()
    if pid not in _connection:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _connection[pid] = psycopg.connect(url, autocommit=True)
    return _connection[pid]


@app.get("/videos")
def videos():
    size = request.args.get("size", 50, type=int)
    sort = request.args.get("sort", "added")
    if sort not in ORDERS:
        abort(400)
    key, tie = ORDERS[sort]
    where, params = [VISIBLE], []
    if q := request.args.get("q"):
        where.append("v.search_text LIKE %s")
        params.append(f"%{q.lower()}%")
    if channel := request.args.get("channel", type=int):
        where.append("v.channel_id = %s")
        params.append(channel)
    if after := request.args.get("after", type=int):
        where.append("v.id < %s")
        params.append(after)
    rows = (
        _db()
        .execute(
            "SELECT v.id, v.video_id, v.hidden, v.title, v.channel_display_name, v.artist, "
            "k.name, v.claimed_status, v.privacy_status, v.views, l.sync_time, l.user_email, "
            "l.source, c.card_values FROM videos v "
            f"LEFT JOIN video_categories k ON k.id = v.category_id {LATEST} {CARDS} "
            f"WHERE {' AND '.join(where)} ORDER BY {key} DESC, {tie} DESC LIMIT %s",
            (*params, size + 1),
        )
        .fetchall()
    )
    return _render("videos", rows=rows[:size], more=len(rows) > size)


@app.get("/channels")
def channels():
    size = request.args.get("size", 50, type=int)
    rows = (
        _db()
        .execute(
            "SELECT c.name, c.channel_id, c.hidden, c.country, c.is_monetized, "
            "c.subscriber_count, c.view_count, s.video_count, s.total_views FROM channels c "
            "JOIN channel_stats s ON s.channel_id = c.id WHERE NOT c.hidden "
            "ORDER BY lower(c.name), c.id LIMIT %s",
            (size + 1,),
        )
        .fetchall()
    )
    return _render("channels", rows=rows[:size])


@app.get("/audit")
def audit():
    size = 50
    rows = (
        _db()
        .execute(
            "SELECT id, sync_time, user_email, source, entity_type, entity_key, video_title, "
            "channel_display_name, changes, batch_size FROM metadata_syncs "
            "WHERE batch_id IS NULL OR batch_size IS NOT NULL "
            "ORDER BY sync_time DESC, id DESC LIMIT %s",
            (size + 1,),
        )
        .fetchall()
    )
    return _render("audit", rows=rows[:size], more=len(rows) > size)


class CpuTime:
    """Adds the CPU time this worker spent on a request, up to its response's headers (the
    pages here are rendered whole before that), as CPU_HEADER in microseconds."""

    def __init__(self, wsgi):
        self.wsgi = wsgi

    def __call__(self, environ, start_response):
        started = time.thread_time()

        def timed_start(status, headers, exc_info=None):
            used = round((time.thread_time() - started) * 1_000_000)
            return start_response(status, [*headers, (CPU_HEADER, str(used))], exc_info)

        return self.wsgi(environ, timed_start)


def served(catalog_app):
    """Catalog with the reference pages under PREFIX, timed by CpuTime."""
    return CpuTime(DispatcherMiddleware(catalog_app, {PREFIX: app}))


def wsgi():
    """gunicorn's application factory: `tests.bench.reference:wsgi()`."""
    from catalog import create_app

    return served(create_app())
