"""Drafts: a production task before it enters the pipeline, made by staff in Catalog or
brought from a Notion page by the sync (sync.py). Both go through here, so both are checked
the same way and audited in the same transaction (entity "task", keyed by its Notion page).

A draft's every field may change. Once a task has left draft (queued, in production,
published...) the work has started from its title, topic, story direction and channel, so
only its priority still changes here; the rest stays as it was when it was queued.

Audit rows name the channel by its YouTube channel id (`"channel": ["UC…", "UC…"]`), which
reads on the task's timeline and survives a channel's renaming.
"""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog import audit
from catalog.extensions import db
from catalog.models import Channel, User
from catalog.models.task import TASK_PRIORITIES, Task
from catalog.rules import RuleError

# The fields of a draft, in the order a form and an audit row list them. `channel_id` is the
# catalog channel's key.
FIELDS = ("notion_page_id", "title", "topic", "story_direction", "channel_id", "priority")
# What still changes once a task has left draft.
PAST_DRAFT_FIELDS = frozenset({"priority"})
TITLE_MAX = 255
TOPIC_MAX = 500
# The column is text; a story direction is a paragraph or a page, never a book.
STORY_DIRECTION_MAX = 20_000
PAGE_ID_HELP = (
    "A Notion page id is 32 hexadecimal characters (dashes allowed), or paste the page's "
    "Notion URL."
)

