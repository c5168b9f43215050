"""Test setup: a throwaway PostgreSQL cluster from the system's binaries, with one database
migrated once by the real migrations into a template; every test runs inside a transaction
that is rolled back at its end.

Under pytest-xdist (`make test`, `pytest -n 2`) the controller starts the one cluster and
builds the template before any worker exists, and stops it after the last; each worker clones
its own databases from the template under names that end in its id (`worker_database`), so
workers never share a database. Without xdist the `postgres` fixture does the same alone.

HTTP tests must not hold an app context while they make requests (Flask would reuse it, and
with it `g` and the signed-in user, across requests), so data for them is made through
`db_session`, a session on the test's connection. Service tests use `app_ctx`, where the
factories write through the app's own `db.session`.
"""

import contextlib
import logging
import os
import shutil
import tempfile

import flask_migrate
import pytest
from flask import Flask
from flask_security import hash_password
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from catalog import create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres, as_owner
from tests import factories
from tests.helpers import TEST_PASSWORD, sign_in, signed_in, start_session, totp_secret

FAST_SERVER = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
# Several workers' apps, live servers and job workers connect to the one cluster at once.
# No autovacuum: the suite's databases live seconds, and its workers took CPU the tests
# wait for (a test that needs statistics runs ANALYZE itself).
SUITE_SERVER = {**FAST_SERVER, "max_connections": "300", "autovacuum": "off"}
# The migrated database every test database is cloned from (CREATE DATABASE ... TEMPLATE).
TEMPLATE = "catalog_template"
# Under xdist the controller hands its cluster's directory to the workers through this.
CLUSTER_ENV = "CATALOG_TEST_CLUSTER"
# "gw0", "gw1", ... in an xdist worker (set before this module is imported); "" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Argon2 at a few milliseconds instead of half a second: every test sign-in verifies a hash.
# Production keeps passlib's defaults (m=65536, t=3, p=4); tests/accounts/test_argon2.py
# checks that an app without this option still stores those.
CHEAP_ARGON2 = {"argon2__rounds": 1, "argon2__memory_cost": 8, "argon2__parallelism": 1}
_CLUSTER = pytest.StashKey[LocalPostgres]()


def app_config(url: str) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        # Two roles, as in production: migrations run as the owner of the schema, the app
        # connects as `url`'s role (the app's), which may only read and write rows.
        "DATABASE_OWNER_URL": as_owner(url),
        # Not instance/: checkpoints that `make run` wrote must not meet the tests' chains.
        "AUDIT_CHECKPOINT_DIR": os.path.join(tempfile.gettempdir(), f"catalog-test-{os.getpid()}"),
        "SECRET_KEY": "test-secret-key",
        "SECURITY_PASSWORD_SALT": "test-password-salt",
        "WTF_CSRF_ENABLED": True,
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": CHEAP_ARGON2,
    }


def worker_database(name: str) -> str:
    """`name` for this xdist worker alone ("catalog_jobs_gw1"); `name` itself without xdist."""
    return f"{name}_{WORKER}" if WORKER else name


