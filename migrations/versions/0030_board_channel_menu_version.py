"""the board's channel menu kept by each process while its menu version is current

The production board's channel filter offers every channel. It was read on every request
(one statement, 500 names as one JSON text) and rendered again only when that text changed.
Now the channels are a menu group of migration 0022's kind: a trigger on `channels` sets the
group's version anew when a channel is added, renamed or deleted, the version comes with the
signed-in user (catalog/accounts/identity.py), and each web process reads the menu again only
when its version moved. A change to a channel's other columns (its capacity, its hidden flag)
does not touch the menu.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-02
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "INSERT INTO menu_versions (name, version) "
        "VALUES ('channels', nextval('menu_version_numbers'))"
    )
    # menu_changed() is migration 0022's: one new version per statement that changes any.
    op.execute(
        "CREATE TRIGGER channels_menu_changed AFTER INSERT OR UPDATE OF name OR DELETE "
        "ON channels FOR EACH STATEMENT EXECUTE FUNCTION menu_changed('channels')"
    )


def downgrade():
    op.execute("DROP TRIGGER channels_menu_changed ON channels")
    op.execute("DELETE FROM menu_versions WHERE name = 'channels'")
