"""The benchmark's PostgreSQL: a private cluster under instance/bench, one database per N."""

import os
import time
from pathlib import Path

import psycopg

from catalog import ROOT
from catalog.pgserver import LocalPostgres

BENCH_DIR = ROOT / "instance" / "bench"
# A throwaway database on a 2-core / 24 GB machine: generous memory, no durability.
# wal_level=minimal lets the load skip WAL for tables truncated in the same transaction.
SETTINGS = {
    "shared_buffers": "'2GB'",
    "effective_cache_size": "'16GB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'1GB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_parallel_workers_per_gather": "2",
    "max_parallel_maintenance_workers": "2",
}
# Bumped whenever the generator changes what it produces: older databases are rebuilt,
# except those EXTENDABLE, whose core data (channels, videos, audit rows) is the same: the
# steps added since run on them in place (see build.ensure) and a new marker row says so.
# 3: --audit-rows M (the audit log sized on its own), 1-3 fields per change, batches.
# 4: custom fields (tests/bench/fields.py): a rating and a select field, values on most videos.
GENERATOR_VERSION = 6  # 6: audit rows chained (migration 0010), batch heads marked
EXTENDABLE = {3: ("custom_fields",)}
ROLE = "catalog"  # the app's role, which the bench connects as
MARKER_SCHEMA = "bench"  # outside `public`, so Alembic's comparisons never see it


def cluster() -> LocalPostgres:
    return LocalPostgres(BENCH_DIR, settings=SETTINGS)


def start(server: LocalPostgres) -> bool:
    """Start the cluster, initialising it on first use; True when this call started it."""
    if not server.initialized:
        server.init()
    if server.is_running():
        return False
    server.start()
    return True


def database_name(videos: int) -> str:
    return f"bench_{videos}"


def connect(server: LocalPostgres, database: str, *, autocommit: bool = False):
    return psycopg.connect(
        host=str(server.socket_dir),
        dbname=database,
        user=ROLE,
        autocommit=autocommit,
    )


def exists(server: LocalPostgres, database: str) -> bool:
    return bool(server.run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"))


def built(
    server: LocalPostgres, database: str, videos: int, audit_rows: int, fields_version: int
) -> tuple[dict | None, str]:
    """The build record of a database of this size whose core data this generator makes
    (else None), and why it cannot be reused when it cannot. The record's `pending` lists
    the steps still to run on it in place: those added since its generator, and the custom
    fields when their step has changed since (`fields_version`)."""
    if not exists(server, database):
        return None, "no such database"
    with connect(server, database, autocommit=True) as conn:
        present = conn.execute("SELECT to_regclass(%s)", (f"{MARKER_SCHEMA}.build",)).fetchone()
        if not present or present[0] is None:
            return None, "no build marker (an interrupted build?)"
        row = conn.execute(
            f"SELECT videos, generator_version, build_seconds, built_at, stats "
            f"FROM {MARKER_SCHEMA}.build ORDER BY built_at DESC LIMIT 1"
        ).fetchone()
    if not row:
        return None, "no build marker (an interrupted build?)"
    built_videos, version, build_seconds, built_at, stats = row
    # The marker's audit row count is the count found after the build (the load checks it
    # equals what was asked for); generator 2 and older had no --audit-rows.
    built_audit = stats.get("audit", {}).get("rows") if version >= 3 else None
    if version != GENERATOR_VERSION and version not in EXTENDABLE:
        return None, f"built by generator {version}, this is generator {GENERATOR_VERSION}"
    if built_videos != videos:
        return None, f"built with {built_videos:,} videos"
    if built_audit != audit_rows:
        return None, f"built with {built_audit:,} audit rows, {audit_rows:,} wanted"
    pending = list(EXTENDABLE.get(version, ()))
    if "custom_fields" not in pending and (
        stats.get("custom_fields", {}).get("version") != fields_version
    ):
        pending.append("custom_fields")
    record = {"build_seconds": build_seconds, "built_at": built_at, "stats": stats}
    return {**record, "generator_version": version, "pending": pending}, ""


def mark_built(conn, videos: int, build_seconds: float, stats: dict) -> None:
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MARKER_SCHEMA}.build ("
        "videos bigint NOT NULL, generator_version int NOT NULL, "
        "build_seconds double precision NOT NULL, built_at timestamptz NOT NULL DEFAULT now(), "
        "stats jsonb NOT NULL)"
    )
    conn.execute(
        f"INSERT INTO {MARKER_SCHEMA}.build (videos, generator_version, build_seconds, stats) "
        "VALUES (%s, %s, %s, %s)",
        (videos, GENERATOR_VERSION, build_seconds, psycopg.types.json.Jsonb(stats)),
    )


def server_version(server: LocalPostgres, database: str) -> str:
    return server.run_sql("SELECT version()", database)


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) a local process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log(message: str, started: float | None = None) -> None:
    suffix = f" ({time.perf_counter() - started:.1f} s)" if started is not None else ""
    print(f"[bench] {message}{suffix}", flush=True)


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)
