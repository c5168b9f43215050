"""The list pages' per-request reads made cheap: users.roles_version, and menu_versions

users.roles_version is a counter PostgreSQL moves whenever a user's roles change.
The signed-in user's roles travel in the session (catalog/accounts/identity.py) with the
counter they were read at, so a request loads the user's row alone, without the roles join.
The counter is kept by triggers rather than by the service that sets roles, so that every
way roles change (the accounts service, the CLI, a psql session, a role renamed or
deleted) moves it, and a session's roles are read afresh on its next request.

menu_versions holds a version per group of filter menus that change rarely: "videos" (the
categories, the custom fields and which are shown as columns) and "users" (the Changes
page's list of people). Each web process keeps the menus it read with the version it read
them at; the versions are read with the signed-in user, so a list knows in the same
statement whether its menus are current. Triggers on the tables behind each menu set a new
version from a sequence: never a number used before, even after a rolled-back change, so a
process cannot mistake menus read inside a transaction that was rolled back for current.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
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

CREATE FUNCTION menu_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE menu_versions SET version = nextval('menu_version_numbers') WHERE name = TG_ARGV[0];
  RETURN NULL;
END $$;

CREATE FUNCTION role_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users SET roles_version = roles_version + 1
  WHERE id IN (SELECT user_id FROM roles_users WHERE role_id = NEW.id);
  RETURN NULL;
END $$;
"""


# (table, menu, the columns whose update changes the menu: None for any)
MENU_TABLES = (
    ("video_categories", "videos", None),
    ("custom_fields", "videos", None),
    ("schema_fields", "videos", None),
    ("users", "users", "email"),
)


def upgrade():
    op.create_table(
        "menu_versions",
        sa.Column("name", sa.String(30), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_menu_versions")),
    )
    op.execute("CREATE SEQUENCE menu_version_numbers")
    op.execute(
        "INSERT INTO menu_versions (name, version) "
        "SELECT name, nextval('menu_version_numbers') FROM (VALUES ('videos'), ('users')) m(name)"
    )
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
    for table, menu, columns in MENU_TABLES:
        update = f"UPDATE OF {columns}" if columns else "UPDATE"
        op.execute(
            f"CREATE TRIGGER {table}_menu_changed AFTER INSERT OR {update} OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION menu_changed('{menu}')"
        )


def downgrade():
    for table, _, _ in MENU_TABLES:
        op.execute(f"DROP TRIGGER {table}_menu_changed ON {table}")
    op.execute("DROP FUNCTION menu_changed()")
    op.drop_table("menu_versions")
    op.execute("DROP SEQUENCE menu_version_numbers")
    op.execute("DROP TRIGGER roles_renamed ON roles")
    op.execute("DROP TRIGGER roles_users_changed ON roles_users")
    op.execute("DROP FUNCTION role_renamed()")
    op.execute("DROP FUNCTION users_roles_changed()")
    op.drop_column("users", "roles_version")
