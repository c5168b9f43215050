"""A private PostgreSQL cluster built from the system's PostgreSQL binaries.

`make run` uses one under ``instance/`` when no DATABASE_URL is given, the test
suite and the benchmark start throwaway ones. The server listens on a Unix socket
only, in a directory of its own, so it never collides with another PostgreSQL on
the machine. PostgreSQL refuses to run as root, so when we are root the cluster
belongs to an unprivileged system user.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

# Two roles (see README, "Database roles"): the owner of the schema, which migrations run
# as, and the application's role, which web and worker processes connect as and which may
# only read and write rows (on the audit tables only read and append).
OWNER_ROLE = "catalog_owner"
APP_ROLE = "catalog"
INSTALL_HINT = (
    "No PostgreSQL server binaries (initdb, pg_ctl) were found. On Debian install them with:\n"
    "    sudo apt-get install postgresql\n"
    "or set DATABASE_URL to an existing PostgreSQL server."
)
# The database every cluster has, which the superuser's SQL runs in unless told otherwise.
MAINTENANCE = "postgres"
# Unix socket paths are limited to 107 bytes; deep checkouts get a socket under /tmp.
MAX_SOCKET_DIR = 80


class PostgresNotFound(RuntimeError):
    pass


def find_bindir() -> Path:
    """The directory holding initdb and pg_ctl: pg_config's, else Debian's newest."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).resolve().parent))
    for directory in candidates:
        if (
            directory
            and (Path(directory) / "initdb").exists()
            and (Path(directory) / "pg_ctl").exists()
        ):
            return Path(directory)
    raise PostgresNotFound(INSTALL_HINT)


