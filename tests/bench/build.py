"""Create (or reuse) the benchmark database: migrations, bench users, generated data."""

import time

import flask_migrate
from flask_security import hash_password
from sqlalchemy import select

from catalog import create_app
from catalog.extensions import db, security
from catalog.models import User
from catalog.pgserver import LocalPostgres
from tests.bench import database, fields, generate
from tests.bench.database import log

PASSWORD = "bench-password-not-secret"
# The first signs in for the list pages; all of them (and the importer) appear as the
# authors of the generated audit rows, the first most often.
EDITORS = (
    "bench-editor@example.com",
    "alice.bench@example.com",
    "bob.bench@example.com",
    "carol.bench@example.com",
    "dave.bench@example.com",
    "erin.bench@example.com",
    "frank.bench@example.com",
)
WORKER = "importer.bench@example.com"
# Signs in for the Changes page (the `auditor` role: audit-read, no editing); writes nothing.
AUDITOR = "bench-auditor@example.com"
LOGIN_EMAIL = EDITORS[0]
ROLES = {**dict.fromkeys((*EDITORS, WORKER), "editor"), AUDITOR: "auditor"}


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def migrate_and_seed_users(url: str) -> tuple[list[generate.BenchUser], generate.BenchUser]:
    """Run the real migrations, then make the bench users through Flask-Security."""
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        for email, role in ROLES.items():
            if not security.datastore.find_user(email=email):
                security.datastore.create_user(
                    email=email, password=hash_password(PASSWORD), roles=[role]
                )
        db.session.commit()
        rows = db.session.execute(
            select(User.id, User.email).where(User.email.in_((*EDITORS, WORKER)))
        ).all()
        ids = {email: user_id for user_id, email in rows}
        db.session.remove()
        db.engine.dispose()
    editors = [generate.BenchUser(ids[email], email) for email in EDITORS]
    return editors, generate.BenchUser(ids[WORKER], WORKER)


def ensure(server: LocalPostgres, videos: int, audit_rows: int, *, rebuild: bool) -> dict:
    """A fully built bench database for `videos` and `audit_rows`; returns its build record.

    One database per N: built for another audit row count (or by another generator), it is
    rebuilt, since the videos' `version` and `updated_at` follow from their audit rows.
    """
    name = database.database_name(videos)
    url = server.url(name)
    record, why_not = (
        (None, "--rebuild")
        if rebuild
        else database.built(server, name, videos, audit_rows, fields.FIELDS_VERSION)
    )
    if not record and database.exists(server, name):
        log(f"Database {name} cannot be reused: {why_not}")
    if record:
        first_built = record["stats"].get("first_built_at")
        first_built = first_built or f"{record['built_at']:%Y-%m-%d %H:%M}"
        log(
            f"Reusing database {name} (built {first_built[:16]} UTC "
            f"in {record['build_seconds']:.0f} s"
            + "".join(
                f", extended by {', '.join(e['steps'])} in {e['seconds']:.0f} s"
                for e in record["stats"].get("extensions", [])
            )
            + ")"
        )
        # Migrations added since the build still apply (a no-op when at head); their time
        # (a new index over ten million rows takes a while) is reported.
        t0 = time.perf_counter()
        migrate_and_seed_users(url)
        migrated = time.perf_counter() - t0
        log("Migrations since the build (flask_migrate.upgrade)", t0)
        if record["pending"]:
            record = extend(server, name, videos, record)
        return {
            **record,
            "reused": True,
            "migrated_seconds": migrated,
            "database": name,
            "url": url,
        }

    log(f"Building database {name} with {videos:,} videos and {audit_rows:,} audit rows")
    started = time.perf_counter()
    if database.exists(server, name):
        server.drop_database(name)
    # One role, as before the split (migration 0013 then grants nothing): the bench loads
    # and tunes its data with DDL, and measures queries, not privileges.
    server.create_database(name, owner=database.ROLE)
    t0 = time.perf_counter()
    editors, worker = migrate_and_seed_users(url)
    log("Migrations (flask_migrate.upgrade) and bench users", t0)
    migrations = time.perf_counter() - t0

    def connect():
        return database.connect(server, name, autocommit=True)

    with database.connect(server, name) as conn:
        t0 = time.perf_counter()
        loaded = generate.load(conn, videos, audit_rows, editors, worker)
        log("Data loaded", t0)
    timings = {"migrations": migrations, **loaded["timings"]}
    t0 = time.perf_counter()
    index_timings = generate.recreate(connect, loaded["deferred"])
    timings["indexes"] = time.perf_counter() - t0
    log("Indexes and foreign keys recreated", t0)
    with database.connect(server, name) as conn:
        t0 = time.perf_counter()
        fields.load(conn)
        timings["custom_fields"] = time.perf_counter() - t0
        log("Custom fields and their values", t0)
    t0 = time.perf_counter()
    generate.vacuum_analyze(connect)
    fields.vacuum_analyze(connect)  # checks the value table is all-visible, else again
    timings["vacuum_analyze"] = time.perf_counter() - t0
    log("VACUUM ANALYZE", t0)
    with connect() as conn:
        t0 = time.perf_counter()
        described = generate.describe(conn)
        described["custom_fields"] = fields.describe(conn)
        log("Data described (counts and checksum)", t0)
        timings["describe"] = time.perf_counter() - t0
        stats = {**described, "timings": timings, "index_timings": index_timings}
        build_seconds = time.perf_counter() - started
        database.mark_built(conn, videos, build_seconds, stats)
    log(f"Built {name}", started)
    return {
        "build_seconds": build_seconds,
        "stats": stats,
        "reused": False,
        "database": name,
        "url": url,
    }


def extend(server: LocalPostgres, name: str, videos: int, record: dict) -> dict:
    """Run the steps a reusable database still lacks (record["pending"]) in place, then
    record it in a new marker row: the same core data, this generator's version, the
    original build time, and what the extension took."""
    pending = record["pending"]
    log(
        f"Extending database {name} (generator {record['generator_version']} -> "
        f"{database.GENERATOR_VERSION}): {', '.join(pending)}"
    )
    started = time.perf_counter()
    stats = dict(record["stats"])
    stats.setdefault("first_built_at", f"{record['built_at']:%Y-%m-%d %H:%M}")
    timings = {}

    def connect():
        return database.connect(server, name, autocommit=True)

    for step in pending:
        if step != "custom_fields":
            raise RuntimeError(f"Unknown extension step {step!r}")
        with database.connect(server, name) as conn:
            t0 = time.perf_counter()
            timings |= fields.load(conn)
            log("Custom fields and their values", t0)
        t0 = time.perf_counter()
        fields.vacuum_analyze(connect)
        timings["vacuum_analyze"] = time.perf_counter() - t0
        log("VACUUM ANALYZE of the custom-field tables", t0)
        with connect() as conn:
            stats["custom_fields"] = fields.describe(conn)
    seconds = time.perf_counter() - started
    timings["total"] = seconds
    stats["extensions"] = [
        *stats.get("extensions", []),
        {
            "steps": pending,
            "from_generator": record["generator_version"],
            "seconds": seconds,
            "timings": timings,
        },
    ]
    with connect() as conn:
        database.mark_built(conn, videos, record["build_seconds"], stats)
    log(f"Extended {name}", started)
    return {
        **record,
        "stats": stats,
        "pending": [],
        "generator_version": database.GENERATOR_VERSION,
        "extended_seconds": seconds,
    }
