"""Undoing a whole batch (a bulk edit, a report import, or an undo of either).

A batch can be a report import's hundred thousand videos, so it is undone set-based, a
chunk of videos per statement, in one transaction, its audit rows sharing a new batch id.
Values changed again since the batch are conflicts: counted, shown by example, and kept
unless the person chooses to overwrite them (the rules of catalog.revert.service).

Nothing here commits: the caller owns the transaction.
"""

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from catalog import audit
from catalog.extensions import db
from catalog.models import CustomField, MetadataSync, User, Video, VideoFieldValue
from catalog.revert import states
from catalog.revert.service import (
    REFERENCES,
    Changed,
    FieldChange,
    RevertError,
    Rules,
    differences,
)
from catalog.revert.states import State, is_custom, typed
from catalog.videos import service
from catalog.videos.service import AUDITED_FIELDS

# Videos per statement when a batch is undone: big enough that a report import's 100,000
# videos take a few dozen round trips, small enough to keep each statement's memory modest.
CHUNK = 5000
EXAMPLES = 20

__all__ = ["BatchPlan", "Changed", "Conflict", "RevertError", "plan_batch", "undo_batch"]

CHANGED_MEANWHILE = "Some of the batch's videos changed meanwhile. Please look again."


@dataclass
class Conflict:
    video_key: str
    key: str
    then: Any
    set_to: Any
    now: Any


@dataclass
class BatchPlan:
    """What undoing a batch would do (the preview), or did (after `undo_batch`)."""

    batch_id: uuid.UUID
    overwrite: bool
    seen: int = 0  # the audit chain's position when the plan was made
    rows: int = 0  # the batch's audit rows of videos
    videos: int = 0  # videos the undo changes: values put back, deleted, or brought back
    fields: int = 0  # values put back on videos that stay
    deletes: int = 0  # videos the batch created, deleted by the undo
    recreates: int = 0  # videos the batch deleted, brought back by the undo
    conflicts: int = 0  # values changed again since the batch: kept unless overwriting
    conflict_videos: int = 0  # videos with such values
    kept: int = 0  # videos the batch created and someone changed since: kept unless overwriting
    unchanged: int = 0  # values already back where the batch found them
    gone: int = 0  # videos deleted since: nothing to put back
    exists_again: int = 0  # videos the batch deleted whose id is taken again
    unavailable: int = 0  # values that cannot be put back (their field or reference is gone)
    by_field: Counter = field(default_factory=Counter)
    examples: list[Conflict] = field(default_factory=list)
    undo_batch_id: uuid.UUID | None = None  # the undo's own batch, once applied
    keys: set[str] = field(default_factory=set, repr=False)  # the videos met so far

    def conflict(self, video_key: str, change: FieldChange) -> None:
        self.conflicts += 1
        if len(self.examples) < EXAMPLES:
            example = Conflict(video_key, change.key, change.then, change.set_to, change.now)
            self.examples.append(example)


@dataclass
class _Undo:
    """One video's part of a batch undo."""

    row_id: int
    action: str  # what the undo does: "update", "delete" or "create"
    video_key: str
    video: Any  # the video now (a row), None for a creation
    changes: dict[str, list]  # the undo's delta, as its audit row records it
    values: dict[str, Any] = field(default_factory=dict)  # fields to write
    custom: dict[str, Any] = field(default_factory=dict)  # custom values to write, by key


_VIDEO_COLUMNS = [Video.__table__.c[name] for name in ("id", "version", *AUDITED_FIELDS)]


