"""The production queue's benchmark (issue 14, section 6): `--only production --tasks N`.

- A database of its own, `bench_production_<N>` in the bench cluster (never the video
  bench's): 500 channels and N tasks, the backlog skewed (a task's channel is rank
  floor(500 * u^5) for a uniform u: the first 5 channels hold about 40 %, the first 50
  about 63 %), 10 % queued, the rest drafts, in production (waiting for a review or for a
  later stage's worker: none held, so the intake claims only queued work), in error or
  published;
  priorities 10 % high, 70 % normal, 20 % low; 25 channels (every 20th) paused at
  capacity 0, the others with room. A channel whose tasks went past the queue has had
  claims, as in a live queue: its turn in the round-robin (channel_queues.last_claim_seq)
  follows its latest such task. (Loaded directly, every channel looked never claimed, and
  each measured claim read the heads of some 270 never-claimed channels to order them by
  age: the cost of a queue's first round, which a live queue pays once per new channel.)
  Reused by later runs of the same N.
- Every measurement runs on a scratch copy (CREATE DATABASE ... TEMPLATE), dropped after,
  through the real service (`service.claim`: one statement that checks the worker, claims,
  writes the audit row and says whether a lease ran out) and a commit per claim, as a
  worker's call does:
  1. one claim at a time: median and p95 of the call and its commit; then, back to back,
     the CPU per claim of the claimer and of its backend (and of a SELECT 1 transaction),
     and the most claims a second the machine's cores could give at that cost;
  2. 16 claimer processes at once for a fixed time: claims per second in all, the CPU
     per claim of the claimers and of their backends, every claimed id checked to be
     claimed once, and the audit hash chain verified after them; beside it, in the same
     run, the same 16 processes committing a transaction of SELECT 1 through the same
     session, as this machine's ceiling (the goal is in claims a second, which a slower
     day of the machine moves: the share of the ceiling moves less);
  3. fairness over 10,000 claims in a row (at most half the queue, at small N): the
     largest gap between two claims of a channel with queued work, in rounds (claims in
     between / channels of that priority with work then), and Jain's index per priority
     of each channel's claims relative to its max-min fair share of that priority's claims
     (a channel with little work is not counted short once it has none left);
  4. the server's own ceiling for claims: the claim statement from 16 pgbench connections
     (PostgreSQL's C client: no Python, no SQLAlchemy), each claim a transaction, on a
     fresh copy; and the same with the audit chain's triggers disabled on that copy, which
     says what placing each claim's audit row in the hash chain costs the server;
  5. EXPLAIN (ANALYZE, BUFFERS) of the claim statement.
"""

import itertools
import math
import multiprocessing
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import flask_migrate
from sqlalchemy import create_engine, select, text

from catalog import create_app
from catalog.changes import integrity
from catalog.extensions import db
from catalog.models import PipelineWorker
from catalog.pgserver import APP_ROLE, LocalPostgres
from catalog.production import claim as claims
from catalog.production import service
from catalog.web import db_retry
from tests.bench import board, database
from tests.bench.database import BENCH_DIR, log, relative

CHANNELS = 500
CLAIMERS = 16
SINGLE_CLAIMS = 500
CONCURRENT_SECONDS = 10.0
FAIRNESS_CLAIMS = 10_000
SCRATCH = "bench_production_scratch"
# Bumped when the generated data changes; 5: migration 0023 (tasks chained at commit, one
# counting trigger per event, the age index by priority); 6: migration 0029 (the chain step
# at commit), the visibility map set by the build's VACUUM; 7: migration 0030 (the board's
# channel menu versioned); 8: the channels' claim history (last_claim_seq).
VERSION = 8
GOALS = {"median_ms": 5.0, "p95_ms": 15.0, "claims_per_second": 1000.0, "gap_rounds": 1.0}
CONTEXT = multiprocessing.get_context("fork")