def start_cluster() -> LocalPostgres:
    """A new cluster with the migrated template in it."""
    # A short path under /tmp: Unix socket paths are limited to 107 bytes.
    base = tempfile.mkdtemp(prefix="catalog-test-")
    os.chmod(base, 0o755)  # noqa: S103  (the cluster may belong to an unprivileged user)
    server = LocalPostgres(base, settings=SUITE_SERVER)
    server.init()
    server.start()
    try:
        # Also creates both roles, before any worker could race to create them.
        server.create_database(TEMPLATE)
        app = create_app(app_config(server.url(TEMPLATE)))
        with app.app_context():
            flask_migrate.upgrade()
            db.engine.dispose()
        # A clone fails while anyone is connected to its template; nobody may, from now on.
        server.run_sql(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    except BaseException:
        stop_cluster(server)  # a failed migration must not leave a server running
        raise
    return server


def stop_cluster(server: LocalPostgres) -> None:
    server.stop()
    shutil.rmtree(server.base_dir, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    # Under xdist ("dsession" is its controller, which starts the workers after this hook),
    # the controller builds the cluster once: nothing left for the workers to coordinate.
    if session.config.pluginmanager.hasplugin("dsession"):
        server = start_cluster()
        session.config.stash[_CLUSTER] = server
        os.environ[CLUSTER_ENV] = str(server.base_dir)


def pytest_sessionfinish(session):
    # The controller's, after its workers have finished (or died).
    if server := session.config.stash.get(_CLUSTER, None):
        os.environ.pop(CLUSTER_ENV, None)
        stop_cluster(server)


# How `make test` shares the tests between its two xdist workers (--dist loadgroup, with the
# scheduler below). GROUPS run on one worker each, which builds what they share once: the
# cluster (tests/cluster/conftest.py) and the demo catalog (demo_app below); then single
# tests go to whichever worker is free, the longest first (SLOW_FIRST), so that both finish
# together instead of one waiting for the other's last long test. (pytest-xdist's own
# xdist_group marks do nothing under pytest 9: xdist 3.8 renames the test by an attribute
# that pytest 9 no longer reads.) Measured with --durations=0: the crawls take 20-50 s each,
# the other tests named here 5-35 s.
GROUPS = {
    "tests/cluster/": "cluster",
    "tests/test_cli.py": "demo",
    "tests/library/test_demo.py": "demo",
    "tests/videos/test_round_trip.py": "demo",
    "tests/videos/test_bulk.py": "demo",
    "tests/reports/test_roundtrip.py": "demo",
}
# A test that uses one of these fixtures must be in that group (checked at collection).
GROUP_FIXTURES = {"cluster": "cluster", "demo_app": "demo"}
SLOW_FIRST = (
    "tests/browser/test_pages.py::test_every_page_is_clean",
    "tests/jobs/test_worker.py::test_the_worker_outlives_a_restart",
    "tests/production/test_claim_concurrency.py::test_sixteen_claimers",
    "tests/browser/test_library_upload.py",
    "tests/browser/",
    "tests/jobs/test_worker.py",
    "tests/reports/test_worker.py",
    "tests/security/test_availability.py",
    "tests/audit/test_integrity.py",
    "tests/production/test_claim_concurrency.py",
    "tests/changes/test_replay.py",
    "tests/library/test_worker.py",
)


def group_of(nodeid: str) -> str | None:
    return next((group for prefix, group in GROUPS.items() if nodeid.startswith(prefix)), None)


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture, group in GROUP_FIXTURES.items():
            if fixture in item.fixturenames and group_of(item.nodeid) != group:
                raise pytest.UsageError(
                    f"{item.nodeid} uses {fixture}: add its module to GROUPS[{group!r}] "
                    "in tests/conftest.py"
                )

    def rank(item) -> int:
        return next(
            (n for n, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)),
            len(SLOW_FIRST),
        )

    items.sort(key=rank)  # stable: collection order within each rank


def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup with GROUPS: each group is one unit of work (the largest first, as
    xdist orders units), every other test a unit of its own."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


@pytest.fixture(autouse=True)
def _loggers_enabled():
    """Alembic's env.py (logging.config.fileConfig) disables every logger that exists when a
    test migrates in this process (the cluster's and the jobs' own servers, the migration
    tests): a later test on the same worker that reads the app's log (caplog) would see
    nothing, depending on the order the tests happened to run in."""
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger.disabled:
            logger.disabled = False


@pytest.fixture(scope="session")
def postgres():
    if WORKER and (shared := os.environ.get(CLUSTER_ENV)):
        yield LocalPostgres(shared)  # the controller's: it stops it
        return
    server = start_cluster()
    yield server
    stop_cluster(server)


def migrated_database(postgres: LocalPostgres, name: str) -> str:
    """A migrated database of this worker's own, named after `name` (see `worker_database`),
    cloned from the template; its URL."""
    name = worker_database(name)
    postgres.create_database(name, template=TEMPLATE)
    return postgres.url(name)


@pytest.fixture(scope="session")
def app(postgres) -> Flask:
    return create_app(app_config(migrated_database(postgres, "catalog_test")))


@pytest.fixture(scope="session")
def password_hash(app) -> str:
    with app.app_context():
        return hash_password(TEST_PASSWORD)


@pytest.fixture(scope="session")
def owner_engine(app):
    engine = create_engine(app.config["DATABASE_OWNER_URL"])
    yield engine
    engine.dispose()


@pytest.fixture
def db_owner() -> bool:
    """Whether the test's connection is the schema owner's rather than the app's. A test
    that runs an owner's operation (the audit archive move, a TRUNCATE) inside its
    rolled-back transaction says so with @pytest.mark.parametrize("db_owner", [True])."""
    return False


@contextlib.contextmanager
def rolled_back(app: Flask, connection, password_hash: str):
    """A session on `connection` whose transaction is rolled back at the end; `app`'s engine
    is swapped for that connection meanwhile, so its requests and services see (and commit
    into, as savepoints) the same transaction."""
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
    transaction = connection.begin()
    engines[None] = connection
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    factories.use_session(session, password_hash)
    try:
        yield session
    finally:
        session.close()
        engines[None] = engine
        transaction.rollback()
        connection.close()


@pytest.fixture
def db_session(app, password_hash, db_owner, request):
    """A session on a connection whose transaction is rolled back after the test.

    The app's engine is swapped for that connection, so requests made by the test see (and
    commit into, as savepoints) the same transaction.
    """
    with app.app_context():
        engine = db.engines[None]
    connection = (request.getfixturevalue("owner_engine") if db_owner else engine).connect()
    with rolled_back(app, connection, password_hash) as session:
        yield session


@pytest.fixture
def app_ctx(app, db_session):
    """An app context for calling services directly; factories write through db.session."""
    with app.app_context():
        factories.use_session(db.session, factories.state.password_hash)
        yield
        db.session.remove()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


def signing_in(client):
    """sign_in_as(role, through_forms=False, **fields) for `client`: a new user with that
    role, signed in: by a session cookie made directly (tests/helpers.py start_session), or
    through the sign-in forms (login attempts recorded, sign-in tracked) when
    `through_forms`."""

    def sign_in_as(role: str = "editor", *, through_forms: bool = False, **kwargs):
        if role == "admin":  # admins are required to have two-factor sign-in
            kwargs.setdefault("tf_primary_method", "authenticator")
            kwargs.setdefault("tf_totp_secret", totp_secret(client.application))
        user = factories.UserFactory(roles=[role], **kwargs)
        if through_forms:
            response = sign_in(client, user)
            assert signed_in(response), response.get_data(as_text=True)[:500]
        else:
            start_session(client, user)
        return user

    return sign_in_as


@pytest.fixture
def sign_in_as(client):
    """sign_in_as(role) → a new user with that role, signed in on `client`."""
    return signing_in(client)


def _signed_in_client(client, sign_in_as, role: str):
    client.user = sign_in_as(role)
    return client


# `<role>` names a User (a service actor, made by the module that needs one); `<role>_client`
# is the test's `client` signed in as a new user of that role, who is `<role>_client.user`.
@pytest.fixture
def viewer_client(client, sign_in_as):
    return _signed_in_client(client, sign_in_as, "viewer")


@pytest.fixture
def editor_client(client, sign_in_as):
    return _signed_in_client(client, sign_in_as, "editor")


@pytest.fixture
def auditor_client(client, sign_in_as):
    return _signed_in_client(client, sign_in_as, "auditor")


@pytest.fixture
def admin_client(client, sign_in_as):
    """Signed in with both steps: admins must use an authenticator app."""
    return _signed_in_client(client, sign_in_as, "admin")


# -- the demo catalog ------------------------------------------------------------------------
# `flask catalog demo` on an empty catalog takes seconds (300 audited videos, ffmpeg's clips):
# it runs once per worker, into a database of its own, and the tests that read the demo
# catalog (GROUPS["demo"]: on one worker) each see it in a transaction of their own, rolled
# back after them as `db_session`'s is.


@pytest.fixture(scope="session")
def demo_app(postgres, tmp_path_factory) -> Flask:
    """An app on a database of this worker's own into which `flask catalog demo` ran once,
    with instance (the login file) and storage folders of its own; the command's output is
    `demo_app.demo_output`."""
    folder = tmp_path_factory.mktemp("demo")
    config = {
        **app_config(migrated_database(postgres, "catalog_demo")),
        "REPORTS_DIR": str(folder / "storage"),
        "S3_BUCKET": "",
    }
    app = create_app(config)
    app.instance_path = str(folder / "instance")
    result = app.test_cli_runner().invoke(args=["catalog", "demo"])
    assert result.exit_code == 0, result.output
    app.demo_output = result.output
    return app


@pytest.fixture
def demo_session(demo_app, password_hash):
    """`db_session` on the demo catalog: a transaction of the test's own, rolled back."""
    with demo_app.app_context():
        connection = db.engines[None].connect()
    with rolled_back(demo_app, connection, password_hash) as session:
        yield session


@pytest.fixture
def demo_client(demo_app, demo_session):
    return demo_app.test_client()


@pytest.fixture
def demo_sign_in_as(demo_client):
    """`sign_in_as` on `demo_client`."""
    return signing_in(demo_client)


# Races between committed transactions (tests/race.py), for any test directory.
from tests.race import race_app, race_template  # noqa: E402, F401