def _batch_rows(batch_id: uuid.UUID) -> Iterator[list]:
    """The batch's audit rows of videos, a chunk at a time, in id order."""
    last = 0
    while True:
        chunk = db.session.execute(
            select(
                MetadataSync.id,
                MetadataSync.entity_key,
                MetadataSync.action,
                MetadataSync.changes,
            )
            .where(
                MetadataSync.batch_id == batch_id,
                MetadataSync.entity_type == "video",
                MetadataSync.id > last,
            )
            .order_by(MetadataSync.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        yield chunk
        last = chunk[-1].id


def _videos_now(keys: list[str], *, lock: bool) -> dict[str, Any]:
    statement = select(*_VIDEO_COLUMNS).where(
        Video.__table__.c.video_id == func.any(bindparam("keys", keys, type_=ARRAY(String)))
    )
    if lock:  # in id order, as every writer of many videos locks them
        statement = statement.order_by(Video.__table__.c.id).with_for_update()
    return {row.video_id: row for row in db.session.execute(statement)}


def _custom_now(video_ids: list[int], rules: Rules) -> dict[int, dict[str, Any]]:
    """{video id: {audit key: value}} of these videos."""
    names = {f.id: key for key, f in rules.fields.items()}
    table = VideoFieldValue.__table__
    rows = db.session.execute(
        select(
            table.c.video_id, table.c.field_id, table.c.value_text, table.c.value_numeric,
            table.c.value_boolean,
        ).where(table.c.video_id == func.any(bindparam("ids", video_ids, type_=ARRAY(Integer))))
    )  # fmt: skip
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        # The value as VideoFieldValue.value gives it, read off the plain row.
        found.setdefault(row.video_id, {})[names[row.field_id]] = VideoFieldValue.value.fget(row)
    return found


def _plan_update(plan: BatchPlan, row, video, now: State, rules: Rules) -> _Undo | None:
    undo = _Undo(row.id, "update", row.entity_key, video, {})
    conflicted = False
    for key, (old, new) in row.changes.items():
        key = rules.renames.get(key, key)
        if key == "video_id" or not (is_custom(key) or key in now):
            continue
        change = FieldChange(key, typed(key, old), typed(key, new), now.get(key))
        if change.now == change.then:
            plan.unchanged += 1
            continue
        if change.conflict:
            conflicted = True
            plan.conflict(row.entity_key, change)
            if not plan.overwrite:
                continue
        if rules.problem(key, change.then):
            plan.unavailable += 1
            continue
        undo.changes[key] = [change.now, change.then]
        (undo.custom if is_custom(key) else undo.values)[key] = change.then
        plan.by_field[key] += 1
    plan.conflict_videos += conflicted
    if not undo.changes:
        return None
    plan.fields += len(undo.changes)
    return undo


def _plan_chunk(plan: BatchPlan, chunk: list, rules: Rules, *, lock: bool) -> list[_Undo]:
    """Each video's part of the undo, deciding conflicts by `plan.overwrite`; counts go to
    `plan`. With `lock`, the chunk's videos stay locked until the transaction ends."""
    videos = _videos_now(sorted({row.entity_key for row in chunk}), lock=lock)
    custom = _custom_now([video.id for video in videos.values()], rules)
    for key in REFERENCES:
        rules.look_up(key, {(row.changes.get(key) or [None])[0] for row in chunk})
    undos = []
    for row in chunk:
        plan.rows += 1
        if row.entity_key in plan.keys:
            # Bulk edits, imports and undos write one row per video; a batch that does not
            # is not undone as a whole, rather than guessed at.
            raise RevertError(
                f"This batch changed video {row.entity_key} more than once: undo its changes "
                "one at a time."
            )
        plan.keys.add(row.entity_key)
        video = videos.get(row.entity_key)
        if row.action == "delete":
            undo = _plan_recreate(plan, row, video, rules)
        elif video is None:
            plan.gone += 1
            continue
        else:
            now = states.of_video(video, custom.get(video.id, {}))
            if row.action == "create":
                undo = _plan_delete(plan, row, video, now, rules)
            elif row.action == "update":
                undo = _plan_update(plan, row, video, now, rules)
            else:
                continue
        if undo is not None:
            undos.append(undo)
    plan.videos += len(undos)
    return undos


def _plan_delete(plan: BatchPlan, row, video, now: State, rules: Rules) -> _Undo | None:
    """A video the batch created goes, unless it changed since (then it is a conflict)."""
    created = states.forward(None, row, rules.renames)
    changed, _ = differences(created, now, rules)
    if changed:
        plan.conflict_videos += 1
        for change in changed:
            plan.conflict(row.entity_key, FieldChange(change.key, None, change.then, change.now))
        if not plan.overwrite:
            plan.kept += 1
            return None
    plan.deletes += 1
    last = {key: value for key, value in now.items() if is_custom(key)}
    changes = service.deletion_changes({f: now[f] for f in AUDITED_FIELDS}, last)
    return _Undo(row.id, "delete", row.entity_key, video, changes)


def _plan_recreate(plan: BatchPlan, row, video, rules: Rules) -> _Undo | None:
    """A video the batch deleted comes back, unless its id is taken again."""
    if video is not None:
        plan.exists_again += 1
        return None
    state = states.backward(None, row, rules.renames)
    for key, value in list(state.items()):
        if (is_custom(key) or key in REFERENCES) and rules.problem(key, value):
            plan.unavailable += 1
            if is_custom(key):
                del state[key]
            else:
                state[key] = None
    plan.recreates += 1
    blank = states.blank()
    changes = {key: [None, value] for key, value in state.items() if blank.get(key) != value}
    values = {key: value for key, value in state.items() if not is_custom(key)}
    custom = {key: value for key, value in state.items() if is_custom(key)}
    return _Undo(row.id, "create", row.entity_key, None, changes, values, custom)


def _chain_position() -> int:
    return db.session.scalar(select(func.coalesce(func.max(MetadataSync.chain_seq), 0)))


def plan_batch(batch_id: uuid.UUID, *, overwrite: bool = False) -> BatchPlan:
    """What undoing the batch would do: counts, and the first conflicts as examples.
    RevertError when the batch holds no change of a video."""
    plan = BatchPlan(batch_id, overwrite, seen=_chain_position())
    rules = Rules()
    for chunk in _batch_rows(batch_id):
        _plan_chunk(plan, chunk, rules, lock=False)
    if not plan.rows:
        raise RevertError("This batch holds no change of a video.")
    return plan


def _changed_since(batch_id: uuid.UUID, seen: int) -> bool:
    """Has any video of the batch been changed after chain position `seen`?"""
    batch = select(MetadataSync.entity_key).where(
        MetadataSync.batch_id == batch_id, MetadataSync.entity_type == "video"
    )
    return db.session.scalar(
        select(
            select(MetadataSync.id)
            .where(
                MetadataSync.chain_seq > seen,
                MetadataSync.entity_type == "video",
                MetadataSync.entity_key.in_(batch),
            )
            .exists()
        )
    )


def _write_values(undos: list[_Undo]) -> list:
    """Put the values back on the videos that stay, one statement; a new version each."""
    if not undos:
        return []
    names = [name for name in AUDITED_FIELDS if any(name in u.values for u in undos)]
    sets = "".join(f"{n} = CASE WHEN p.vals ? '{n}' THEN r.{n} ELSE v.{n} END, " for n in names)
    payload = [
        {"id": u.video.id, "version": u.video.version, "vals": _jsonable(u.values)} for u in undos
    ]
    return _each_once(
        f"""
UPDATE videos v SET {sets}version = v.version + 1, updated_at = now()
FROM jsonb_to_recordset(CAST(:payload AS jsonb)) AS p(id integer, version integer, vals jsonb),
     LATERAL jsonb_populate_record(NULL::videos, p.vals) AS r
WHERE v.id = p.id AND v.version = p.version
RETURNING v.id, v.video_id, v.title, v.channel_display_name
""",
        payload,
        CHANGED_MEANWHILE,
    )


def _each_once(statement: str, payload: list[dict], refusal: str) -> list:
    """Run a statement over a JSON payload of rows; each row must be written once (RETURNING
    one row per payload row), else another transaction got there first: refused."""
    returned = db.session.execute(text(statement), {"payload": json.dumps(payload)}).all()
    if len(returned) != len(payload):
        raise Changed(refusal)
    return returned


def _delete_videos(undos: list[_Undo]) -> list:
    if not undos:
        return []
    payload = [{"id": u.video.id, "version": u.video.version} for u in undos]
    return _each_once(
        """
DELETE FROM videos v
USING jsonb_to_recordset(CAST(:payload AS jsonb)) AS p(id integer, version integer)
WHERE v.id = p.id AND v.version = p.version
RETURNING v.id, v.video_id, v.title, v.channel_display_name
""",
        payload,
        CHANGED_MEANWHILE,
    )


def _create_videos(undos: list[_Undo]) -> list:
    if not undos:
        return []
    columns = ", ".join(AUDITED_FIELDS)
    payload = [_jsonable(u.values) for u in undos]
    return _each_once(
        f"""
INSERT INTO videos ({columns})
SELECT {columns} FROM jsonb_populate_recordset(NULL::videos, CAST(:payload AS jsonb))
ON CONFLICT (video_id) DO NOTHING
RETURNING id, video_id, title, channel_display_name
""",
        payload,
        "A video the batch deleted was created again meanwhile. Please look again.",
    )


def _write_custom(undos: list[_Undo], ids: dict[str, int], rules: Rules) -> None:
    """Put the custom values back: upserts and removals, a statement each."""
    upserts, removals = [], []
    for undo in undos:
        for key, value in undo.custom.items():
            custom = rules.fields[key]
            target = {"video_id": ids[undo.video_key], "field_id": custom.id}
            if value is None:
                removals.append(target)
                continue
            columns = {"value_text": None, "value_numeric": None, "value_boolean": None}
            columns[custom.value_column] = value
            upserts.append(target | columns)
    if upserts:
        db.session.execute(
            text("""
INSERT INTO video_field_values (video_id, field_id, value_text, value_numeric, value_boolean)
SELECT * FROM jsonb_to_recordset(CAST(:payload AS jsonb))
  AS x(video_id integer, field_id integer, value_text text, value_numeric numeric,
       value_boolean boolean)
ON CONFLICT ON CONSTRAINT uq_video_field_values_video_id_field_id DO UPDATE
SET value_text = excluded.value_text, value_numeric = excluded.value_numeric,
    value_boolean = excluded.value_boolean, updated_at = now()
"""),
            {"payload": json.dumps(upserts)},
        )
    if removals:
        db.session.execute(
            text("""
DELETE FROM video_field_values f
USING jsonb_to_recordset(CAST(:payload AS jsonb)) AS x(video_id integer, field_id integer)
WHERE f.video_id = x.video_id AND f.field_id = x.field_id
"""),
            {"payload": json.dumps(removals)},
        )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {key: audit.jsonable(value) for key, value in values.items()}


def undo_batch(batch_id: uuid.UUID, *, overwrite: bool, seen: int, actor: User | None) -> BatchPlan:
    """Undo every change of a batch, in one transaction: put back the values it changed,
    delete the videos it created, bring back the videos it deleted. Values changed again
    since (conflicts) are kept, or overwritten with `overwrite`; a video created by the batch
    and changed since is kept, or deleted with `overwrite`.

    `seen` is the audit chain's position when the preview was made: if a video of the batch
    changed after it, Changed is raised and nothing is written. Each video undone gets one
    audit row (source "revert", `reverts_id` = the row it undid), all in a new batch.
    Returns what was done."""
    if _changed_since(batch_id, seen):
        raise Changed("Videos of this batch changed since you looked. Please look again.")
    db.session.flush()
    # Hold the custom field definitions still while values are written (as the video
    # service does): a definition change takes them FOR UPDATE.
    db.session.execute(select(CustomField.id).with_for_update(read=True))
    # Every video of the batch, locked up front in id order, as every writer of many videos
    # takes them: the chunks below go by audit row, and locking them chunk after chunk would
    # take them in another order, which deadlocks with a bulk edit of the same videos.
    batch_keys = select(MetadataSync.entity_key).where(
        MetadataSync.batch_id == batch_id, MetadataSync.entity_type == "video"
    )
    service.lock_videos(select(Video.id).where(Video.video_id.in_(batch_keys)), deleting=True)
    rules = Rules()
    plan = BatchPlan(batch_id, overwrite, seen=seen, undo_batch_id=uuid.uuid4())
    rows: list[dict] = []

    def audited(returned, undos: list[_Undo], action: str) -> None:
        by_key = {undo.video_key: undo for undo in undos}
        for video in returned:
            undo = by_key[video.video_id]
            row = audit.video_row(
                video, action=action, changes=undo.changes, source="revert", actor=actor,
                batch_id=plan.undo_batch_id, reverts_id=undo.row_id,
            )  # fmt: skip
            rows.append(row)

    for chunk in _batch_rows(batch_id):
        undos = _plan_chunk(plan, chunk, rules, lock=True)
        updates = [u for u in undos if u.action == "update"]
        creates = [u for u in undos if u.action == "create"]
        deletes = [u for u in undos if u.action == "delete"]
        updated = _write_values(updates)
        created = _create_videos(creates)
        ids = {u.video_key: u.video.id for u in updates} | {r.video_id: r.id for r in created}
        _write_custom(updates + creates, ids, rules)
        deleted = _delete_videos(deletes)
        audited(updated, updates, "update")
        audited(created, creates, "create")
        audited(deleted, deletes, "delete")
    if not plan.rows:
        raise RevertError("This batch holds no change of a video.")
    # Every video of the batch that exists is locked by now: a change that committed after
    # the first check and before its lock shows here.
    if _changed_since(batch_id, seen):
        raise Changed("Videos of this batch changed since you looked. Please look again.")
    audit.record_many(rows)
    db.session.expire_all()
    return plan