LOAD = """
SELECT setseed(0.42);
INSERT INTO channels (channel_id, name, country, production_capacity)
SELECT 'UCbenchprod' || lpad(n::text, 12, '0'), 'Production channel ' || n, 'US',
       CASE WHEN n % 20 = 0 THEN 0 ELSE 1000000000 END
FROM generate_series(1, {channels}) AS n;
CREATE TEMP TABLE bench_ranks AS
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS rank FROM channels
  WHERE channel_id LIKE 'UCbenchprod%';
INSERT INTO tasks (channel_id, notion_page_id, title, status, priority, created_at,
                   status_changed_at)
SELECT r.id, md5('bench-task-' || g.n), 'Bench task ' || g.n, g.status::task_status,
       g.priority::task_priority, g.created_at, g.created_at
FROM (
  SELECT n,
    floor({channels} * power(random(), 5))::int AS rank,
    CASE WHEN s < 0.10 THEN 'draft' WHEN s < 0.20 THEN 'queued'
         WHEN s < 0.25 THEN (ARRAY['assets_ready', 'assets_approved', 'composites_ready',
                                   'video_ready', 'audio_approved', 'final_review'])
                            [1 + floor(random() * 6)::int]
         WHEN s < 0.28 THEN 'asset_error' ELSE 'published' END AS status,
    CASE WHEN p < 0.10 THEN 'high' WHEN p < 0.80 THEN 'normal' ELSE 'low' END AS priority,
    now() - make_interval(secs => 365 * 86400 * (1 - n::float8 / {tasks})) AS created_at
  FROM (SELECT n, random() AS s, random() AS p FROM generate_series(1, {tasks}) AS n) AS u
) AS g JOIN bench_ranks r ON r.rank = g.rank;
UPDATE channel_queues q SET last_claim_seq = turns.seq
FROM (
  SELECT channel_id, nextval('channel_claim_seq') AS seq
  FROM (SELECT channel_id, max(status_changed_at) AS latest FROM tasks
        WHERE status NOT IN ('draft', 'queued') GROUP BY channel_id ORDER BY latest) AS worked
) AS turns
WHERE q.channel_id = turns.channel_id;
"""


def database_name(tasks: int) -> str:
    return f"bench_production_{tasks}"


def ensure(server: LocalPostgres, tasks: int, *, rebuild: bool) -> str:
    """The bench database of `tasks` tasks, built unless a build of this version exists."""
    name = database_name(tasks)
    if not rebuild and database.exists(server, name):
        with database.connect(server, name, autocommit=True) as conn:
            marker = conn.execute("SELECT to_regclass('bench.production')").fetchone()[0]
            if (
                marker
                and conn.execute(
                    "SELECT 1 FROM bench.production WHERE tasks = %s AND version = %s",
                    (tasks, VERSION),
                ).fetchone()
            ):
                log(f"Reusing {name}")
                return name
    log(f"Building {name}: {CHANNELS} channels, {tasks:,} tasks")
    started = time.perf_counter()
    server.drop_database(name)
    server.create_database(name, owner=database.ROLE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.url(name)})
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()
    with database.connect(server, name, autocommit=True) as conn:
        for statement in LOAD.format(channels=CHANNELS, tasks=tasks).split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(
            "INSERT INTO pipeline_workers (name, token_hash, stages) "
            "SELECT 'bench-claimer-' || n, md5('bench-claimer-' || n) || md5('x' || n), "
            "ARRAY['assets'] FROM generate_series(1, %s) AS n",
            (CLAIMERS,),
        )
        _vacuum(conn)
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute("CREATE TABLE IF NOT EXISTS bench.production (tasks bigint, version int)")
        conn.execute("INSERT INTO bench.production VALUES (%s, %s)", (tasks, VERSION))
    log(f"Built {name}", started)
    return name


def _vacuum(conn) -> None:
    """VACUUM ANALYZE, and say how much of `tasks` the visibility map covers. VACUUM marks a
    page all-visible only once its rows' inserting commits are flushed to the WAL, which the
    cluster's synchronous_commit = off leaves to the WAL writer: run right after the load,
    it left the map empty (0 of 16,394 pages at a million tasks) and every index-only read
    of the benches went to the heap, unlike a live database, whose unchanged pages
    autovacuum marks. A commit made with synchronous_commit on flushes the WAL first."""
    conn.execute("SET synchronous_commit = on")
    conn.execute("CREATE TEMP TABLE bench_flush (x int)")  # a commit that writes
    conn.execute("DROP TABLE bench_flush")
    conn.execute("VACUUM ANALYZE")
    pages, visible = conn.execute(
        "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'tasks'"
    ).fetchone()
    log(f"Vacuumed: {visible:,} of {pages:,} pages of tasks all-visible")


