"""Two database roles: the owner of the schema (which migrations run as) and the application's
role (DATABASE_URL's, which web and worker processes connect as).

The application's role gets what it needs and nothing it could use to rewrite history: rows
of the catalog to read and write; on the audit trail only SELECT and INSERT (the archive:
SELECT); no TRUNCATE, REFERENCES or TRIGGER, no grant option, and it owns nothing, so it
cannot ALTER, DISABLE TRIGGER, DROP or GRANT anything. Tables and sequences that later
migrations create are granted to it the same way (default privileges of the owner).

The chain's triggers write `audit_chain_head`, which the application's role may only read:
they run as the owner (SECURITY DEFINER, with a search_path that looks in pg_temp last, so
that a temporary table of the caller cannot stand in for the real head).

The application's role is read from the app's DATABASE_URL. When it is the owner itself
(one role for everything, the set-up before this migration), there is nothing to grant: the
schema works as before, and a warning says the split is missing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import logging

from alembic import op
from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import make_url

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

ROWS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCES = "USAGE, SELECT, UPDATE"
# The audit trail: the live table is read and appended to; the archive is read (the archive
# move runs as the owner); the head is read (the triggers move it, as the owner).
AUDIT = {
    "metadata_syncs": "SELECT, INSERT",
    "metadata_syncs_archive": "SELECT",
    "audit_chain_head": "SELECT",
    "alembic_version": "SELECT",
}
DEFINERS = ("audit_chain_row()", "audit_chain_save()")


def _app_role() -> str | None:
    """DATABASE_URL's role when it is not the one running this migration (the owner)."""
    role = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).username
    me = op.get_bind().scalar(text("SELECT current_user"))
    if not role or role == me:
        logger.warning(
            "The app connects as the schema's owner (%s): set DATABASE_OWNER_URL to the "
            "owner and DATABASE_URL to a role of its own (README, Database roles).",
            me,
        )
        return None
    return op.get_bind().dialect.identifier_preparer.quote(role)


def upgrade():
    for function in DEFINERS:
        op.execute(
            f"ALTER FUNCTION {function} SECURITY DEFINER "
            "SET search_path = pg_catalog, public, pg_temp"
        )
    app = _app_role()
    if app is None:
        return
    # PostgreSQL 15 already keeps CREATE in `public` to the database's owner; older servers
    # gave it to everyone, and a role that can create objects there is one step from
    # shadowing the schema's own.
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
    op.execute(f"GRANT {ROWS} ON ALL TABLES IN SCHEMA public TO {app}")
    op.execute(f"GRANT {SEQUENCES} ON ALL SEQUENCES IN SCHEMA public TO {app}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {ROWS} ON TABLES TO {app}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {SEQUENCES} ON SEQUENCES TO {app}")
    for table, privileges in AUDIT.items():
        op.execute(f"REVOKE ALL ON {table} FROM {app}")
        op.execute(f"GRANT {privileges} ON {table} TO {app}")


def downgrade():
    app = _app_role()
    if app is not None:
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {app}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {app}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {app}")
    for function in DEFINERS:
        op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
