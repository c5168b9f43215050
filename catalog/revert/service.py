"""Undoing changes of one video: one change, a video back to a moment, a deleted video back.
A whole batch is undone by catalog.revert.batch, on the rules and plans defined here.

An undo is a change like any other, audited with source "revert" and what it undid:
`reverts_id` (the audit row undone) or `restored_to` (the time restored). A value changed
again since the change being undone is a conflict: it is shown, and kept unless the person
chooses to overwrite it; nothing is overwritten silently. One change, one video and one
deleted video are undone through catalog.videos.service (validation, optimistic locking and
the audit row as for any edit).

Nothing here commits: the caller owns the transaction.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Channel, CustomField, User, Video, VideoCategory
from catalog.revert import states
from catalog.revert.states import AuditRow, State, is_custom, typed
from catalog.rules import RuleError
from catalog.videos import custom_values, service
from catalog.videos.service import AUDITED_FIELDS, DERIVED_FIELDS

REFERENCES = {"channel_id": Channel, "category_id": VideoCategory}


class RevertError(RuleError):
    """The undo was refused and nothing was written; the message says why, for people."""


class Changed(RevertError):
    """What the undo would change moved on after the preview was shown: look again."""


@dataclass
class FieldChange:
    """One value an undo would put back."""

    key: str  # a field's name, or a custom field's audit key ("field:Name")
    then: Any  # the value to put back
    set_to: Any  # the value the undone change set (restore to a time: the value now)
    now: Any  # the value now

    @property
    def conflict(self) -> bool:
        """Changed again since the change being undone."""
        return self.now != self.set_to


@dataclass
class RevertPlan:
    """What reverting one change would do. For a creation, reverting deletes the video and
    `changes` lists what changed since it was created (each a conflict)."""

    row: AuditRow
    video: Video
    changes: list[FieldChange]
    unchanged: list[str] = field(default_factory=list)  # back at the old value already
    missing: list[str] = field(default_factory=list)  # custom fields that no longer exist

    @property
    def deletes(self) -> bool:
        return self.row.action == "create"

    @property
    def conflicts(self) -> list[FieldChange]:
        return [change for change in self.changes if change.conflict]


@dataclass
class RestorePlan:
    """A video brought back to a state: the one a deletion recorded (`row`), or the one it
    had at a time (`at`). `video` is the video now, None when it does not exist."""

    video_key: str
    target: State
    video: Video | None
    changes: list[FieldChange]
    missing: list[str] = field(default_factory=list)
    row: AuditRow | None = None
    at: datetime | None = None


class Rules:
    """Whether a value can be put back today: its custom field still exists and still takes
    it (options and a rating's maximum may have changed), the channel or category it points
    to still exists. Custom fields are read once; references are looked up once each."""

    def __init__(self):
        self.fields = {f.audit_key: f for f in db.session.scalars(select(CustomField))}
        self.renames = states.renamed_keys()
        self._exists: dict[str, dict[int, bool]] = {key: {} for key in REFERENCES}

    def look_up(self, key: str, ids: Collection[int]) -> None:
        """Learn which of `ids` (channel or category ids) exist, in one query."""
        known = self._exists[key]
        wanted = [i for i in ids if i is not None and i not in known]
        if not wanted:
            return
        model = REFERENCES[key]
        found = set(db.session.scalars(select(model.id).where(model.id.in_(wanted))))
        known.update((i, i in found) for i in wanted)

    def problem(self, key: str, value: Any) -> str | None:
        """Why `value` cannot be put back in `key`; None when it can."""
        if is_custom(key):
            custom = self.fields.get(key)
            if custom is None:
                return f"the custom field {key.removeprefix(states.CUSTOM)} no longer exists"
            try:
                custom_values.clean(custom, value)
            except custom_values.InvalidValue as exc:
                return f"{custom.name}: {exc} ({value!r} no longer fits the field)"
        elif key in REFERENCES and value is not None:
            self.look_up(key, [value])
            if not self._exists[key][value]:
                thing = "channel" if key == "channel_id" else "category"
                return f"the {thing} it was in (#{value}) no longer exists"
        return None

    def service_values(self, items: dict[str, Any]) -> tuple[dict[str, Any], dict]:
        """Values by field and custom values by CustomField, as the video service takes
        them; RevertError naming the first value that cannot be put back."""
        values: dict[str, Any] = {}
        custom: dict[CustomField, Any] = {}
        for key, value in items.items():
            problem = self.problem(key, value)
            if problem:
                raise RevertError(f"This cannot be put back: {problem}. Nothing was changed.")
            if is_custom(key):
                custom[self.fields[key]] = value
            else:
                values[key] = value
        return values, custom

    def creation_values(self, state: State) -> tuple[dict[str, Any], dict]:
        """What creating a video in `state` takes: the fields that are not blank, and the
        derived ones as they were (not derived anew)."""
        blank = states.blank()
        items = {
            key: value
            for key, value in state.items()
            if (is_custom(key) and key in self.fields)
            or key in DERIVED_FIELDS
            or blank.get(key, value) != value
        }
        return self.service_values(items)


def _video(video_key: str, *, lock: bool = False) -> Video | None:
    statement = select(Video).where(Video.video_id == video_key)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement).first()


def _check_video_row(row: AuditRow) -> None:
    if row.entity_type != "video":
        raise RevertError("Only changes of videos can be undone here.")


def differences(target: State, now: State, rules: Rules) -> tuple[list[FieldChange], list]:
    """The values in which `now` differs from `target`, and `target`'s custom values whose
    field no longer exists."""
    missing = sorted(k for k in target if is_custom(k) and k not in rules.fields)
    keys = [*AUDITED_FIELDS, *sorted({*target, *now} - set(AUDITED_FIELDS) - set(missing))]
    changes = [
        FieldChange(key, target.get(key), now.get(key), now.get(key))
        for key in keys
        if target.get(key) != now.get(key)
    ]
    return changes, missing


# -- one change ---------------------------------------------------------------------------------


def plan_revert(row: AuditRow, *, lock: bool = False) -> RevertPlan:
    """What reverting the change recorded in `row` would put back, and what changed since.

    An update's fields go back to their old values; a field whose value now is not the one
    the change set is a conflict. Reverting a creation deletes the video; whatever changed
    since the creation is a conflict. A deletion is undone by `restore_deleted` instead."""
    _check_video_row(row)
    if row.action == "delete":
        raise RevertError("This change deleted the video: restore the video instead.")
    if row.action not in ("create", "update"):
        raise RevertError("This row records no change of a video's values.")
    video = _video(row.entity_key, lock=lock)
    if video is None:
        raise RevertError(
            f"Video {row.entity_key} does not exist any more. Restore it from its deletion "
            "first, then revert this change."
        )
    rules = Rules()
    now = states.of_video(video, custom_values.audit_values(video.id))
    if row.action == "create":
        created = states.forward(None, row, rules.renames)
        changes, _ = differences(created, now, rules)
        return RevertPlan(row, video, [FieldChange(c.key, c.then, c.then, c.now) for c in changes])
    plan = RevertPlan(row, video, [])
    for key, (old, new) in row.changes.items():
        key = rules.renames.get(key, key)
        if is_custom(key) and key not in rules.fields:
            plan.missing.append(key)
        elif is_custom(key) or (key in now and key != "video_id"):
            then, set_to, current = typed(key, old), typed(key, new), now.get(key)
            if current == then:
                plan.unchanged.append(key)
            else:
                plan.changes.append(FieldChange(key, then, set_to, current))
    return plan


def apply_revert(
    row: AuditRow,
    *,
    restore: Collection[str],
    acknowledged: Collection[str],
    expected_version: int,
    actor: User | None,
) -> dict[str, list]:
    """Revert the change in `row`: put back the fields named in `restore` (for a creation:
    delete the video). Returns the changes made (empty for a deletion).

    `expected_version` is the video's version the preview showed and `acknowledged` the
    conflicts it showed; if the video moved on, or a field to put back became a conflict the
    person did not see, nothing is written (service.VersionConflict, Changed). A value that
    cannot be put back any more (RevertError) writes nothing either."""
    plan = plan_revert(row, lock=True)
    video = plan.video
    if video.version != expected_version:
        raise service.VersionConflict(video, expected_version)
    unseen = [c.key for c in plan.conflicts if c.key in restore and c.key not in acknowledged]
    if unseen:
        raise Changed(f"Changed again since you looked: {', '.join(unseen)}. Please look again.")
    if plan.deletes:
        if plan.changes and not set(acknowledged) >= {c.key for c in plan.changes}:
            raise Changed("The video changed since it was created. Please look again.")
        service.delete_video(video, actor=actor, source="revert", reverts_id=row.id)
        return {}
    chosen = {c.key: c.then for c in plan.changes if c.key in restore}
    if not chosen:
        return {}
    # A derived field the change did not touch stays as it is (not derived anew: putting
    # `administered` back must not stamp a new administered_at).
    for name in DERIVED_FIELDS:
        chosen.setdefault(name, getattr(video, name))
    values, custom = Rules().service_values(chosen)
    return service.update_video(
        video, values, expected_version=expected_version, actor=actor, source="revert",
        custom=custom, reverts_id=row.id,
    )  # fmt: skip


# -- a deleted video ------------------------------------------------------------------------------


def plan_restore_deleted(row: AuditRow) -> RestorePlan:
    """The video the deletion in `row` removed, with every value it recorded."""
    _check_video_row(row)
    if row.action != "delete":
        raise RevertError("Only a deletion can be restored; this change did not delete.")
    if _video(row.entity_key) is not None:
        raise RevertError(
            f"A video with the id {row.entity_key} exists again, so this one cannot be "
            "restored over it. Revert that video's changes, or restore it to a time, instead."
        )
    rules = Rules()
    target = states.backward(None, row, rules.renames)
    changes, missing = differences(target, states.blank(), rules)
    return RestorePlan(row.entity_key, target, None, changes, missing, row=row)


def restore_deleted(row: AuditRow, *, actor: User | None) -> Video:
    """Bring back the video the deletion in `row` removed, with its values and custom values
    (source "revert", `reverts_id` = the deletion). RevertError when a video with its id
    exists again, or a value cannot be put back (nothing is written then)."""
    plan = plan_restore_deleted(row)
    values, custom = Rules().creation_values(plan.target)
    try:
        return service.create_video(
            values, actor=actor, source="revert", custom=custom, reverts_id=row.id
        )
    except service.DuplicateVideo as exc:
        raise RevertError(str(exc)) from exc


# -- a video back to a time -----------------------------------------------------------------------


def plan_restore_to(video_key: str, at: datetime, *, lock: bool = False) -> RestorePlan:
    """The video with this YouTube id as it was at `at`, and each value that would change
    to get it back there (every value, when the video does not exist now)."""
    target = states.state_at(video_key, at)
    if target is None:
        raise RevertError(
            f"Video {video_key} did not exist at {at:%Y-%m-%d %H:%M:%S} UTC: there is no "
            "state to restore."
        )
    video = _video(video_key, lock=lock)
    rules = Rules()
    now = states.of_video(video, custom_values.audit_values(video.id)) if video else states.blank()
    changes, missing = differences(target, now, rules)
    return RestorePlan(video_key, target, video, changes, missing, at=at)


def restore_to(
    video_key: str, at: datetime, *, expected_version: int | None, actor: User | None
) -> int:
    """Put the video back as it was at `at` (source "revert", `restored_to` = `at`); a video
    deleted since is created again. Returns the number of values put back.

    `expected_version` is the version the preview showed (None: the preview showed no
    video); if the video moved on since, nothing is written."""
    plan = plan_restore_to(video_key, at, lock=True)
    rules = Rules()
    if plan.video is None:
        if expected_version is not None:
            raise Changed(f"Video {video_key} was deleted since you looked. Please look again.")
        values, custom = rules.creation_values(plan.target)
        try:
            service.create_video(
                values, actor=actor, source="revert", custom=custom, restored_to=at
            )
        except service.DuplicateVideo as exc:
            raise RevertError(str(exc)) from exc
        return len(plan.changes)
    if expected_version is None:
        raise Changed(f"Video {video_key} exists again since you looked. Please look again.")
    if not plan.changes:
        return 0
    items = {c.key: c.then for c in plan.changes}
    items |= {name: plan.target[name] for name in DERIVED_FIELDS}  # as they were, not derived
    values, custom = rules.service_values(items)
    changes = service.update_video(
        plan.video, values, expected_version=expected_version, actor=actor, source="revert",
        custom=custom, restored_to=at,
    )  # fmt: skip
    return len(changes)
