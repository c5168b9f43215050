"""Opening a saved view against the same list without one (`--only views`), and an edit in
place's save beside the edit form's (tests/bench/inplace.py).

The goal (issue 18): `/videos?view=<id>` costs no more than the URL of the same state
written out, one extra indexed look-up at most. Each pair is timed interleaved (plain,
view, plain, view…) in one process, so the machine's load falls on both alike; the report
gives medians, their ratio, CPU time per request (this process runs the app), and the
statements each sends. The views are made through the service, as the bench editor's, and
deleted afterwards."""

import statistics
import time
from urllib.parse import urlencode

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import SavedView, User
from catalog.saved_views import service
from tests.bench import build, database, inplace, measure
from tests.bench.database import BENCH_DIR, log, relative

# The goal's words: one extra indexed look-up at most, the view's by its primary key. The
# ratio of medians is printed beside it (that look-up's round trip is 0.6-0.8 ms of a 6 ms
# page: about 1.1x).
EXTRA_STATEMENTS = 1
LOOKUP = "WHERE saved_views.id ="


def _states(conn, biggest_channel: int) -> list[tuple[str, dict]]:
    (term,) = conn.execute(
        "SELECT split_part(title, ' ', 1) FROM videos WHERE title IS NOT NULL LIMIT 1"
    ).fetchone()
    return [
        ("channel + privacy", {"channel": biggest_channel, "privacy": "public"}),
        ("claim, by views", {"claim": "dispute", "sort": "views"}),
        ("search", {"q": term.lower()}),
        ("plain list", {}),
    ]


def _pair(client, statements, plain: str, viewed: str, warmup: int, requests: int) -> dict:
    figures = {
        url: {"ms": [], "cpu": [], "statements": [], "sql": [], "status": 200}
        for url in (plain, viewed)
    }
    for i in range(warmup + requests):
        for url in (plain, viewed) if i % 2 == 0 else (viewed, plain):
            statements.start()
            cpu, wall = time.process_time(), time.perf_counter()
            response = client.get(url)
            response.get_data()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            sql = [entry[0] for entry in statements.stop()]
            sent = len(sql)
            figures[url]["sql"] = sql
            if response.status_code != 200:
                figures[url]["status"] = response.status_code
            if i >= warmup:
                figures[url]["ms"].append(wall * 1000)
                figures[url]["cpu"].append(cpu * 1000)
                figures[url]["statements"].append(sent)
    return figures


def run(server, args, built: dict) -> int:
    """Time each state plain and as a saved view; print and return 1 on a miss."""
    with database.connect(server, built["database"], autocommit=True) as conn:
        states = _states(conn, built["stats"]["biggest_channel"]["id"])
    app = build.make_app(built["url"])
    with app.app_context():
        engine = db.engine
        owner = (
            db.session.scalars(select(User).where(User.email == build.LOGIN_EMAIL)).unique().one()
        )
        ids = []
        for name, args_ in states:
            view = service.create(
                owner, "videos", f"bench {name} {time.time_ns()}",
                {"args": dict(args_)}, actor=owner, source="cli",
            )  # fmt: skip
            ids.append(view.id)
        db.session.commit()
    statements = measure.StatementLog(engine)
    client = app.test_client()
    measure.sign_in(client)
    lines = [
        f"## Saved views: /videos?view=<id> against the same URL written out "
        f"({args.videos:,} videos, {args.requests} requests each, interleaved)",
        "",
        "| state | plain median ms | view median ms | ratio | plain CPU ms | view CPU ms "
        "| statements plain / view | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    misses = 0
    saves: list[str] = []
    try:
        for (name, state), view_id in zip(states, ids, strict=True):
            plain = "/videos?" + urlencode({"view": "none", **state})
            viewed = f"/videos?view={view_id}"
            t0 = time.perf_counter()
            figures = _pair(client, statements, plain, viewed, args.warmup, args.requests)
            p, v = figures[plain], figures[viewed]
            if p["status"] != 200 or v["status"] != 200:
                lines.append(
                    f"| {name} | HTTP {p['status']} | HTTP {v['status']} | | | | | FAILED |"
                )
                misses += 1
                continue
            pm, vm = statistics.median(p["ms"]), statistics.median(v["ms"])
            pc, vc = statistics.median(p["cpu"]), statistics.median(v["cpu"])
            ps, vs = max(p["statements"]), max(v["statements"])
            extra = [sql for sql in v["sql"] if sql not in p["sql"]]
            ok = vs - ps <= EXTRA_STATEMENTS and all(LOOKUP in sql for sql in extra)
            misses += not ok
            lines.append(
                f"| {name} | {pm:.1f} | {vm:.1f} | {vm / pm:.2f} | {pc:.1f} | {vc:.1f} "
                f"| {ps} / {vs} | {'meets' if ok else 'MISSES'} |"
            )
            log(f"views: {name}: plain {pm:.1f} ms, view {vm:.1f} ms", t0)
        # Edit in place, beside the edit form's save (tests/bench/inplace.py).
        t0 = time.perf_counter()
        with database.connect(server, built["database"], autocommit=True) as conn:
            saves, met = inplace.run(client, statements, conn, args)
        misses += not met
        log("views: edit in place against the edit form", t0)
    finally:
        statements.close()
        with app.app_context():
            for view_id in ids:
                view = db.session.get(SavedView, view_id)
                owner = db.session.get(User, view.owner_id)
                service.delete(view, actor=owner, source="cli")
            db.session.commit()
        engine.dispose()
    lines += [
        "",
        f"Goal: the same statements as the written-out URL and at most {EXTRA_STATEMENTS} more,"
        " the view's look-up by its primary key (the ratio is that look-up's cost).",
        "",
        *saves,
    ]
    print()
    print("\n".join(lines))
    out = BENCH_DIR / f"views-{args.videos}.md"
    out.write_text("\n".join(lines) + "\n")
    log(f"Wrote {relative(out)}")
    return 1 if misses else 0
