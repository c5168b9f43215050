"""The rules for changing channels. Every write of a channel goes through here and leaves its
audit row (entity "channel") in the same transaction. Nothing here commits or touches the
request: the web, the CLI and the report import share these functions, and the caller owns
the transaction.

A channel's catalog figures (its videos, their views, claims…) are not written here at
all: PostgreSQL keeps them in channel_stats from the videos themselves (migration 0005).
"""

from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from catalog import audit
from catalog.channels.countries import COUNTRIES
from catalog.extensions import db
from catalog.identifiers import valid_channel_id
from catalog.models import Channel, ChannelStats, User, schema_channels
from catalog.rules import RuleError, refused_when_taken

# The fields a person edits, in form order; `hidden` has its own actions.
EDITABLE_FIELDS = (
    "channel_id", "name", "image_url", "subscriber_count", "video_count", "view_count",
    "description", "country", "is_monetized",
)  # fmt: skip
AUDITED_FIELDS = (*EDITABLE_FIELDS, "hidden")
COUNT_FIELDS = ("subscriber_count", "video_count", "view_count")
NAME_MAX = 200
CHANNEL_ID_CONSTRAINT = "uq_channels_channel_id"
# Its audit rows keep the name it had then: its history reads well after a rename or a delete.
CHANNEL = audit.Entity("channel", key=attrgetter("channel_id"), channel_name=attrgetter("name"))


class ChannelError(RuleError):
    """A value the rules refuse; `field` names the form field it belongs to."""


class DuplicateChannel(ChannelError):
    def __init__(self, channel_id: str):
        super().__init__(f"A channel with the id {channel_id} already exists.", "channel_id")


class ChannelInUse(Exception):
    """The channel cannot be deleted: `usage` says what still refers to it, and how often."""

    def __init__(self, channel: Channel, usage: dict[str, int]):
        super().__init__(f"{channel.channel_id} is still in use: {usage}")
        self.usage = usage


def valid_image_url(value: str | None) -> bool:
    """An absolute http(s) URL with a host; anything else (javascript:, data:…) is refused."""
    if not value:
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value