def _scratch(server: LocalPostgres, source: str) -> str:
    server.drop_database(SCRATCH)
    server.run_sql(f"CREATE DATABASE {SCRATCH} TEMPLATE {source}")
    return server.url(SCRATCH)


def _app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def _workers(count: int) -> list[PipelineWorker]:
    return db.session.scalars(
        select(PipelineWorker).where(PipelineWorker.name.like("bench-claimer-%"))
        .order_by(PipelineWorker.id).limit(count)
    ).all()  # fmt: skip


def _claim(worker) -> tuple[int, int] | None:
    """One worker's claim, committed: (task id, channel id) or None."""

    def work():
        task = service.claim("assets", worker=worker, source="api")
        return (task.id, task.channel_id) if task else None

    return db_retry.run_in_transaction(work)


def single_claims(url: str) -> dict:
    app = _app(url)
    timings = []
    with app.app_context():
        worker = _workers(1)[0]
        for _ in range(20):  # warm-up: connection, plans
            _claim(worker)
        round_trips = []
        for _ in range(SINGLE_CLAIMS):
            t0 = time.perf_counter()
            claimed = _claim(worker)
            timings.append((time.perf_counter() - t0) * 1000)
            assert claimed is not None, "the queue ran dry"
            # The machine's own pace: a bare round trip to the server, between claims.
            t0 = time.perf_counter()
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
            round_trips.append((time.perf_counter() - t0) * 1000)
        # The claim statement alone (claim.py's SQL with its audit row; its commit untimed).
        statement = []
        worker_id = worker.id
        for _ in range(SINGLE_CLAIMS):
            t0 = time.perf_counter()
            claimed = claims.claim_next("assets", worker_id, 300, "api")
            statement.append((time.perf_counter() - t0) * 1000)
            db.session.commit()
            assert claimed.id is not None, "the queue ran dry"
        cpu = {name: _cpu_per_call(work, worker) for name, work in CPU_WORK}
        db.engine.dispose()
    timings.sort()
    statement.sort()
    return {
        "cpu": cpu,
        "statement_median_ms": statistics.median(statement),
        "statement_p95_ms": statement[int(len(statement) * 0.95) - 1],
        "round_trip_ms": statistics.median(round_trips),
        "load": os.getloadavg(),
        "claims": len(timings),
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "max_ms": timings[-1],
    }


def _cpu_per_call(work, worker) -> tuple[float, float]:
    """(client, backend) CPU ms per call of `work`, one process calling it back to back:
    what one claim costs each side with nothing else competing for the cores."""
    backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.rollback()
    client, server = time.process_time(), database.cpu_seconds(backend)
    for _ in range(CPU_CALLS):
        work(worker)
    client, server = time.process_time() - client, database.cpu_seconds(backend) - server
    return 1000 * client / CPU_CALLS, 1000 * server / CPU_CALLS


def _trivial(worker) -> tuple[int, int]:
    """The reference's unit of work: a transaction of one trivial statement (SELECT 1), run
    and committed as a claim is (the same session, db_retry and commit). Its "task" is a
    number unique to the call, so that no double claim is counted."""
    db_retry.run_in_transaction(lambda: db.session.scalar(TRIVIAL))
    return ((os.getpid() << 32) + next(_CALLS), 0)


TRIVIAL = text("SELECT 1")
_CALLS = itertools.count()
# One claimer's CPU per call, back to back: enough calls for the backend's CPU, which the
# kernel counts in ticks of 10 ms, to be read to a few percent.
CPU_CALLS = 1000
CPU_WORK = (("claim", _claim), ("trivial", _trivial))


def _claimer(url: str, name: str, start_at: float, results, work=_claim) -> None:
    app = _app(url)
    got = []
    with app.app_context():
        worker = db.session.scalars(select(PipelineWorker).where(PipelineWorker.name == name)).one()
        work(worker)  # connected and planned before the clock starts
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.rollback()
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + CONCURRENT_SECONDS
        cpu, server_cpu = time.process_time(), database.cpu_seconds(backend)
        while time.time() < end:
            claimed = work(worker)
            if claimed:
                got.append(claimed[0])
        cpu, server_cpu = time.process_time() - cpu, database.cpu_seconds(backend) - server_cpu
        db.engine.dispose()
    results.put((got, cpu, server_cpu))


