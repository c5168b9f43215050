"""Bulk edit: one change to many videos, previewed, then applied set-based.

The preview counts exactly the rows the write will change (one definition of "changes",
_bulk_plan) and carries a fingerprint of them; the confirmation applies only if the set is
still what was shown. Each video's change leaves its audit row, all in one batch, in the
same transaction; nothing here commits."""

import hashlib
import json
import uuid
from dataclasses import dataclass
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

from catalog import audit
from catalog.extensions import db
from catalog.models import CustomField, User, Video, VideoFieldValue
from catalog.videos import custom_values, heroes
from catalog.videos.service import (
    BULK_FIELDS,
    normalize,
)

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
    return {field: normalize(value) for field, value in values.items()}, dict(custom or {})


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
