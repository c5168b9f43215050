"""Saved views of the lists, and the user's list settings: column choice, default views and
colour mode

A saved view belongs to its owner (it goes with them) and is named once per owner and list.
The column choice moves from one browser's storage to the user's row; the default views
sit on the same row, so opening a list with none costs no look-up.

Revision ID: 0027
Revises: 0023
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "state", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("shared_with", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('videos', 'audit', 'production')", name=op.f("ck_saved_views_kind_known")
        ),
        sa.CheckConstraint(
            "shared_with IS NULL OR shared_with IN ('editor', 'auditor', 'viewer', 'everyone')",
            name=op.f("ck_saved_views_shared_with_known"),
        ),
        sa.CheckConstraint(
            "length(btrim(name)) > 0", name=op.f("ck_saved_views_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_saved_views_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint(
            "owner_id", "kind", "name", name=op.f("uq_saved_views_owner_id_kind_name")
        ),
    )  # fmt: skip
    op.create_index(
        "ix_saved_views_kind_shared_with", "saved_views", ["kind", "shared_with"],
        postgresql_where=sa.text("shared_with IS NOT NULL"),
    )  # fmt: skip
    op.add_column(
        "users",
        sa.Column(
            "list_columns", postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"), nullable=False,
        ),
    )  # fmt: skip
    op.add_column(
        "users",
        sa.Column(
            "default_views", postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"), nullable=False,
        ),
    )  # fmt: skip
    op.add_column(
        "users",
        sa.Column("colour_mode", sa.String(length=5), server_default="auto", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_users_colour_mode_known"), "users", "colour_mode IN ('auto', 'light', 'dark')"
    )


def downgrade():
    op.drop_constraint(op.f("ck_users_colour_mode_known"), "users", type_="check")
    op.drop_column("users", "colour_mode")
    op.drop_column("users", "default_views")
    op.drop_column("users", "list_columns")
    op.drop_index("ix_saved_views_kind_shared_with", table_name="saved_views")
    op.drop_table("saved_views")
