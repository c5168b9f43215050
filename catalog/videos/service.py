"""The rules for changing videos. Every write of a video goes through here and leaves its audit
row in the same transaction. Nothing here commits or touches the request: the web, the CLI
and the worker share these functions, and the caller owns the transaction."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    Text,
    and_,
    any_,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.exc import StaleDataError

from catalog import audit
from catalog.extensions import db
from catalog.models import Channel, CustomField, MetadataSync, User, Video, VideoFieldValue
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


def _normalize(value: Any) -> Any:
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
        new = _normalize(raw)
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
            setattr(video, field, _normalize(values[field]))
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
    video_id = _normalize(values.get("video_id"))
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
    if "video_id" in values and _normalize(values["video_id"]) != video.video_id:
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


# How many of the videos a bulk edit would change its preview shows, change by change.
BULK_SAMPLE = 20


@dataclass
class BulkVideo:
    """One video a bulk edit changes: what it is, and {field or audit key: [old, new]}."""

    id: int
    video_id: str
    title: str | None
    changes: dict[str, list]


@dataclass
class BulkPreview:
    """What a bulk edit would do: how many videos change, the first of them change by change,
    and a fingerprint of the whole (the videos, their old values, the new ones) that the
    confirmation carries back, so it applies exactly what was shown."""

    count: int
    sample: list[BulkVideo]
    fingerprint: str


@dataclass
class BulkResult:
    count: int
    batch_id: uuid.UUID | None  # None when nothing changed (no audit rows, no batch)


class BulkSetChanged(Exception):
    """What a confirmed bulk edit would change is not what its preview showed (a video was
    changed, added or removed meanwhile, or the chosen values differ); nothing was written.
    `preview` is what it would do now."""

    def __init__(self, preview: BulkPreview):
        super().__init__(f"{preview.count} videos would change now, not the ones previewed")
        self.preview = preview


def _bulk_checked(
    values: dict[str, Any], custom: dict[CustomField, Any] | None
) -> tuple[dict[str, Any], dict[CustomField, Any]]:
    unknown = set(values) - set(BULK_FIELDS)
    if unknown:
        raise ValueError(f"Bulk edit cannot set {', '.join(sorted(unknown))}")
    return {field: _normalize(value) for field, value in values.items()}, dict(custom or {})


def _bulk_plan(selection: Select, values: dict[str, Any], custom: dict[CustomField, Any]) -> Select:
    """Every selected video the edit would change, with the old value and a "differs" flag
    per field (`old_<name>`, `differs_<name>`; custom fields as `cf<id>`). The preview counts
    these rows and the write changes exactly these rows: one definition of "changes"."""
    table = Video.__table__
    source = table
    columns = [table.c.id, table.c.video_id, table.c.title, table.c.channel_display_name]
    differs = []
    for name, value in values.items():
        flag = table.c[name].is_distinct_from(value)
        columns += [table.c[name].label(f"old_{name}"), flag.label(f"differs_{name}")]
        differs.append(flag)
    for field, value in custom.items():
        stored = VideoFieldValue.__table__.alias(f"cf{field.id}")
        source = source.outerjoin(
            stored, and_(stored.c.video_id == table.c.id, stored.c.field_id == field.id)
        )
        old = stored.c[field.value_column]
        if value is None:  # clearing: every video that has a value changes
            flag = stored.c.video_id.is_not(None)
        else:
            flag = old.is_distinct_from(Decimal(value) if field.field_type == "rating" else value)
        columns += [old.label(f"old_cf{field.id}"), flag.label(f"differs_cf{field.id}")]
        differs.append(flag)
    # false() first: an empty OR would be left out, and every selected video listed.
    return (
        select(*columns)
        .select_from(source)
        .where(table.c.id.in_(selection), or_(false(), *differs))
    )


def _digest(plan) -> tuple:
    """(count, digest) of a plan's rows: the digest sums a 64-bit hash of each row's id and
    old values, so it needs no order and no memory however many videos change (a string of
    every row would grow with the catalog), and any row added, dropped or changed moves it.
    The title and channel name are left out: snapshots for the audit row, not what changes."""
    snapshots = ("title", "channel_display_name")
    row = func.json_build_array(*(column for column in plan.c if column.name not in snapshots))
    hashed = func.hashtextextended(cast(row, Text), 0)
    return func.count(), cast(func.coalesce(func.sum(hashed), 0), Text)


def _fingerprint(
    values: dict[str, Any], custom: dict[CustomField, Any], count: int, digest: str
) -> str:
    chosen = {"values": values, "custom": {str(f.id): v for f, v in custom.items()}}
    text = json.dumps([chosen, count, digest], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _bulk_changes(row, values: dict[str, Any], custom: dict[CustomField, Any]) -> dict:
    """A plan row's changes, as the audit row records them."""
    changes = {
        name: [getattr(row, f"old_{name}"), value]
        for name, value in values.items()
        if getattr(row, f"differs_{name}")
    }
    for field, value in custom.items():
        if getattr(row, f"differs_cf{field.id}"):
            old = getattr(row, f"old_cf{field.id}")
            old = int(old) if field.field_type == "rating" and old is not None else old
            changes[field.audit_key] = [old, value]
    return changes