_HEX32 = re.compile(r"[0-9a-f]{32}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalise_page_id(text: Any) -> str | None:
    """A Notion page id as the tasks table keeps it (32 lowercase hex digits), from the id
    itself, the id with dashes (as the API writes it), or a page's URL
    (https://www.notion.so/team/Title-<id>, or a database view's ?p=<id>); None if none."""
    if not isinstance(text, str):
        return None
    text = text.strip().lower()
    if _HEX32.fullmatch(text):
        return text
    if _UUID.fullmatch(text):
        return text.replace("-", "")
    parts = urlsplit(text)
    if (
        parts.scheme in ("http", "https")
        and parts.hostname
        and (
            parts.hostname == "notion.so" or parts.hostname.endswith((".notion.so", ".notion.site"))
        )
    ):
        # A page opened from a database view: the view's id is in the path, the page's in p.
        for candidate in parse_qs(parts.query).get("p", []):
            if found := normalise_page_id(candidate):
                return found
        last = parts.path.rstrip("/").rpartition("/")[2]
        tail = last.replace("-", "")[-32:]
        if _HEX32.fullmatch(tail):
            return tail
    return None


def _text(value: Any) -> str | None:
    """Text with the outer whitespace trimmed; empty is None."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def problems(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with each of the given draft fields (none: an empty dict). Only the
    fields present in `values` are checked, so an update may give some of them."""
    found: dict[str, str] = {}
    if "notion_page_id" in values and normalise_page_id(values["notion_page_id"]) is None:
        found["notion_page_id"] = PAGE_ID_HELP
    if "title" in values:
        title = _text(values["title"])
        if title is None:
            found["title"] = "A task needs a title."
        elif len(title) > TITLE_MAX:
            found["title"] = f"A title is at most {TITLE_MAX} characters (this is {len(title):,})."
    for name, limit in (("topic", TOPIC_MAX), ("story_direction", STORY_DIRECTION_MAX)):
        text = _text(values.get(name))
        if text is not None and len(text) > limit:
            label = name.replace("_", " ").capitalize()
            found[name] = f"{label} is at most {limit:,} characters (this is {len(text):,})."
    if "channel_id" in values:
        key = values["channel_id"]
        if not isinstance(key, int) or isinstance(key, bool):
            found["channel_id"] = "Choose the channel the video is for."
        elif db.session.get(Channel, key) is None:
            found["channel_id"] = "That channel is not in the catalog."
    if "priority" in values and values["priority"] not in TASK_PRIORITIES:
        found["priority"] = f"A priority is one of {', '.join(TASK_PRIORITIES)}."
    return found


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """The given draft fields, checked and normalised; the first problem is refused."""
    values = {name: value for name, value in values.items() if name in FIELDS}
    if found := problems(values):
        field, message = next(iter(found.items()))
        raise RuleError(message, field)
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if name == "notion_page_id":
            cleaned[name] = normalise_page_id(value)
        elif name in ("title", "topic", "story_direction"):
            cleaned[name] = _text(value)
        else:
            cleaned[name] = value
    return cleaned


def _refuse_taken(page_id: str, task: Task | None = None) -> None:
    statement = select(Task.id, Task.title).where(Task.notion_page_id == page_id)
    if task is not None:
        statement = statement.where(Task.id != task.id)
    if other := db.session.execute(statement).first():
        raise RuleError(
            f"Task #{other.id} ({other.title}) is already made from this Notion page.",
            "notion_page_id",
        )


def _channel_key(channel_pk: int | None) -> str | None:
    """How an audit row names a channel: its YouTube channel id."""
    if channel_pk is None:
        return None
    return db.session.scalar(select(Channel.channel_id).where(Channel.id == channel_pk))


def _audit_changes(changes: dict[str, list]) -> dict[str, list]:
    named = {}
    for field, (old, new) in changes.items():
        if field == "channel_id":
            named["channel"] = [_channel_key(old), _channel_key(new)]
        else:
            named[field] = [old, new]
    return named


def _record(task: Task, action: str, changes: dict[str, list], *, actor, source) -> None:
    audit.record(
        audit.entity_row(
            "task", task.id, task.notion_page_id, action=action,
            changes=_audit_changes(changes), source=source, actor=actor,
        )
    )  # fmt: skip


def create_draft(values: dict[str, Any], *, actor: User | None, source: str = "web") -> Task:
    """Make a draft from `values` (every field of FIELDS; topic, story direction and
    priority may be left out) and record its creation with the values it starts with."""
    cleaned = clean(values)
    for required in ("notion_page_id", "title", "channel_id"):
        if cleaned.get(required) is None:
            raise RuleError(problems({required: None})[required], required)
    cleaned.setdefault("priority", "normal")
    _refuse_taken(cleaned["notion_page_id"])
    task = Task(status="draft", **cleaned)
    try:
        with db.session.begin_nested():  # another save of the same page got there first
            db.session.add(task)
            db.session.flush()
    except IntegrityError:
        raise RuleError(
            "A task was made from this Notion page a moment ago.", "notion_page_id"
        ) from None
    changes = {name: [None, cleaned[name]] for name in FIELDS if cleaned.get(name) is not None}
    _record(task, "create", {**changes, "status": [None, "draft"]}, actor=actor, source=source)
    db.session.flush()
    return task


def changeable(task: Task) -> frozenset[str]:
    """The fields that may change on `task` in its current status."""
    return frozenset(FIELDS) if task.status == "draft" else PAST_DRAFT_FIELDS


def update_draft(
    task: Task, values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Apply the given fields to `task` (read under a row lock by the caller); the changes,
    recorded in one audit row. Nothing different: nothing written. A field that may no
    longer change (see the module's docstring) is refused when it would."""
    cleaned = clean(values)
    changes = {
        name: [getattr(task, name), value]
        for name, value in cleaned.items()
        if getattr(task, name) != value
    }
    if not changes:
        return {}
    if frozen := [name for name in changes if name not in changeable(task)]:
        raise RuleError(
            f"This task is {task.status.replace('_', ' ')}, past draft: only its priority "
            "can change now.",
            frozen[0],
        )
    if "notion_page_id" in changes:
        _refuse_taken(cleaned["notion_page_id"], task)
    for name, (_old, new) in changes.items():
        setattr(task, name, new)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise RuleError(
            "A task was made from this Notion page a moment ago.", "notion_page_id"
        ) from None
    _record(task, "update", changes, actor=actor, source=source)
    db.session.flush()
    return changes
