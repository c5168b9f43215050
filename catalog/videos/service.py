"""The rules for changing videos. Every write of a video goes through here and leaves its audit
row in the same transaction. Nothing here commits or touches the request: the web, the CLI
and the worker share these functions, and the caller owns the transaction."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Select,
    func,
    select,
)
from sqlalchemy.orm.exc import StaleDataError

from catalog import audit
from catalog.extensions import db
from catalog.models import Channel, CustomField, MetadataSync, User, Video
from catalog.models.video import ENGAGEMENT_FIELDS, MONETIZATION_FIELDS
from catalog.rules import RuleError
from catalog.videos import custom_values, heroes

# The fields a person edits, in form order. Everything audited is listed here or derived
# from something listed here (channel_display_name from channel_id, administered_at).
EDITABLE_FIELDS = (
    "video_id", "asset_id", "custom_id",
    "title", "artist", "genre", "label", "channel_id", "category_id",
    "upc", "isrc", "claimed_status", "claimed_by_another_owner", "other_owners_claiming",
    *MONETIZATION_FIELDS,
    *ENGAGEMENT_FIELDS,
    "privacy_status", "effective_policy", "video_length", "views",
    "hidden", "administered", "is_short", "is_live_stream", "upload_source",
    "published", "is_hero", "time_published", "notes",
)  # fmt: skip
DERIVED_FIELDS = ("channel_display_name", "administered_at")
AUDITED_FIELDS = (*EDITABLE_FIELDS, *DERIVED_FIELDS)

# What bulk edit may set: shared classifications, never identities or per-video facts.
BULK_FIELDS = (
    "label", "category_id", "claimed_status", "claimed_by_another_owner",
    *MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS,
    "privacy_status", "effective_policy", "hidden", "is_short", "is_live_stream",
    "published", "notes",
)  # fmt: skip


class VersionConflict(Exception):
    """Someone saved the video after the form was opened; nothing was written."""

    def __init__(self, video: Video, expected_version: int):
        super().__init__(f"{video.video_id} changed since version {expected_version}")
        self.video = video
        self.expected_version = expected_version


class DuplicateVideo(RuleError):
    def __init__(self, video_id: str):
        super().__init__(f"A video with the id {video_id} already exists.", "video_id")
        self.video_id = video_id


def normalize(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, list | tuple):
        return [item.strip() for item in value if item and item.strip()]
    return value


def _apply(video: Video, values: dict[str, Any], *, restoring: bool = False) -> dict[str, list]:
    """Set the values that differ and return {field: [old, new]} for them.

    The derived fields follow what they derive from (the channel's name, the time a video
    became administered). A revert (`restoring`) may also give them: it puts back the values
    an audit row recorded, not what they would be derived as today."""
    allowed = AUDITED_FIELDS if restoring else EDITABLE_FIELDS
    derived_before = {field: getattr(video, field) for field in DERIVED_FIELDS}
    changes: dict[str, list] = {}
    for field, raw in values.items():
        if field not in allowed:
            raise ValueError(f"{field} is not an editable field")
        if field in DERIVED_FIELDS:
            continue
        new = normalize(raw)
        if field in ("artist", "genre"):
            new = new or []
        old = getattr(video, field)
        if old != new:
            changes[field] = [old, new]
            setattr(video, field, new)
    if "channel_id" in changes:
        channel = db.session.get(Channel, video.channel_id) if video.channel_id else None
        video.channel_display_name = channel.name[:100] if channel else None
    if "administered" in changes and video.administered:
        video.administered_at = datetime.now(UTC)
    for field in DERIVED_FIELDS:
        if field in values:  # restoring: the recorded value wins over the derived one
            setattr(video, field, normalize(values[field]))
        if getattr(video, field) != derived_before[field]:
            changes[field] = [derived_before[field], getattr(video, field)]
    if "is_hero" in changes or "category_id" in changes:
        heroes.check(video)
    return changes


def _apply_custom(
    video: Video, custom: dict[CustomField, Any] | None, *, versioned: bool = False
) -> dict[str, list]:
    """Write custom field values; a video whose only change is a custom value still gets a
    new version, so optimistic locking and "last change" see it. `versioned`: the video's
    own fields changed too, which gives it its new version already (one per edit)."""
    if not custom:
        return {}
    changes = custom_values.apply(
        video.id, custom, {field.id: value for field, value in custom.items()}
    )
    if changes and not versioned:
        video.updated_at = datetime.now(UTC)  # makes the row dirty: version + 1 at flush
    return changes


def create_video(
    values: dict[str, Any],
    *,
    actor: User | None,
    source: str = "web",
    custom: dict[CustomField, Any] | None = None,
    reverts_id: int | None = None,
    restored_to: datetime | None = None,
) -> Video:
    """Create a video from `values` and record its creation with every value it starts with.

    A revert that brings a deleted video back passes what it undid (`reverts_id`: the
    deletion's audit row, or `restored_to`: the time restored); it may give derived fields."""
    video_id = normalize(values.get("video_id"))
    if video_id and db.session.scalar(select(Video.id).where(Video.video_id == video_id)):
        raise DuplicateVideo(video_id)
    video = Video(artist=[], genre=[])
    restoring = reverts_id is not None or restored_to is not None
    changes = _apply(video, values, restoring=restoring)
    db.session.add(video)
    db.session.flush()
    changes |= _apply_custom(video, custom)
    row = audit.video_row(
        video, action="create", changes=changes, source=source, actor=actor,
        reverts_id=reverts_id, restored_to=restored_to,
    )  # fmt: skip
    audit.record(row)
    db.session.flush()
    return video


def update_video(
    video: Video,
    values: dict[str, Any],
    *,
    expected_version: int | None,
    actor: User | None,
    source: str = "web",
    custom: dict[CustomField, Any] | None = None,
    reverts_id: int | None = None,
    restored_to: datetime | None = None,
) -> dict[str, list]:
    """Apply `values` (and `custom` field values, already cleaned); return the changes.
    A change of nothing writes nothing.

    `expected_version` is the version the editor saw; if the video has moved on since,
    VersionConflict is raised before anything is changed. A revert passes what it undid
    (`reverts_id`: the audit row, or `restored_to`: the time restored) and may give the
    derived fields (channel_display_name, administered_at) as recorded.
    """
    if expected_version is not None and video.version != expected_version:
        raise VersionConflict(video, expected_version)
    if "video_id" in values and normalize(values["video_id"]) != video.video_id:
        raise ValueError("A video's YouTube id cannot change.")
    restoring = reverts_id is not None or restored_to is not None
    changes = _apply(video, values, restoring=restoring)
    changes |= _apply_custom(video, custom, versioned=bool(changes))
    if not changes:
        return changes
    try:
        db.session.flush()
    except StaleDataError as exc:  # a concurrent save won the race for this version
        raise VersionConflict(video, expected_version or video.version) from exc
    row = audit.video_row(
        video, action="update", changes=changes, source=source, actor=actor,
        reverts_id=reverts_id, restored_to=restored_to,
    )  # fmt: skip
    audit.record(row)
    db.session.flush()
    return changes


def deletion_changes(values: dict[str, Any], custom: dict[str, Any]) -> dict[str, list]:
    """The delta of a deletion: every last value that is not empty, the custom values under
    their audit keys included, so the row alone can bring the video back."""
    # Not `in (None, [], False)`: 0 == False, and a video with no views has 0 views to keep.
    changes = {
        field: [values[field], None]
        for field in AUDITED_FIELDS
        if not (values[field] is None or values[field] is False or values[field] == [])
    }
    changes |= {key: [value, None] for key, value in custom.items() if value is not None}
    return changes


def delete_video(
    video: Video, *, actor: User | None, source: str = "web", reverts_id: int | None = None
) -> None:
    """Delete a video. Its history stays; the deletion row keeps every last value, custom
    field values included. A revert that undoes the video's creation passes `reverts_id`."""
    changes = deletion_changes(
        {field: getattr(video, field) for field in AUDITED_FIELDS},
        custom_values.audit_values(video.id),
    )
    row = audit.video_row(
        video, action="delete", changes=changes, source=source, actor=actor, reverts_id=reverts_id
    )
    audit.record(row)
    db.session.delete(video)
    db.session.flush()


def changes_since(video: Video, version: int) -> list[MetadataSync]:
    """The audit rows written after `version`: each committed change bumps the version once
    and writes one row, so they are the newest `video.version - version` rows."""
    missed = video.version - version
    if missed <= 0:
        return []
    return list(
        db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == video.id)
            .order_by(MetadataSync.id.desc())
            .limit(missed)
        )
    )


def lock_videos(selection: Select, *, deleting: bool = False) -> int:
    """Lock the videos whose id `selection` yields, in id order, until the transaction ends;
    how many there are.

    Every writer of many videos takes their locks this way, first, before it writes anything
    (custom values included): two such writers then queue at the first video they share
    instead of each holding what the other waits for (a deadlock). Without the ORDER BY,
    rows are locked in the order the plan meets them, which follows where updates happened
    to leave them in the table. FOR NO KEY UPDATE, as an UPDATE itself takes: rows that only
    point to a video (its custom values, its progress) may still be added meanwhile; FOR
    UPDATE when some of them may be deleted (`deleting`)."""
    locked = (
        select(Video.id)
        .where(Video.id.in_(selection))
        .order_by(Video.id)
        .with_for_update(key_share=not deleting)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(locked))