def _sample_waits(url: str, stop: threading.Event, seen: Counter) -> None:
    """What the claimers' backends are doing, sampled every 5 ms: a wait event (a lock, a
    transaction id...), running on a CPU, or waiting for their client (ClientRead)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        while not stop.is_set():
            for state, kind, event_ in conn.execute(text("""
                SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND backend_type = 'client backend'
            """)):  # fmt: skip
                seen[f"{kind}:{event_}" if kind else f"running ({state})"] += 1
            conn.rollback()
            stop.wait(0.005)
    engine.dispose()


def concurrent_claims(url: str, work=_claim) -> dict:
    """CLAIMERS processes claiming (`work`) for CONCURRENT_SECONDS, started together."""
    app = _app(url)
    with app.app_context():
        names = [worker.name for worker in _workers(CLAIMERS)]
        db.engine.dispose()
    results = CONTEXT.Queue()
    start_at = time.time() + 5.0  # every process started and connected by then
    processes = [
        CONTEXT.Process(target=_claimer, args=(url, name, start_at, results, work))
        for name in names
    ]
    for process in processes:
        process.start()
    waits: Counter = Counter()
    stop = threading.Event()
    while time.time() < start_at:
        time.sleep(0.01)
    sampler = threading.Thread(target=_sample_waits, args=(url, stop, waits))
    sampler.start()
    answers = [results.get(timeout=120) for _ in processes]
    stop.set()
    sampler.join()
    for process in processes:
        process.join()
    ids = [task_id for got, _, _ in answers for task_id in got]
    doubles = len(ids) - len(set(ids))
    # Every claim's audit row placed in the hash chain at its commit, the chain unbroken.
    with app.app_context():
        verdict = integrity.verify()
        db.engine.dispose()
    samples = sum(waits.values()) or 1
    return {
        "claimers": len(names),
        "seconds": CONCURRENT_SECONDS,
        "claims": len(ids),
        "claims_per_second": len(ids) / CONCURRENT_SECONDS,
        "double_claims": doubles,
        # CPU per claim: the claimers' own (Python, SQLAlchemy) and their backends'.
        "client_cpu_ms": 1000 * sum(cpu for _, cpu, _ in answers) / max(len(ids), 1),
        "server_cpu_ms": 1000 * sum(server for _, _, server in answers) / max(len(ids), 1),
        "waits": [(name, n / samples) for name, n in waits.most_common(6)],
        "chain": verdict,
    }


def server_claims(server: LocalPostgres, source: str, *, chain: bool = True) -> float:
    """Claims a second that the server gives on its own: the intake's claim statement (as
    service.claim sends it) from CLAIMERS pgbench connections for CONCURRENT_SECONDS on a
    fresh copy, each claim a transaction of its own (BEGIN, the claim, COMMIT), the worker
    one of the CLAIMERS bench workers at random. pgbench spends next to no CPU of its own:
    what is left of the cores is the server's. Without `chain`, the audit triggers that
    place each row in the hash chain are disabled on the copy (the rows stay unplaced)."""
    _scratch(server, source)
    if not chain:
        server.run_sql("ALTER TABLE metadata_syncs DISABLE TRIGGER USER", database=SCRATCH)
    first, last = server.run_sql(
        "SELECT min(id) || ' ' || max(id) FROM pipeline_workers "
        "WHERE name LIKE 'bench-claimer-%'", database=SCRATCH,
    ).split()  # fmt: skip
    statement = claims.STATEMENTS["assets"].element.text
    for name, value in (("lease", "300"), ("source", "'api'")):
        statement = statement.replace(f":{name}", value)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="claim-") as script:
        script.write(f"\\set worker random({first}, {last})\nBEGIN;\n{statement};\nCOMMIT;\n")
        script.flush()
        done = subprocess.run(  # noqa: S603  (the cluster's own pgbench, fixed arguments)
            [
                str(server.bindir / "pgbench"), "-n", "-M", "prepared", "-h",
                str(server.socket_dir), "-U", APP_ROLE, "-c", str(CLAIMERS), "-j",
                str(CLAIMERS), "-T", str(int(CONCURRENT_SECONDS)), "-f", script.name, SCRATCH,
            ],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    if "failed transactions: 0 " not in done.stdout:
        raise RuntimeError(f"pgbench's claims failed:\n{done.stdout}\n{done.stderr}")
    return float(re.search(r"^tps = ([0-9.]+)", done.stdout, re.MULTILINE).group(1))


def fairness(url: str, count: int) -> dict:
    """`count` claims in a row; gaps in rounds and Jain's index, per priority tier."""
    app = _app(url)
    with app.app_context():
        # Each eligible channel's queued tasks by priority, before the claims.
        backlog = {
            (channel, priority): count
            for channel, priority, count in db.session.execute(text("""
                SELECT t.channel_id, t.priority::text, count(*) FROM tasks t
                JOIN channels c ON c.id = t.channel_id
                WHERE t.status = 'queued' AND c.production_capacity > 0
                GROUP BY 1, 2
            """))
        }  # fmt: skip
        priority_of = {}
        worker = _workers(1)[0]
        order = []
        for _ in range(count):
            claimed = _claim(worker)
            if claimed is None:
                break
            order.append(claimed)
        for task_id, priority in db.session.execute(
            text("SELECT id, priority::text FROM tasks WHERE id = ANY(:ids)"),
            {"ids": [task_id for task_id, _ in order]},
        ):
            priority_of[task_id] = priority
        db.engine.dispose()
    left = dict(backlog)
    # (channel, priority) -> (position of its last claim, channels of that priority with
    # work then): between two claims, every other one of those may be served once.
    last: dict[tuple[int, str], tuple[int, int]] = {}
    worst = 0.0
    worst_at = None
    tiers = Counter()
    for position, (task_id, channel) in enumerate(order):
        priority = priority_of[task_id]
        tiers[priority] += 1
        key = (channel, priority)
        if key in last and last[key][1]:
            before, with_work = last[key]
            gap = (position - before) / with_work
            if gap > worst:
                worst, worst_at = gap, position
        with_work = sum(1 for (_, p), n in left.items() if p == priority and n > 0)
        last[key] = (position, with_work)
        left[key] = left.get(key, 0) - 1
    # Jain's index per priority tier, against each channel's max-min fair share of the
    # tier's claims: with K claims of a tier and channels wanting d_c of them (their
    # queued work of that priority before the run), the fair share is min(d_c, L) for
    # the level L at which the shares add up to K (water-filling). A channel that ran out
    # of work is not counted short for it, and every channel with work counts (not only
    # those still holding work after the run, of which the high tier has none at all).
    jain = {}
    for priority, claimed in tiers.items():
        demand = {c: n for (c, p), n in backlog.items() if p == priority and n > 0}
        served = Counter(channel for task_id, channel in order if priority_of[task_id] == priority)
        share = fair_shares(demand, claimed)
        ratios = [served[c] / share[c] for c in demand if share[c] > 0]
        jain[priority] = {
            "index": sum(ratios) ** 2 / (len(ratios) * sum(x * x for x in ratios)),
            "channels": len(ratios),
            "claims": claimed,
        }
    tier = tiers.most_common(1)[0][0]
    return {
        "claims": len(order),
        "tiers": dict(tiers),
        "gap_rounds": worst,
        "gap_at": worst_at,
        "jain_tier": tier,
        "jain_channels": jain[tier]["channels"],
        "jain": jain[tier]["index"],
        "jain_by_tier": jain,
        "channels_served": len({channel for _, channel in order}),
    }