def _normalize(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _check(values: dict[str, Any]) -> None:
    """The rules every path must keep, whatever form (or none) the values came through."""
    if "channel_id" in values and not valid_channel_id(values["channel_id"]):
        raise ChannelError(
            "A channel id is UC followed by 22 letters, digits, - or _.", "channel_id"
        )
    if "name" in values and not values["name"]:
        raise ChannelError("A channel needs a name.", "name")
    if values.get("name") and len(values["name"]) > NAME_MAX:
        raise ChannelError(f"A name can be at most {NAME_MAX} characters.", "name")
    if values.get("country") and values["country"] not in COUNTRIES:
        raise ChannelError("Choose a country from the list.", "country")
    if not valid_image_url(values.get("image_url")):
        raise ChannelError("An image URL starts with http:// or https://.", "image_url")
    for field in COUNT_FIELDS:
        if values.get(field) is not None and values[field] < 0:
            raise ChannelError("Not negative.", field)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: not editable fields of a channel")
    cleaned = {field: _normalize(value) for field, value in values.items()}
    if "is_monetized" in cleaned:
        cleaned["is_monetized"] = bool(cleaned["is_monetized"])
    if cleaned.get("country"):
        cleaned["country"] = cleaned["country"].upper()
    _check(cleaned)
    return cleaned


def create_channel(values: dict[str, Any], *, actor: User | None, source: str = "web") -> Channel:
    """Create a channel from `values` and record its creation with every value it starts with."""
    values = _clean(values)
    if "channel_id" not in values:
        raise ChannelError("A channel needs its YouTube channel id.", "channel_id")
    if "name" not in values:
        raise ChannelError("A channel needs a name.", "name")
    channel_id = values["channel_id"]
    if db.session.scalar(select(Channel.id).where(Channel.channel_id == channel_id)):
        raise DuplicateChannel(channel_id)
    channel = Channel(is_monetized=False, hidden=False)
    changes = {field: pair for field, pair in channel.assign(values).items() if pair[1] is not None}
    with refused_when_taken(CHANNEL_ID_CONSTRAINT, DuplicateChannel(channel_id)):
        db.session.add(channel)
    CHANNEL.write(channel, "create", changes, actor=actor, source=source)
    return channel


def update_channel(
    channel: Channel, values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Apply `values`; return the changes. A change of nothing writes nothing.

    The channel id is its identity and does not change. A rename changes the channel's
    name only: each video keeps the channel name its report gave it (reports carry one per
    row, and the next report brings the new one), so a rename is one audited row here, not
    a rewrite of every video of the channel.
    """
    values = _clean(values)
    if "channel_id" in values and values["channel_id"] != channel.channel_id:
        raise ChannelError("A channel's YouTube id cannot change.", "channel_id")
    changes = channel.assign(values)
    if changes:
        CHANNEL.write(channel, "update", changes, actor=actor, source=source)
    return changes


def set_hidden(
    channel: Channel, hidden: bool, *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Hide or unhide a channel. Its videos follow it out of (and back into) the default lists;
    their own `hidden` flags are left as they are."""
    if channel.hidden == hidden:
        return {}
    changes = {"hidden": [channel.hidden, hidden]}
    channel.hidden = hidden
    CHANNEL.write(channel, "update", changes, actor=actor, source=source)
    return changes


def usage(channel: Channel) -> dict[str, int]:
    """What refers to the channel, by kind, with counts; only kinds in use are listed.

    Videos are counted by channel_stats (exact, kept by PostgreSQL, no count(*) over a
    big channel). Custom-field schemas attached to it would silently apply more widely
    without it (a schema attached to no channel applies to every video), so they count too.
    Production tasks (planned: a task's channel will be a RESTRICT foreign key) do not exist
    yet; when they do, they are counted here as well.
    """
    schemas = (
        select(func.count())
        .select_from(schema_channels)
        .where(schema_channels.c.channel_id == channel.id)
        .scalar_subquery()
    )
    videos = (
        select(ChannelStats.video_count)
        .where(ChannelStats.channel_id == channel.id)
        .scalar_subquery()
    )
    row = db.session.execute(select(videos.label("videos"), schemas.label("schemas"))).one()
    found = {"videos": row.videos or 0, "schemas": row.schemas or 0}
    return {kind: count for kind, count in found.items() if count}


def delete_channel(channel: Channel, *, actor: User | None, source: str = "web") -> None:
    """Delete a channel nothing refers to, else raise ChannelInUse. Its history stays; the
    deletion row keeps every last value.

    The caller should hold the channel's row lock (SELECT … FOR UPDATE): a video being
    added to it concurrently then waits for this transaction, and the foreign key
    (ON DELETE RESTRICT) refuses whatever slips past.
    """
    found = usage(channel)
    if found:
        raise ChannelInUse(channel, found)
    changes = {
        field: [getattr(channel, field), None]
        for field in AUDITED_FIELDS
        if getattr(channel, field) not in (None, "", False)
    }
    CHANNEL.record(channel, "delete", changes, actor=actor, source=source)
    db.session.delete(channel)
    db.session.flush()


def ensure_channel(
    channel_id: str, name: str | None, *, actor: User | None, source: str
) -> Channel:
    """The channel with `channel_id`, created when the catalog does not know it yet.

    For report imports: a report row names its channel by id and display name. An unknown
    id creates the channel (named `name`, or its id when the report has no name); a known
    one keeps its identity and takes the report's name when it differs, a rename. Both are
    audited with `source`. A blank name never renames; a name longer than NAME_MAX is
    refused (ChannelError), never cut, as the importer refuses such a row. Safe against a
    concurrent import creating the same channel: the insert is ON CONFLICT DO NOTHING, and
    the loser reads the winner's row under a lock. An import calls it once per distinct
    channel of a report (two statements each), not once per row.
    """
    channel_id = (channel_id or "").strip()
    if not valid_channel_id(channel_id):
        raise ChannelError(f"{channel_id!r} is not a YouTube channel id.", "channel_id")
    name = (name or "").strip() or None
    if name:
        _check({"name": name})  # a name too long is refused, as a form's or a report's is
    created_id = db.session.scalar(
        insert(Channel)
        .values(channel_id=channel_id, name=name or channel_id)
        .on_conflict_do_nothing(index_elements=["channel_id"])
        .returning(Channel.id)
    )
    if created_id is not None:
        channel = db.session.get(Channel, created_id)
        changes = {"channel_id": [None, channel_id], "name": [None, channel.name]}
        CHANNEL.write(channel, "create", changes, actor=actor, source=source)
        return channel
    channel = db.session.scalars(
        select(Channel).where(Channel.channel_id == channel_id).with_for_update()
    ).one()
    if name and name != channel.name:
        changes = {"name": [channel.name, name]}
        channel.name = name
        CHANNEL.write(channel, "update", changes, actor=actor, source=source)
    return channel
