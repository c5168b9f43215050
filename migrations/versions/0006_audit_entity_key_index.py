"""Index the audit log by entity key: "the history of video X" on /audit.

The log was indexed by the entity's row id only, so filtering by a YouTube id (the key the
page offers, and the only one left once a video is deleted) scanned the table: ~1 s at ten
million rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # Concurrently: a plain CREATE INDEX would hold up every audited write for the ~30 s it
    # takes at ten million rows.
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_metadata_syncs_entity_key_time",
            "metadata_syncs",
            ["entity_type", "entity_key", "sync_time", "id"],
            postgresql_concurrently=True,
        )


def downgrade():
    op.drop_index("ix_metadata_syncs_entity_key_time", table_name="metadata_syncs")