def fair_shares(demand: dict[int, int], claims: int) -> dict[int, float]:
    """Each channel's max-min fair share of `claims` given what it wants (`demand`): the
    level L with sum(min(d, L)) == claims, each channel getting min(d, L)."""
    level, left, wanting = 0.0, float(claims), sorted(demand.values())
    for i, want in enumerate(wanting):
        even = left / (len(wanting) - i)
        if want >= even:
            level = even
            break
        left -= want
    else:
        level = float(wanting[-1]) if wanting else 0.0
    return {channel: min(want, level) for channel, want in demand.items()}


def explain(url: str) -> str:
    app = _app(url)
    with app.app_context():
        worker_id = _workers(1)[0].id
        rows = db.session.execute(
            text("EXPLAIN (ANALYZE, BUFFERS) " + claims.INTAKE.text),
            {"worker": worker_id, "lease": 300},
        ).scalars()
        plan = "\n".join(rows)
        db.session.rollback()
        db.engine.dispose()
    return plan


def run(server: LocalPostgres, tasks: int, *, rebuild: bool = False) -> int:
    source = ensure(server, tasks, rebuild=rebuild)
    try:
        # Each measurement on a fresh copy: each starts with the whole queue.
        t0 = time.perf_counter()
        single = single_claims(_scratch(server, source))
        log(f"One claim: median {single['median_ms']:.2f} ms, p95 {single['p95_ms']:.2f} ms", t0)
        t0 = time.perf_counter()
        together = concurrent_claims(_scratch(server, source))
        log(
            f"{together['claimers']} claimers: {together['claims_per_second']:.0f} claims/s, "
            f"{together['double_claims']} double claims",
            t0,
        )
        # The machine's ceiling for this, in the same run: the same clients committing a
        # transaction of SELECT 1 (the goal is absolute; this day's machine may be slower).
        t0 = time.perf_counter()
        ceiling = concurrent_claims(_scratch(server, source), work=_trivial)
        log(f"{ceiling['claimers']} clients, SELECT 1: {ceiling['claims_per_second']:.0f}/s", t0)
        t0 = time.perf_counter()
        alone = {"chained": server_claims(server, source), "unchained": 0.0}
        alone["unchained"] = server_claims(server, source, chain=False)
        log(f"The server alone (pgbench): {alone['chained']:.0f} claims/s; "
            f"{alone['unchained']:.0f}/s without the chain", t0)  # fmt: skip
        t0 = time.perf_counter()
        url = _scratch(server, source)
        plan = explain(url)  # a whole queue's plan (its claim is rolled back)
        # Half the queue at most, so that some channels have work throughout.
        fair = fairness(url, min(FAIRNESS_CLAIMS, tasks // 20))
        log(f"Fairness: largest gap {fair['gap_rounds']:.2f} rounds, Jain {fair['jain']:.4f}", t0)
    finally:
        server.drop_database(SCRATCH)
    text_ = render(tasks, single, together, ceiling, alone, fair, plan)
    print()
    print(text_)
    out = BENCH_DIR / f"results-production-{tasks}.md"
    out.write_text(text_)
    log(f"Wrote {relative(Path(out))}")
    board_missed = run_board(server, tasks, rebuild=False)
    missed = board_missed or (
        single["median_ms"] > GOALS["median_ms"]
        or single["p95_ms"] > GOALS["p95_ms"]
        or together["claims_per_second"] < GOALS["claims_per_second"]
        or together["double_claims"]
        or together["chain"].broken_at is not None
        or fair["gap_rounds"] > GOALS["gap_rounds"]
    )
    return 1 if missed else 0


def run_board(server: LocalPostgres, tasks: int, *, rebuild: bool = False) -> bool:
    """The board's benchmark (tests/bench/board.py) on a fresh copy; whether it missed a goal.
    Its report goes to results-board-N.md."""
    source = ensure(server, tasks, rebuild=rebuild)
    try:
        text_, missed = board.run(server, _scratch(server, source), tasks)
    finally:
        server.drop_database(SCRATCH)
    print()
    print(text_)
    out = BENCH_DIR / f"results-board-{tasks}.md"
    out.write_text(text_)
    log(f"Wrote {relative(Path(out))}")
    return missed


def _waits(waits: list) -> str:
    return "; ".join(f"{name} {share:.0%}" for name, share in waits)


def _tiers(jain: dict) -> str:
    # Fewer claims than channels with work: a partial round, whose index is at most
    # claims / channels even when served in perfect turn.
    return "; ".join(
        f"{p} {j['index']:.4f} ({j['channels']}, {j['claims']:,}"
        + (
            f"; a partial round: at most {j['claims'] / j['channels']:.4f}"
            if j["claims"] < j["channels"]
            else ""
        )
        + ")"
        for p, j in jain.items()
    )


def _bound(single: dict, parts: int) -> float:
    """Claims a second that all the cores could give at one claimer's CPU per claim: its
    backend's alone (parts=1), or with the claimer's own (parts=2)."""
    client, backend = single["cpu"]["claim"]
    used = (backend if parts == 1 else client + backend) or math.nan
    return 1000 * (os.cpu_count() or 1) / used


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def render(
    tasks: int, single: dict, together: dict, ceiling: dict, alone: dict, fair: dict, plan: str
) -> str:
    queued = tasks // 10
    return f"""# Production queue benchmark: {tasks:,} tasks, {CHANNELS} channels, ~{queued:,} queued

| measure | value | goal | |
|---|---|---|---|
| one claim (service call + commit), median | {single["median_ms"]:.2f} ms | <= {GOALS["median_ms"]} ms | {_verdict(single["median_ms"] <= GOALS["median_ms"])} |
| one claim, p95 | {single["p95_ms"]:.2f} ms | <= {GOALS["p95_ms"]} ms | {_verdict(single["p95_ms"] <= GOALS["p95_ms"])} |
| one claim, max | {single["max_ms"]:.2f} ms | | |
| the claim statement alone (with its audit row; no service, no commit), median / p95 | {single["statement_median_ms"]:.2f} / {single["statement_p95_ms"]:.2f} ms | | |
| a bare round trip (SELECT 1), median, between the claims | {single["round_trip_ms"]:.2f} ms | | |
| one claimer alone, back to back: CPU per claim, the claimer's (Python) / its backend's; the same for a transaction of `SELECT 1` | {single["cpu"]["claim"][0]:.2f} / {single["cpu"]["claim"][1]:.2f} ms; {single["cpu"]["trivial"][0]:.2f} / {single["cpu"]["trivial"][1]:.2f} ms | | |
| the most claims a second {os.cpu_count()} cores could give at that CPU per claim, with no claimer at all (cores / the backend's CPU per claim) and with these claimers (cores / both) | {_bound(single, 1):.0f}/s; {_bound(single, 2):.0f}/s | | |
| {together["claimers"]} concurrent claimers, {together["seconds"]:.0f} s | {together["claims_per_second"]:.0f} claims/s ({together["claims"]:,} claims) | >= {GOALS["claims_per_second"]:.0f}/s | {_verdict(together["claims_per_second"] >= GOALS["claims_per_second"])} |
| the same {ceiling["claimers"]} clients committing `SELECT 1` instead (this machine's ceiling for a one-statement transaction through the same session and commit, in the same run); claims as a share of it | {ceiling["claims_per_second"]:.0f}/s; {together["claims_per_second"] / ceiling["claims_per_second"]:.0%} | | |
| the claim statement from {CLAIMERS} pgbench connections (C: no Python client to share the cores with), a transaction each: the server's own ceiling for claims; claims as a share of it | {alone["chained"]:.0f}/s; {together["claims_per_second"] / alone["chained"]:.0%} | | |
| the same with the audit chain's triggers disabled on the copy (rows left unplaced): what placing each claim's row in the hash chain costs the server | {alone["unchained"]:.0f}/s; the chain takes {1 - alone["chained"] / alone["unchained"]:.0%} of it | | |
| double claims | {together["double_claims"]} | 0 | {_verdict(not together["double_claims"])} |
| the audit chain after them (`flask audit verify`) | {together["chain"].checked:,} rows checked, {together["chain"].reason or "unbroken"} | unbroken | {_verdict(together["chain"].broken_at is None)} |
| CPU per claim with {together["claimers"]} claimers: the claimers' (Python) / their backends' | {together["client_cpu_ms"]:.2f} / {together["server_cpu_ms"]:.2f} ms | | |
| fairness over {fair["claims"]:,} claims: largest gap of a channel with work | {fair["gap_rounds"]:.2f} rounds (at claim {fair["gap_at"]}) | <= 1 round | {_verdict(fair["gap_rounds"] <= GOALS["gap_rounds"])} |
| Jain's index of the {fair["jain_tier"]} priority's claims against each channel's max-min fair share, {fair["jain_channels"]} channels with such work | {fair["jain"]:.4f} | 1 is perfect | |

Claims by priority: {fair["tiers"]}; channels served: {fair["channels_served"]}.
Jain's index by priority (index, channels with work, claims): {_tiers(fair["jain_by_tier"])}.
Load average during the single claims: {" / ".join(f"{x:.1f}" for x in single["load"])} on
{os.cpu_count()} cores (other work on the machine slows every figure above; the bare round
trip shows by how much).

What the claimers' backends were doing (pg_stat_activity sampled every 5 ms; ClientRead is
waiting for the claimer's next statement): {_waits(together["waits"])}.

## The claim statement (EXPLAIN ANALYZE, BUFFERS)

```
{plan}
```
"""  # noqa: E501
