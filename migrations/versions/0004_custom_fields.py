"""custom fields

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:20:38.976703

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("field_type", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "config", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("default_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "field_type IN ('text', 'select', 'rating', 'boolean')",
            name=op.f("ck_custom_fields_known_field_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_fields")),
    )
    with op.batch_alter_table("custom_fields", schema=None) as batch_op:
        batch_op.create_index(
            "uq_custom_fields_lower_name", [sa.literal_column("lower(name)")], unique=True
        )

    op.create_table(
        "field_schemas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_schemas")),
        sa.UniqueConstraint("name", name=op.f("uq_field_schemas_name")),
    )
    op.create_table(
        "schema_channels",
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_schema_channels_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schema_id"],
            ["field_schemas.id"],
            name=op.f("fk_schema_channels_schema_id_field_schemas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schema_id", "channel_id", name=op.f("pk_schema_channels")),
    )
    op.create_table(
        "schema_fields",
        sa.Column("schema_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("display_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("show_on_card", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["custom_fields.id"],
            name=op.f("fk_schema_fields_field_id_custom_fields"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schema_id"],
            ["field_schemas.id"],
            name=op.f("fk_schema_fields_schema_id_field_schemas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schema_id", "field_id", name=op.f("pk_schema_fields")),
    )
    op.create_table(
        "video_field_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_numeric", sa.Numeric(), nullable=True),
        sa.Column("value_boolean", sa.Boolean(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(value_text, value_numeric, value_boolean) = 1",
            name=op.f("ck_video_field_values_one_value"),
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["custom_fields.id"],
            name=op.f("fk_video_field_values_field_id_custom_fields"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_field_values_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_field_values")),
        sa.UniqueConstraint(
            "video_id", "field_id", name=op.f("uq_video_field_values_video_id_field_id")
        ),
    )
    with op.batch_alter_table("video_field_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_video_field_values_numeric", ["field_id", "value_numeric", "video_id"], unique=False
        )
        batch_op.create_index(
            "ix_video_field_values_text", ["field_id", "value_text", "video_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("video_field_values", schema=None) as batch_op:
        batch_op.drop_index("ix_video_field_values_text")
        batch_op.drop_index("ix_video_field_values_numeric")

    op.drop_table("video_field_values")
    op.drop_table("schema_fields")
    op.drop_table("schema_channels")
    op.drop_table("field_schemas")
    with op.batch_alter_table("custom_fields", schema=None) as batch_op:
        batch_op.drop_index("uq_custom_fields_lower_name")

    op.drop_table("custom_fields")
