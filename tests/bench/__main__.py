"""python -m tests.bench --videos N [--audit-rows M] [--rebuild]
[--only pages|lists|views|import|production|board|library|throughput] [--tasks T]
[--library-users U] [--viewers V] [--beacon-seconds S] [--throughput-seconds S]: see
tests/bench/__init__.py, tests/bench/production.py, tests/bench/board.py and
tests/bench/throughput.py."""

import argparse
import os
import sys
import time

from catalog.extensions import db
from tests.bench import (
    build,
    database,
    generate,
    importbench,
    library,
    lists,
    measure,
    production,
    report,
    throughput,
    views,
)
from tests.bench.database import BENCH_DIR, log, relative


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--videos", type=int, default=1_000_000, help="catalog size (N)")
    parser.add_argument(
        "--audit-rows",
        type=int,
        default=generate.DEFAULT_AUDIT_ROWS,
        help="audit log size (M rows of metadata_syncs over the N videos; default %(default)s)",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if one exists")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page")
    parser.add_argument(
        "--explain", action="store_true", help="print EXPLAIN ANALYZE of every page's SQL"
    )
    parser.add_argument(
        "--only",
        choices=(
            "pages",
            "lists",
            "views",
            "import",
            "production",
            "board",
            "library",
            "throughput",
        ),
        help="run only the page measurements, the list pages through HTTP (gunicorn, beside "
        "a reference page), saved views against their written-out URLs, the import "
        "benchmark, the production queue's (a database of its "
        "own, with the board's), the production board's alone, the library's or the "
        "throughput through HAProxy and gunicorn (default: all)",
    )
    parser.add_argument(
        "--throughput-seconds",
        type=float,
        default=5.0,
        help="throughput: seconds of each wrk run (default %(default)s)",
    )
    parser.add_argument(
        "--tasks",
        type=int,
        default=1_000_000,
        help="production tasks over 500 channels, 10%% queued (default %(default)s)",
    )
    parser.add_argument(
        "--library-users",
        type=int,
        default=10_000,
        help="library: viewers with progress on 20 videos each (default %(default)s)",
    )
    parser.add_argument(
        "--viewers", type=int, default=32, help="library: concurrent beacon senders"
    )
    parser.add_argument(
        "--beacon-seconds",
        type=float,
        default=20.0,
        help="library: how long beacons are sent, paced and then back to back",
    )
    parser.add_argument(
        "--beacon-rate",
        type=float,
        default=550.0,
        help="library: beacons per second offered in all in the paced run (default %(default)s)",
    )
    parser.add_argument(
        "--library-workers",
        type=int,
        default=0,
        help="library: gunicorn workers (default: two per core and one)",
    )
    parser.add_argument(
        "--keep-server", action="store_true", help="leave the bench PostgreSQL running"
    )
    args = parser.parse_args(argv)
    if args.videos < 100:
        parser.error("--videos must be at least 100")
    if args.audit_rows < 1000:
        parser.error("--audit-rows must be at least 1000")
    if args.tasks < 20_000:
        parser.error("--tasks must be at least 20000 (the claims need a queue of 2000)")
    if args.requests < 25:
        parser.error("--requests must be at least 25")
    if args.library_users < args.viewers or args.viewers < 1:
        parser.error("--library-users must be at least --viewers, and that at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = database.cluster()
    started = time.perf_counter()
    started_here = database.start(server)
    log(
        f"PostgreSQL at {relative(BENCH_DIR)} ({'started' if started_here else 'running'})", started
    )
    try:
        if args.only == "production":  # a database of its own: no video catalog to build
            return production.run(server, args.tasks, rebuild=args.rebuild)
        if args.only == "board":  # the production bench's database, the board alone
            return int(production.run_board(server, args.tasks, rebuild=args.rebuild))
        built = build.ensure(server, args.videos, args.audit_rows, rebuild=args.rebuild)
        status = 0
        if args.only in (None, "pages"):
            status = measure_pages(server, args, built)
        if args.only in (None, "lists"):
            status = lists.run(server, args, built) or status
        if args.only in (None, "views"):
            status = views.run(server, args, built) or status
        if args.only in (None, "library"):
            # Before the import benchmark, which needs the bench database free of connections.
            status = library.run(server, args, built) or status
        if args.only in (None, "throughput"):
            status = throughput.run(server, args, built) or status
        if args.only in (None, "import"):
            # The page measurements' connections are closed by now: the import benchmark
            # copies the bench database as a template, which needs it free.
            importbench.run(server, args.videos, built, results_file(args))
        if args.only is None:
            status = production.run(server, args.tasks, rebuild=args.rebuild) or status
        return status
    finally:
        if started_here and not args.keep_server:
            server.stop()
            log("PostgreSQL stopped")


def measure_pages(server, args: argparse.Namespace, built: dict) -> int:
    pg_version = database.server_version(server, built["database"])
    t0 = time.perf_counter()
    with database.connect(server, built["database"], autocommit=True) as conn:
        targets, facts = measure.targets(conn, built["stats"]["biggest_channel"]["id"])
        field_targets = measure.field_targets(conn, built["stats"])
        channel_targets = measure.channel_targets(conn)
        total_targets = measure.total_targets(conn, built["stats"])
        audit_targets, _ = measure.audit_targets(conn, built["stats"])
    log("Pages and the rows they must show, computed in SQL", t0)

    app = build.make_app(built["url"])
    # No app context is held around the requests: Flask would share it, and with it `g` and
    # the signed-in user, between them. Each request pushes its own, as in production.
    with app.app_context():
        engine = db.engine
    statements = measure.StatementLog(engine)
    client = app.test_client()
    try:
        login = measure.sign_in(client)
    except measure.NotReady as exc:
        log(f"The app cannot render the list yet: {exc}")
        return 2
    pager = measure.pager_check(client, facts["page_2_cursor"])
    load_before = os.getloadavg()[0]
    results = [timed(client, statements, target, args) for target in targets]
    field_results = [timed(client, statements, target, args) for target in field_targets]
    channel_results = [timed(client, statements, target, args) for target in channel_targets]
    total_results = [timed(client, statements, target, args) for target in total_targets]

    # The Changes page, signed in as an auditor (audit-read) in a client of its own.
    auditor = app.test_client()
    try:
        audit_login = measure.sign_in(auditor, build.AUDITOR, check="/audit")
    except measure.NotReady as exc:
        log(f"The app cannot render the Changes page yet: {exc}")
        return 2
    audit_results = [timed(auditor, statements, target, args) for target in audit_targets]
    statements.close()
    # Other work on the machine slows the app's Python down: the report says how busy it was.
    machine = (os.cpu_count() or 0, load_before, os.getloadavg()[0])

    search = next(r for r in results if r.target.name.startswith("search"))
    t0 = time.perf_counter()
    with database.connect(server, built["database"], autocommit=True) as conn:
        probes = measure.search_probe(engine, conn, search, measure.probe_terms(conn))
    log("Search probe", t0)

    text = report.render(
        results, videos=args.videos, build=built, pg_version=pg_version,
        requests=args.requests, warmup=args.warmup, login=login, pager=pager, probes=probes,
        audit_results=audit_results, audit_login=audit_login, machine=machine,
        field_results=field_results, channel_results=channel_results,
        total_results=total_results,
    )  # fmt: skip
    print()
    print(text)
    suffix = _suffix(args)
    out = results_file(args)
    out.write_text(text)
    log(f"Wrote {relative(out)}")

    # Plans of every page's statements go to a file; printed for pages that miss.
    missing = {id(r) for r, misses in report.verdicts(results) if misses}
    missing |= {id(r) for r, misses in report.verdicts(field_results, report.FIELD_GOALS) if misses}
    missing |= {
        id(r) for r, misses in report.verdicts(channel_results, report.CHANNEL_GOALS) if misses
    }
    missing |= {id(r) for r, misses in report.audit_verdicts(audit_results) if misses}
    missing |= {id(r) for r, misses in report.verdicts(total_results, report.TOTAL_GOALS) if misses}
    plans = []
    for result in (*results, *field_results, *channel_results, *total_results, *audit_results):
        t0 = time.perf_counter()
        plan = measure.explain(engine, result)
        log(f"EXPLAIN ANALYZE: {result.target.name}", t0)
        plans.append(plan)
        if args.explain or id(result) in missing:
            print(plan)
    plan_file = BENCH_DIR / f"explain-{args.videos}{suffix}.txt"
    plan_file.write_text("\n".join(plans))
    log(f"Wrote {relative(plan_file)} (EXPLAIN ANALYZE, BUFFERS of every page's SQL)")
    engine.dispose()
    everything = (*results, *field_results, *channel_results, *total_results, *audit_results)
    failed = [r for r in everything if r.error]
    for result in failed:
        log(f"FAILED: {result.target.name} ({result.target.path}): {result.error}")
    return 1 if failed else 0


def _suffix(args: argparse.Namespace) -> str:
    # The default audit log size keeps the file names of earlier runs.
    return "" if args.audit_rows == generate.DEFAULT_AUDIT_ROWS else f"-audit{args.audit_rows}"


def results_file(args: argparse.Namespace):
    return BENCH_DIR / f"results-{args.videos}{_suffix(args)}.md"


def timed(client, statements, target, args: argparse.Namespace) -> measure.Result:
    t0 = time.perf_counter()
    result = measure.run(client, statements, target, warmup=args.warmup, requests=args.requests)
    failure = f" -- FAILED: {result.error}" if result.error else ""
    log(
        f"{target.name}: median {result.median:.1f} ms, p95 {result.p95:.1f} ms, "
        f"{result.max_statements} statements{failure}",
        t0,
    )
    return result


if __name__ == "__main__":
    sys.exit(main())
