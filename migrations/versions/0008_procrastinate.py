"""procrastinate: the job engine's own schema

The tables, types and functions the background workers claim jobs through. They belong to
procrastinate, not to our models: migrations/env.py keeps autogenerate and `flask db check`
away from them.

The SQL is the installed package's own schema file, so it must be the version setup.cfg
pins. Moving to a newer procrastinate means a new migration that applies that release's
files from procrastinate/sql/migrations/ in order (never editing this one).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00

"""

from importlib import metadata

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PROCRASTINATE_VERSION = "3.10.0"  # the version pinned in setup.cfg

TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)

# Every function procrastinate defined here, whatever its signature (each version adds _vN
# variants); only procrastinate's own names, in this database's current schema.
DROP_FUNCTIONS = r"""
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = current_schema()
           AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || fn::text || ' CASCADE';
    END LOOP;
END;
$$;
"""


def _schema_sql() -> str:
    installed = metadata.version("procrastinate")
    if installed != PROCRASTINATE_VERSION:
        raise RuntimeError(
            f"Migration 0008 installs procrastinate {PROCRASTINATE_VERSION}'s schema, but "
            f"{installed} is installed: install the version setup.cfg pins (make install)."
        )
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def _execute(sql: str) -> None:
    # Straight to psycopg, on the migration's connection and transaction, with no
    # parameters: the file's ':' casts and '%' messages are sent exactly as written.
    op.get_bind().connection.driver_connection.execute(sql)


def upgrade():
    _execute(_schema_sql())


def downgrade():
    _execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")
    _execute(DROP_FUNCTIONS)
    _execute(f"DROP TYPE IF EXISTS {', '.join(TYPES)} CASCADE")
