"""users.roles_version: a counter PostgreSQL moves whenever a user's roles change

The signed-in user's roles travel in the session (catalog/accounts/identity.py) with the
counter they were read at, so a request loads the user's row alone, without the roles join.
The counter is kept by triggers rather than by the service that sets roles, so that every
way roles change (the accounts service, the CLI, a psql session, a role renamed or
deleted) moves it, and a session's roles are read afresh on its next request.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION users_roles_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET roles_version = roles_version + 1
  -- OLD is NULL on INSERT, NEW on DELETE; an UPDATE may move a row between users.
  WHERE id IN (OLD.user_id, NEW.user_id);
  RETURN NULL;
END $$;

CREATE FUNCTION role_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET roles_version = roles_version + 1
  WHERE id IN (SELECT user_id FROM roles_users WHERE role_id = NEW.id);
  RETURN NULL;
END $$;
"""


def upgrade():
    op.add_column(
        "users", sa.Column("roles_version", sa.Integer(), server_default="0", nullable=False)
    )
    op.execute(FUNCTIONS)
    op.execute(
        "CREATE TRIGGER roles_users_changed AFTER INSERT OR UPDATE OR DELETE ON roles_users "
        "FOR EACH ROW EXECUTE FUNCTION users_roles_changed()"
    )
    op.execute(
        "CREATE TRIGGER roles_renamed AFTER UPDATE OF name ON roles "
        "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION role_renamed()"
    )


def downgrade():
    op.execute("DROP TRIGGER roles_renamed ON roles")
    op.execute("DROP TRIGGER roles_users_changed ON roles_users")
    op.execute("DROP FUNCTION role_renamed()")
    op.execute("DROP FUNCTION users_roles_changed()")
    op.drop_column("users", "roles_version")
