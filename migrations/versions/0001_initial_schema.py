"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 18:47:12.961038

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


ROLES = {
    "admin": "Everything, including users, roles and field definitions",
    "editor": "Staff: edit videos, channels and values, upload reports",
    "auditor": "Reads everything including the audit log; changes nothing",
    "viewer": "Reads the catalog",
}


def upgrade():
    # Trigram indexes make case-insensitive substring search use an index.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # A generated column may only call IMMUTABLE functions; array_to_string is STABLE
    # (it could depend on output settings for other element types, never for text).
    op.execute(
        "CREATE FUNCTION catalog_array_text(text[]) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "AS $$ SELECT coalesce(array_to_string($1, ' '), '') $$"
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("subscriber_count", sa.BigInteger(), nullable=True),
        sa.Column("video_count", sa.BigInteger(), nullable=True),
        sa.Column("view_count", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("is_monetized", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default="false", nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_channels_channel_id")),
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("fs_uniquifier", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("firebase_uid", sa.String(length=128), nullable=True),
        sa.Column(
            "auth_method", sa.String(length=20), server_default="flask-security", nullable=False
        ),
        sa.Column("current_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_login_ip", sa.String(length=64), nullable=True),
        sa.Column("last_login_ip", sa.String(length=64), nullable=True),
        sa.Column("login_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("firebase_uid", name=op.f("uq_users_firebase_uid")),
        sa.UniqueConstraint("fs_uniquifier", name=op.f("uq_users_fs_uniquifier")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "video_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_video_categories_slug")),
    )
    op.create_table(
        "metadata_syncs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), server_default="video", nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_key", sa.String(length=100), nullable=True),
        sa.Column("video_title", sa.String(length=200), nullable=True),
        sa.Column("channel_display_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_email", sa.String(length=255), nullable=True),
        sa.Column("batch_id", sa.UUID(), nullable=True),
        sa.Column(
            "sync_time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_metadata_syncs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadata_syncs")),
    )
    op.create_index(
        "ix_metadata_syncs_batch",
        "metadata_syncs",
        ["batch_id"],
        unique=False,
        postgresql_where="batch_id IS NOT NULL",
    )
    op.create_index(
        "ix_metadata_syncs_changes",
        "metadata_syncs",
        ["changes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_metadata_syncs_entity_time",
        "metadata_syncs",
        ["entity_type", "entity_id", sa.literal_column("sync_time DESC")],
        unique=False,
    )
    op.create_index(
        "ix_metadata_syncs_source_time",
        "metadata_syncs",
        ["source", "sync_time", "id"],
        unique=False,
    )
    op.create_index("ix_metadata_syncs_time", "metadata_syncs", ["sync_time", "id"], unique=False)
    op.create_index(
        "ix_metadata_syncs_user_time",
        "metadata_syncs",
        ["user_id", "sync_time", "id"],
        unique=False,
    )

    op.create_table(
        "roles_users",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_roles_users_role_id_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_roles_users_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "role_id", name=op.f("pk_roles_users")),
    )
    op.create_table(
        "videos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.String(length=20), nullable=False),
        sa.Column("asset_id", sa.String(length=50), nullable=True),
        sa.Column("custom_id", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column(
            "artist", postgresql.ARRAY(sa.String(length=200)), server_default="{}", nullable=False
        ),
        sa.Column(
            "genre", postgresql.ARRAY(sa.String(length=100)), server_default="{}", nullable=False
        ),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("channel_display_name", sa.String(length=100), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("upc", sa.String(length=20), nullable=True),
        sa.Column("isrc", sa.String(length=12), nullable=True),
        sa.Column("claimed_status", sa.String(length=10), nullable=True),
        sa.Column("claimed_by_another_owner", sa.String(length=10), nullable=True),
        sa.Column("other_owners_claiming", sa.Text(), nullable=True),
        sa.Column("third_party_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("display_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("sponsored_cards_enabled", sa.String(length=10), nullable=True),
        sa.Column("overlay_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("nonskippable_video_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("long_nonskippable_video_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("skippable_video_ads_enabled", sa.String(length=10), nullable=True),
        sa.Column("prerolls_enabled", sa.String(length=10), nullable=True),
        sa.Column("midrolls_enabled", sa.String(length=10), nullable=True),
        sa.Column("postrolls_enabled", sa.String(length=10), nullable=True),
        sa.Column("embedding_allowed", sa.String(length=10), nullable=True),
        sa.Column("ratings_allowed", sa.String(length=10), nullable=True),
        sa.Column("comments_allowed", sa.String(length=10), nullable=True),
        sa.Column("privacy_status", sa.String(length=20), nullable=True),
        sa.Column("effective_policy", sa.Text(), nullable=True),
        sa.Column("video_length", sa.Integer(), nullable=True),
        sa.Column("views", sa.BigInteger(), nullable=True),
        sa.Column("hidden", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("administered", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("administered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_short", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_live_stream", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("upload_source", sa.String(length=20), nullable=True),
        sa.Column("published", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_hero", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("time_published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.String(length=500), nullable=True),
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
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                (
                    "lower(coalesce(video_id, '') || ' ' || coalesce(title, '') || ' ' || "
                    "coalesce(asset_id, '') || ' ' || coalesce(custom_id, '') || ' ' || "
                    "coalesce(isrc, '') || ' ' || coalesce(upc, '') || ' ' || "
                    "catalog_array_text(artist))"
                ),
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("video_length >= 0", name=op.f("ck_videos_video_length_not_negative")),
        sa.CheckConstraint("views >= 0", name=op.f("ck_videos_views_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["video_categories.id"],
            name=op.f("fk_videos_category_id_video_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_videos_channel_id_channels"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
        sa.UniqueConstraint("video_id", name=op.f("uq_videos_video_id")),
    )
    op.create_index(op.f("ix_videos_asset_id"), "videos", ["asset_id"], unique=False)
    op.create_index("ix_videos_category_id_id", "videos", ["category_id", "id"], unique=False)
    op.create_index("ix_videos_channel_id_id", "videos", ["channel_id", "id"], unique=False)
    op.create_index(op.f("ix_videos_custom_id"), "videos", ["custom_id"], unique=False)
    op.create_index(
        "ix_videos_search_text_trgm",
        "videos",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_videos_sort_artist",
        "videos",
        [sa.literal_column("lower(coalesce(artist[1], ''))"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_videos_sort_category",
        "videos",
        [sa.literal_column("coalesce(category_id, 0)"), "id"],
        unique=False,
    )
    op.create_index("ix_videos_sort_changed", "videos", ["updated_at", "id"], unique=False)
    op.create_index(
        "ix_videos_sort_channel",
        "videos",
        [sa.literal_column("lower(coalesce(channel_display_name, ''))"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_videos_sort_claim",
        "videos",
        [sa.literal_column("coalesce(claimed_status, '')"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_videos_sort_privacy",
        "videos",
        [sa.literal_column("coalesce(privacy_status, '')"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_videos_sort_title",
        "videos",
        [sa.literal_column("lower(coalesce(title, ''))"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_videos_sort_views",
        "videos",
        [sa.literal_column("coalesce(views, -1)"), "id"],
        unique=False,
    )

    op.create_table(
        "video_metadata",
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("thumbnail_url", sa.String(length=512), nullable=True),
        sa.Column("caption_url", sa.String(length=512), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_metadata_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", name=op.f("pk_video_metadata")),
    )
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(roles, [{"name": n, "description": d} for n, d in ROLES.items()])


def downgrade():
    op.drop_table("video_metadata")
    op.drop_index("ix_videos_sort_views", table_name="videos")
    op.drop_index("ix_videos_sort_title", table_name="videos")
    op.drop_index("ix_videos_sort_privacy", table_name="videos")
    op.drop_index("ix_videos_sort_claim", table_name="videos")
    op.drop_index("ix_videos_sort_channel", table_name="videos")
    op.drop_index("ix_videos_sort_changed", table_name="videos")
    op.drop_index("ix_videos_sort_category", table_name="videos")
    op.drop_index("ix_videos_sort_artist", table_name="videos")
    op.drop_index(
        "ix_videos_search_text_trgm",
        table_name="videos",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(op.f("ix_videos_custom_id"), table_name="videos")
    op.drop_index("ix_videos_channel_id_id", table_name="videos")
    op.drop_index("ix_videos_category_id_id", table_name="videos")
    op.drop_index(op.f("ix_videos_asset_id"), table_name="videos")

    op.drop_table("videos")
    op.drop_table("roles_users")
    op.drop_index("ix_metadata_syncs_user_time", table_name="metadata_syncs")
    op.drop_index("ix_metadata_syncs_time", table_name="metadata_syncs")
    op.drop_index("ix_metadata_syncs_source_time", table_name="metadata_syncs")
    op.drop_index("ix_metadata_syncs_entity_time", table_name="metadata_syncs")
    op.drop_index("ix_metadata_syncs_changes", table_name="metadata_syncs", postgresql_using="gin")
    op.drop_index(
        "ix_metadata_syncs_batch",
        table_name="metadata_syncs",
        postgresql_where="batch_id IS NOT NULL",
    )

    op.drop_table("metadata_syncs")
    op.drop_table("video_categories")
    op.drop_table("users")
    op.drop_table("roles")
    op.drop_table("channels")
    op.execute("DROP FUNCTION catalog_array_text(text[])")