class LocalPostgres:
    """One cluster in ``base_dir``: ``pgdata/``, a socket directory and a log file."""

    def __init__(self, base_dir: Path | str, settings: dict[str, str] | None = None):
        self.base_dir = Path(base_dir).resolve()
        self.data_dir = self.base_dir / "pgdata"
        self.log_file = self.base_dir / "postgres.log"
        self.settings = settings or {}
        socket_dir = self.base_dir / "pgsock"
        if len(str(socket_dir)) > MAX_SOCKET_DIR:
            digest = hashlib.sha1(str(socket_dir).encode(), usedforsecurity=False).hexdigest()[:12]
            socket_dir = Path(tempfile.gettempdir()) / f"catalog-pg-{digest}"
        self.socket_dir = socket_dir
        self.bindir = find_bindir()
        self.owner = _server_user()
        self._kept: dict[int, psycopg.Connection] = {}  # run_sql()'s, by process id

    # -- running commands as the cluster's owner -------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check)

    def _chown(self, *paths: Path) -> None:
        if self.owner:
            record = pwd.getpwnam(self.owner)
            for path in paths:
                os.chown(path, record.pw_uid, record.pw_gid)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.initialized:
            return False
        return (
            self._run(self.bindir / "pg_ctl", "status", "-D", self.data_dir, check=False).returncode
            == 0
        )

    def init(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self._chown(self.data_dir)
        if self.owner:
            probe = self._run("test", "-w", self.data_dir, check=False)
            if probe.returncode != 0:
                raise RuntimeError(
                    f"The PostgreSQL user {self.owner!r} cannot reach {self.data_dir}; "
                    "make the directories above it traversable (chmod o+x) or set DATABASE_URL."
                )
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data_dir,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        conf = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": "100",
            **self.settings,
        }
        with open(self.data_dir / "postgresql.auto.conf", "a") as fh:
            fh.writelines(f"{key} = {value}\n" for key, value in conf.items())

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        if not self.log_file.exists():
            self.log_file.touch()
        self._chown(self.log_file)
        result = self._run(
            self.bindir / "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            self.data_dir,
            "-l",
            self.log_file,
            check=False,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start:\n{result.stderr}\n{tail}")

    def stop(self) -> None:
        self._forget_maintenance()
        if self.is_running():
            self._run(self.bindir / "pg_ctl", "stop", "-w", "-m", "fast", "-D", self.data_dir)

    def ensure_running(self, database: str = "catalog") -> str:
        """Initialise and start the cluster when needed; return the app's database URL (the
        owner's is `owner_url`)."""
        if not self.initialized:
            self.init()
        if not self.is_running():
            self.start()
        self.create_database(database)
        self._hand_over(database)
        return self.url(database)

    # -- databases ---------------------------------------------------------------------------
    def run_sql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` (one statement or several) in `database` as the superuser, outside any
        transaction block (CREATE DATABASE may be among it); the last result's rows as
        `psql -qAt` prints them: a line a row, columns joined by "|", NULL empty, booleans
        t and f. Raises psycopg.Error.

        In the maintenance database `postgres` over a connection kept for the next call, not
        a psql process per call: the test suite makes and drops hundreds of throwaway
        databases. In any other over a connection of its own, closed after: one left open
        would keep that database from being copied (CREATE DATABASE ... TEMPLATE)."""
        if database != MAINTENANCE:
            with self._connect(database) as connection:
                return _as_psql_prints(connection.execute(sql))
        try:
            cursor = self._maintenance().execute(sql)
        except psycopg.OperationalError:
            if not self._forget_maintenance():
                raise
            cursor = self._maintenance().execute(sql)  # the server restarted meanwhile
        return _as_psql_prints(cursor)

    def _connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir), user="postgres", dbname=database, autocommit=True
        )

    def _maintenance(self) -> psycopg.Connection:
        # Per process: a forked child never shares its parent's socket.
        connection = self._kept.get(os.getpid())
        if connection is None or connection.closed:
            connection = self._kept[os.getpid()] = self._connect(MAINTENANCE)
        return connection

    def _forget_maintenance(self) -> bool:
        """Close the kept connection; whether it had broken (the server went away under it:
        what it was sent never ran, it may be sent again)."""
        connection = self._kept.pop(os.getpid(), None)
        if connection is None:
            return False
        broken = connection.broken
        connection.close()
        return broken

    def create_database(
        self, database: str, template: str | None = None, owner: str = OWNER_ROLE
    ) -> None:
        """Create both roles and ``database`` owned by `owner`, unless they exist. Neither
        role is a superuser or may create roles or databases."""
        for role in (OWNER_ROLE, APP_ROLE):
            if not self.run_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
                self.run_sql(f"CREATE ROLE {role} LOGIN")
        if not self.run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
            clause = f" TEMPLATE {template}" if template else ""
            self.run_sql(f"CREATE DATABASE {database} OWNER {owner}{clause}")

    def _hand_over(self, database: str) -> None:
        """A database made before the roles were split belongs to the app's role: give it,
        and everything in it, to the owner role (migration 0013 then grants the app its
        rows back)."""
        owner = self.run_sql(
            f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{database}'"
        )
        if owner == APP_ROLE:
            self.run_sql(f"ALTER DATABASE {database} OWNER TO {OWNER_ROLE}")
            self.run_sql(f"REASSIGN OWNED BY {APP_ROLE} TO {OWNER_ROLE}", database=database)

    def drop_database(self, database: str) -> None:
        self.run_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")

    def url(self, database: str = "catalog", user: str = APP_ROLE) -> str:
        return f"postgresql+psycopg://{user}@/{database}?host={self.socket_dir}"

    def owner_url(self, database: str = "catalog") -> str:
        return self.url(database, user=OWNER_ROLE)


def _as_psql_prints(cursor: psycopg.Cursor) -> str:
    """The last result's rows of `cursor`, as `psql -qAt` prints them."""
    rows: list = []
    while True:
        if cursor.description is not None:
            rows = cursor.fetchall()
        if not cursor.nextset():
            break
    return "\n".join("|".join(_as_psql_text(value) for value in row) for row in rows)


def _as_psql_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def as_owner(url: str) -> str:
    """The URL of the same embedded database for the owner role (tests, `make run`)."""
    return make_url(url).set(username=OWNER_ROLE).render_as_string(hide_password=False)


def _server_user() -> str | None:
    """Who owns the cluster: nobody special unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("Running as root and no unprivileged user (postgres, nobody) exists.")


if __name__ == "__main__":
    import sys

    # `python -m catalog.pgserver check`: say exactly what to install when nothing is there.
    if sys.argv[1:] == ["check"] and not os.environ.get("DATABASE_URL"):
        try:
            find_bindir()
        except PostgresNotFound as exc:
            sys.exit(str(exc))