def _sample(rows, values, custom) -> list[BulkVideo]:
    return [
        BulkVideo(row.id, row.video_id, row.title, _bulk_changes(row, values, custom))
        for row in rows[:BULK_SAMPLE]
    ]


def preview_bulk(
    selection: Select, values: dict[str, Any], *, custom: dict[CustomField, Any] | None = None
) -> BulkPreview:
    """What bulk_update would do, without writing: the exact number of videos that would
    change (counted as the write selects them), the first BULK_SAMPLE of them, and the
    fingerprint its confirmation passes back as `expected`."""
    values, custom = _bulk_checked(values, custom)
    plan = _bulk_plan(selection, values, custom).subquery("plan")
    count, digest = db.session.execute(select(*_digest(plan))).one()
    rows = db.session.execute(select(plan).order_by(plan.c.id).limit(BULK_SAMPLE)).all()
    return BulkPreview(
        count, _sample(rows, values, custom), _fingerprint(values, custom, count, digest)
    )


def apply_bulk(
    selection: Select,
    values: dict[str, Any],
    *,
    actor: User | None,
    custom: dict[CustomField, Any] | None = None,
    expected: str | None = None,
) -> BulkResult:
    """Set `values` (and `custom` field values) on every video whose id `selection` yields.

    Set-based: a few statements whatever the number of videos. Only videos that actually
    change are written, locked in id order first (so overlapping bulk edits queue rather
    than deadlock); each gets one audit row (source `bulk`) holding all of its changes, and
    every row of this edit shares one batch id. `expected`: the fingerprint of the preview
    the user confirmed; if what would change now differs, BulkSetChanged is raised before
    anything is written.
    """
    values, custom = _bulk_checked(values, custom)
    if not values and not custom:
        return BulkResult(0, None)
    db.session.flush()
    table = Video.__table__
    plan = (
        _bulk_plan(selection, values, custom)
        .order_by(table.c.id)
        .with_for_update(of=table)
        .cte("plan")
    )
    digest = select(_digest(plan)[1]).select_from(plan).scalar_subquery()
    rows = db.session.execute(select(plan, digest.label("digest")).order_by(plan.c.id)).all()
    total, checksum = len(rows), rows[0].digest if rows else "0"
    fingerprint = _fingerprint(values, custom, total, checksum)
    if expected is not None and fingerprint != expected:
        raise BulkSetChanged(BulkPreview(total, _sample(rows, values, custom), fingerprint))
    # The custom values as written (what the plan read of them, under a concurrent change of
    # a value, may be a moment old; the videos' own columns are re-read under their lock).
    custom_changes: dict[int, dict[str, list]] = {}
    for field, value in custom.items():
        flagged = [row.id for row in rows if getattr(row, f"differs_cf{field.id}")]
        written = custom_values.bulk_set(_ids(flagged), field, value) if flagged else {}
        for video_id, pair in written.items():
            custom_changes.setdefault(video_id, {})[field.audit_key] = pair
    changed = []
    for row in rows:
        changes = _bulk_changes(row, values, {}) | custom_changes.get(row.id, {})
        if changes:
            changed.append((row, changes))
    if not changed:
        return BulkResult(0, None)
    if values.get("category_id") is not None:
        heroes.check_moved([row.id for row, _ in changed], values["category_id"])
    db.session.execute(
        update(table)
        .where(table.c.id == any_(_id_array([row.id for row, _ in changed])))
        .values(**values, version=table.c.version + 1, updated_at=func.now())
    )
    batch_id = uuid.uuid4()
    # A plan row carries the id, title and channel an audit row snapshots (bulk edit sets
    # neither title nor channel).
    audit.record_many([
        audit.video_row(
            row, action="update", changes=changes, source="bulk", actor=actor,
            batch_id=batch_id,
        )
        for row, changes in changed
    ])  # fmt: skip
    db.session.expire_all()
    return BulkResult(len(changed), batch_id)


def _id_array(ids: list[int]):
    return literal(ids, ARRAY(Integer))


def _ids(ids: list[int]) -> Select:
    return select(Video.id).where(Video.id == any_(_id_array(ids)))


def bulk_update(
    selection: Select,
    values: dict[str, Any],
    *,
    actor: User | None,
    custom: dict[CustomField, Any] | None = None,
) -> int:
    """apply_bulk without a preview to match (the CLI, scripts, tests): the number of
    videos changed."""
    return apply_bulk(selection, values, actor=actor, custom=custom).count
