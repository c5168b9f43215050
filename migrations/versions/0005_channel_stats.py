"""Channel statistics kept by PostgreSQL; channel list indexes; channel count checks.

`channel_stats` holds, per channel, what the catalog has of it: its videos, their total
views, how many are claimed / unclaimed, monetized, shorts. Statement-level triggers with
transition tables keep it, so that every write path counts, whoever issues it: the web
forms (one row per statement), bulk edit (one UPDATE over a whole selection), report
imports that write videos with COPY or INSERT ... SELECT, and anyone in psql. Each
statement changes each channel's row once, by the sum of its rows' differences, in
channel order (so that two statements never take the same rows' locks in opposite
orders). A statement whose rows change nothing counted (a title edit) writes nothing.

The price: a write that changes a channel's figures holds that channel's stats row locked
until it commits, so two transactions changing the same channel's figures take turns.
For an editing tool and imports that commit in batches this is a fair trade for figures
that are always exact; should it ever bite, the triggers can append deltas to a log that a
job folds in, and readers add the pending deltas.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNTS = ("video_count", "total_views", "claimed", "unclaimed", "monetized", "shorts")
MONETIZATION_FIELDS = (
    "third_party_ads_enabled", "display_ads_enabled", "sponsored_cards_enabled",
    "overlay_ads_enabled", "nonskippable_video_ads_enabled",
    "long_nonskippable_video_ads_enabled", "skippable_video_ads_enabled", "prerolls_enabled",
    "midrolls_enabled", "postrolls_enabled",
)  # fmt: skip
# A video counts as monetized when any of its ten monetization settings is "Yes".
MONETIZED = f"coalesce('Yes' IN ({', '.join(MONETIZATION_FIELDS)}), false)"


def _figures(table: str, sign: int) -> str:
    """What each video of `table` adds to its channel's figures (`sign` -1 takes it away)."""
    return f"""
        SELECT channel_id,
               {sign} AS video_count,
               {sign} * coalesce(views, 0) AS total_views,
               {sign} * (claimed_status IS NOT NULL)::int AS claimed,
               {sign} * (claimed_status IS NULL)::int AS unclaimed,
               {sign} * ({MONETIZED})::int AS monetized,
               {sign} * coalesce(is_short, false)::int AS shorts
        FROM {table}
        WHERE channel_id IS NOT NULL"""


def _apply(rows: str) -> str:
    """Add the summed differences of `rows` to channel_stats, channel by channel."""
    sums = ", ".join(f"sum({name})::bigint" for name in COUNTS)
    changed = " OR ".join(f"sum({name}) <> 0" for name in COUNTS)
    updates = ", ".join(f"{name} = s.{name} + excluded.{name}" for name in COUNTS)
    return f"""
        INSERT INTO channel_stats AS s (channel_id, {", ".join(COUNTS)})
        SELECT channel_id, {sums}
        FROM ({rows}) AS d
        GROUP BY channel_id
        HAVING {changed}
        ORDER BY channel_id
        ON CONFLICT (channel_id) DO UPDATE SET {updates}"""


def _trigger_function(name: str, body: str) -> str:
    return f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body};
            RETURN NULL;
        END
        $$"""


FUNCTIONS = {
    "catalog_channel_stats_new_channels": (
        "INSERT INTO channel_stats (channel_id) "
        "SELECT id FROM new_channels ORDER BY id ON CONFLICT DO NOTHING"
    ),
    "catalog_channel_stats_videos_inserted": _apply(_figures("new_videos", 1)),
    "catalog_channel_stats_videos_updated": _apply(
        _figures("new_videos", 1) + "\n        UNION ALL" + _figures("old_videos", -1)
    ),
    "catalog_channel_stats_videos_deleted": _apply(_figures("old_videos", -1)),
    "catalog_channel_stats_videos_truncated": (
        "UPDATE channel_stats SET "
        + ", ".join(f"{name} = 0" for name in COUNTS)
        + " WHERE "
        + " OR ".join(f"{name} <> 0" for name in COUNTS)
    ),
}
# PostgreSQL allows transition tables only on single-event triggers, hence one per event.
TRIGGERS = {
    "channel_stats_new_channels": (
        "AFTER INSERT ON channels REFERENCING NEW TABLE AS new_channels",
        "catalog_channel_stats_new_channels",
    ),
    "channel_stats_videos_inserted": (
        "AFTER INSERT ON videos REFERENCING NEW TABLE AS new_videos",
        "catalog_channel_stats_videos_inserted",
    ),
    "channel_stats_videos_updated": (
        "AFTER UPDATE ON videos REFERENCING OLD TABLE AS old_videos NEW TABLE AS new_videos",
        "catalog_channel_stats_videos_updated",
    ),
    "channel_stats_videos_deleted": (
        "AFTER DELETE ON videos REFERENCING OLD TABLE AS old_videos",
        "catalog_channel_stats_videos_deleted",
    ),
    "channel_stats_videos_truncated": (
        "AFTER TRUNCATE ON videos",
        "catalog_channel_stats_videos_truncated",
    ),
}
CHANNEL_CHECKS = ("subscriber_count", "video_count", "view_count")


def upgrade():
    # No video may be written between the count below and the triggers taking over.
    op.execute("LOCK TABLE channels, videos IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        "channel_stats",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in COUNTS),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_stats_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_stats")),
    )
    figures = _figures("videos", 1)
    sums = ", ".join(f"coalesce(sum(v.{name}), 0)::bigint" for name in COUNTS)
    op.execute(
        f"INSERT INTO channel_stats (channel_id, {', '.join(COUNTS)}) "
        f"SELECT c.id, {sums} FROM channels c LEFT JOIN ({figures}) v ON v.channel_id = c.id "
        "GROUP BY c.id"
    )
    for name, body in FUNCTIONS.items():
        op.execute(_trigger_function(name, body))
    for name, (when, function) in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")

    op.create_index(
        "ix_channel_stats_video_count", "channel_stats", ["video_count", "channel_id"], unique=False
    )
    op.create_index(
        "ix_channels_sort_name", "channels", [sa.literal_column("lower(name)"), "id"], unique=False
    )
    op.create_index(
        "ix_channels_sort_subscribers",
        "channels",
        [sa.literal_column("coalesce(subscriber_count, -1)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_channels_sort_views",
        "channels",
        [sa.literal_column("coalesce(view_count, -1)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_channels_hidden", "channels", ["id"], unique=False, postgresql_where=sa.text("hidden")
    )
    for column in CHANNEL_CHECKS:
        op.create_check_constraint(
            op.f(f"ck_channels_{column}_not_negative"), "channels", f"{column} >= 0"
        )
    op.execute("ANALYZE channel_stats")


def downgrade():
    for column in CHANNEL_CHECKS:
        op.drop_constraint(op.f(f"ck_channels_{column}_not_negative"), "channels", type_="check")
    op.drop_index("ix_channels_hidden", table_name="channels")
    op.drop_index("ix_channels_sort_views", table_name="channels")
    op.drop_index("ix_channels_sort_subscribers", table_name="channels")
    op.drop_index("ix_channels_sort_name", table_name="channels")
    for name, (when, _function) in TRIGGERS.items():
        table = "channels" if " ON channels" in when else "videos"
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
    op.drop_index("ix_channel_stats_video_count", table_name="channel_stats")
    op.drop_table("channel_stats")
