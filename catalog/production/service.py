"""The rules of production tasks: every change of a task goes through here.

Each step checks the transition table (catalog.production.transitions) and the actor's
right to take it, changes the task, and adds its audit row (entity "task", changes such as
{"status": [old, new]}) to the same transaction. Nothing here commits: the web, the JSON
API, the CLI and the background worker own their transactions. A step that does not fit
the task's state raises TaskStateError, which carries the current status (the API answers
409 with it); any other refusal is a RuleError. The database refuses a status change that
is not in the table whatever path writes it (migration 0015).

Actors: a User (a person, through the web or the shell), a PipelineWorker (audited with no
user and the email "worker:<name>"), or None for the system (the lease expiry, Notion).
"""

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import current_app
from sqlalchemy import Row, func, inspect, select

from catalog import audit
from catalog.extensions import db
from catalog.models import Channel, PipelineWorker, Task, User, Video
from catalog.models.task import STAGES, TASK_PRIORITIES
from catalog.production import claim as claims
from catalog.production import transitions
from catalog.production.transitions import ERRORS, EXPIRY, GATES, HELD, STAGE_FLOW, SYSTEM, WORKER
from catalog.rules import RuleError

Actor = User | PipelineWorker | None

RESULT_FIELDS = ("asset_url", "composite_url", "video_url", "audio_url", "sfx_url", "final_url")
EDITABLE = {"title": 255, "topic": 500, "story_direction": None}
# Until a worker has started on it, a task may still move to another channel.
CHANNEL_EDITABLE = ("draft", "queued")
URL_LENGTH = 1000
MESSAGE_LENGTH = 2000
VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"}
EXPIRED_UPLOAD = "lease expired while uploading: check YouTube before retrying"


class TaskStateError(RuleError):
    """The step does not fit the task's current state (or its holder); `status` is the
    state it is in now."""

    def __init__(self, message: str, status: str):
        super().__init__(message, field="status")
        self.status = status


# -- the common steps ----------------------------------------------------------------------


def _lock(task: Task) -> Task:
    """The task, locked and re-read: the state checks below see what is committed now."""
    return db.session.scalars(
        select(Task)
        .where(Task.id == task.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _kind(actor: Actor) -> str:
    if actor is None:
        return SYSTEM
    return WORKER if isinstance(actor, PipelineWorker) else "user"


def check_transition(task: Task, new: str, actor: Actor) -> None:
    """Refuse old -> new unless the table has it and `actor` may take it."""
    old = task.status
    declared = transitions.who(old, new)
    if declared is None:
        raise TaskStateError(f"A task that is {_words(old)} cannot become {_words(new)}.", old)
    kind = _kind(actor)
    if kind == "user":
        allowed = declared not in (WORKER, SYSTEM) and actor.has_permission(declared)
    else:
        allowed = transitions.may(kind, old, new)
    if not allowed:
        raise RuleError(
            f"Moving a task from {_words(old)} to {_words(new)} is for {_actor_words(declared)}.",
            field="status",
        )


def _words(status: str) -> str:
    return status.replace("_", " ")


def _actor_words(declared: str) -> str:
    if declared == WORKER:
        return "a pipeline worker"
    if declared == SYSTEM:
        return "the lease expiry"
    return f"people with the {declared} permission"


def audit_row(
    task: Task, changes: dict[str, list], *, actor: Actor, source: str, action: str = "update"
) -> dict:
    """The audit row of a change of `task` (an actor that is a worker: "worker:<name>")."""
    row = audit.entity_row(
        "task", task.id, task.notion_page_id, action=action, changes=changes, source=source,
        actor=actor if isinstance(actor, User) else None,
    )  # fmt: skip
    if isinstance(actor, PipelineWorker):
        row["user_email"] = f"worker:{actor.name}"
    return row


def move(
    task: Task,
    new: str,
    *,
    actor: Actor,
    source: str,
    changes: dict[str, list] | None = None,
    locked: bool = False,
) -> Task:
    """Take `task` from its state to `new` as `actor`: checked, changed, audited. Any
    other changes made alongside are passed in `changes` for the same audit row."""
    task = task if locked else _lock(task)
    old = task.status
    check_transition(task, new, actor)
    task.status = new
    # What the trigger sets too, so that the loaded task says it without a reload.
    task.status_changed_at = func.now()
    if new in ERRORS:
        task.failed_from = old
    if new not in HELD or old not in HELD:
        # Leaving a worker's hands (done, failed, expired, sent back): nobody holds it.
        task.claimed_by = None
        task.claimed_at = None
        task.lease_expires_at = None
    db.session.flush()
    audit.record(
        audit_row(task, {"status": [old, new], **(changes or {})}, actor=actor, source=source)
    )
    return task


# -- people ----------------------------------------------------------------------------------


def queue(task: Task, *, actor: User, source: str = "web") -> Task:
    """A draft joins the queue: workers may claim it from now on."""
    return move(task, "queued", actor=actor, source=source)


def approve(task: Task, *, actor: User, source: str = "web") -> Task:
    """Pass a review gate (assets, video, audio, assembly, final review)."""
    task = _lock(task)
    if task.status not in GATES:
        raise TaskStateError(f"A task that is {_words(task.status)} awaits no review.", task.status)
    return move(task, GATES[task.status][0], actor=actor, source=source, locked=True)


def send_back(task: Task, *, actor: User, source: str = "web", reason: str | None = None) -> Task:
    """Refuse a stage's result at its gate: the stage is generated again. The reason, if
    any, is appended to the error log (which the stage's worker reads)."""
    task = _lock(task)
    if task.status not in GATES:
        raise TaskStateError(f"A task that is {_words(task.status)} awaits no review.", task.status)
    changes = {}
    if reason and reason.strip():
        changes["error_log"] = _append_log(task, f"sent back: {reason.strip()}", actor)
    return move(task, GATES[task.status][1], actor=actor, source=source, changes=changes,
                locked=True)  # fmt: skip


def retry(task: Task, *, actor: User, source: str = "web") -> Task:
    """An error goes back to the state it failed from (the trigger sets `failed_from`)."""
    task = _lock(task)
    if task.status not in ERRORS or task.failed_from is None:
        raise TaskStateError(f"A task that is {_words(task.status)} has nothing to retry.",
                             task.status)  # fmt: skip
    return move(task, task.failed_from, actor=actor, source=source, locked=True)


def cancel(task: Task, *, actor: User, source: str = "web") -> Task:
    """Back to draft, from the states the table allows (none that a worker holds)."""
    return move(task, "draft", actor=actor, source=source)


def set_priority(task: Task, priority: str, *, actor: User, source: str = "web") -> Task:
    """Change the task's priority (its place in the queue)."""
    if priority not in TASK_PRIORITIES:
        raise RuleError(f"The priority is one of {', '.join(TASK_PRIORITIES)}.", field="priority")
    require_editor(actor)
    task = _lock(task)
    if task.status == "published":
        raise TaskStateError("A published task has no priority to change.", task.status)
    if task.priority != priority:
        old, task.priority = task.priority, priority
        db.session.flush()
        audit.record(audit_row(task, {"priority": [old, priority]}, actor=actor, source=source))
    return task


def edit(task: Task, values: dict[str, Any], *, actor: User, source: str = "web") -> Task:
    """Change a task's title, topic, story direction, or (before a worker starts on it) its
    channel. Only what differs is written and audited."""
    require_editor(actor)
    task = _lock(task)
    changes: dict[str, list] = {}
    for field, raw in values.items():
        if field == "channel_id":
            new = raw
            if new != task.channel_id:
                if task.status not in CHANNEL_EDITABLE:
                    raise TaskStateError(
                        "A task's channel can change only while it is a draft or queued.",
                        task.status,
                    )
                if db.session.get(Channel, new) is None:
                    raise RuleError("There is no such channel.", field="channel_id")
        elif field in EDITABLE:
            new = raw.strip() if isinstance(raw, str) else raw
            new = new or None
            limit = EDITABLE[field]
            if field == "title" and not new:
                raise RuleError("A task needs a title.", field="title")
            if limit and new and len(new) > limit:
                raise RuleError(f"At most {limit} characters.", field=field)
        else:
            raise RuleError(f"{field} cannot be edited.", field=field)
        if getattr(task, field) != new:
            changes[field] = [getattr(task, field), new]
            setattr(task, field, new)
    if changes:
        db.session.flush()
        audit.record(audit_row(task, changes, actor=actor, source=source))
    return task


def require_editor(actor: User) -> None:
    """Refuse anyone but a person who may edit the catalog (the bulk actions use it too)."""
    if not isinstance(actor, User) or not actor.has_permission(transitions.USER):
        raise RuleError(f"This is for {_actor_words(transitions.USER)}.")


def _append_log(task: Task, message: str, actor: Actor) -> list:
    """Append a timestamped line to the error log (never rewritten); its [old, new]."""
    who = actor.name if isinstance(actor, PipelineWorker) else getattr(actor, "email", "system")
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    old = task.error_log or ""
    task.error_log = f"{old}[{stamp}] {who}: {message}\n"
    return [old, task.error_log]


# -- workers ----------------------------------------------------------------------------------


def _check_worker(worker: PipelineWorker, stage: str | None = None) -> None:
    if not isinstance(worker, PipelineWorker):
        raise RuleError("Only a pipeline worker claims and reports work.")
    if worker.revoked_at is not None:
        raise RuleError(f"The worker {worker.name} has been revoked.")
    if stage is not None and stage not in (worker.stages or ()):
        raise RuleError(f"The worker {worker.name} may not work on the {stage} stage.",
                        field="stage")  # fmt: skip


def _held(task: Task, worker: PipelineWorker) -> Task:
    """The task, locked, if `worker` holds it; else TaskStateError."""
    _check_worker(worker)
    task = _lock(task)
    if task.status not in HELD or task.claimed_by != worker.id:
        raise TaskStateError(
            f"The task is {_words(task.status)} and not held by {worker.name}.", task.status
        )
    stage = transitions.stage_of(task.status)
    _check_worker(worker, stage)
    return task


def _lease() -> int:
    return int(current_app.config["PIPELINE_LEASE_SECONDS"])


def claim(stage: str, *, worker: PipelineWorker, source: str = "api") -> Row | None:
    """The next task for `stage` (claim.py says which), now held by `worker` with a lease,
    audited: the claim statement's row of the task (its columns, as a worker is told them),
    or None when there is none. One statement in all, unless leases have run out: then they
    are returned to the queue too, and when the queue had nothing else, claimed from."""
    if stage not in STAGES:
        raise RuleError(f"The stage is one of {', '.join(STAGES)}.", field="stage")
    if not isinstance(worker, PipelineWorker):
        _check_worker(worker)
    worker_id = _identity(worker)
    row = claims.claim_next(stage, worker_id, _lease(), source)
    if not row.allowed:
        _check_worker(worker, stage)  # says why (revoked, or not this stage's worker)
        return None  # changed meanwhile: now it may, but this claim took nothing
    if row.overdue:
        expire_leases(limit=10, source=source)
        if row.id is None:  # nothing was queued: what just expired may be
            row = claims.claim_next(stage, worker_id, _lease(), source)
    if row.id is None:
        return None
    # A loaded copy of the task (a test's, a page's) would still say what it was before.
    loaded = db.session.identity_map.get(db.session.identity_key(Task, row.id))
    if loaded is not None:
        db.session.expire(loaded)
    return row


def _identity(entity: Any) -> int:
    """An entity's id without loading it again: after a commit its attributes are expired,
    and a worker that claims in a loop would otherwise be read again before each claim (the
    claim statement checks the worker itself)."""
    state = inspect(entity)
    if state.identity is None and state.pending:
        db.session.flush()  # a worker added in this transaction gets its id
    return state.identity[0] if state.identity else entity.id


def heartbeat(task: Task, *, worker: PipelineWorker, source: str = "api") -> Task:
    """The worker is still on it: its lease runs PIPELINE_LEASE_SECONDS from now. Not
    audited (it changes no state; the lease is the worker's own bookkeeping)."""
    task = _held(task, worker)
    task.lease_expires_at = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, _lease())
    db.session.flush()
    db.session.refresh(task, ["lease_expires_at"])
    return task


def start(task: Task, *, worker: PipelineWorker, source: str = "api") -> Task:
    """A claimed task's first stage begins (claimed -> generating_assets)."""
    task = _held(task, worker)
    return move(task, "generating_assets", actor=worker, source=source, locked=True)


def report_done(
    task: Task, links: dict[str, str], *, worker: PipelineWorker, source: str = "api"
) -> Task:
    """The worker's stage is done; its result links are kept on the task. The stage's own
    link (e.g. asset_url for assets) is required; others may come along."""
    task = _held(task, worker)
    stage = transitions.stage_of(task.status)
    if task.status == "claimed" or stage == "upload":
        raise TaskStateError(
            "Start the stage first." if stage == "assets" else "Report the upload instead.",
            task.status,
        )
    flow = STAGE_FLOW[stage]
    if not links.get(flow["result"]):
        raise RuleError(f"The {stage} stage reports its {flow['result']}.", field=flow["result"])
    changes = {}
    for field, url in links.items():
        if field not in RESULT_FIELDS:
            raise RuleError(f"{field} is not a result link.", field=field)
        url = _checked_url(url, field)
        if getattr(task, field) != url:
            changes[field] = [getattr(task, field), url]
            setattr(task, field, url)
    return move(task, flow["done"], actor=worker, source=source, changes=changes, locked=True)


def report_failure(
    task: Task, message: str, *, worker: PipelineWorker, source: str = "api"
) -> Task:
    """The worker's stage failed: the task goes to the stage's error state, with the
    message appended to its error log (with the time and the worker's name)."""
    message = (message or "").strip()
    if not message:
        raise RuleError("Say what went wrong.", field="message")
    if len(message) > MESSAGE_LENGTH:
        raise RuleError(f"At most {MESSAGE_LENGTH} characters.", field="message")
    task = _held(task, worker)
    stage = transitions.stage_of(task.status)
    if task.status == "claimed":
        raise TaskStateError("Start the stage first.", task.status)
    changes = {"error_log": _append_log(task, f"{stage}: {message}", worker)}
    return move(task, STAGE_FLOW[stage]["error"], actor=worker, source=source, changes=changes,
                locked=True)  # fmt: skip


def youtube_video_id(url: str) -> str:
    """The video id in a YouTube URL (watch?v=, youtu.be/, /shorts/, /embed/, /live/)."""
    parts = urlsplit((url or "").strip())
    host = (parts.hostname or "").lower()
    candidate = None
    if parts.scheme in ("http", "https") and host == "youtu.be":
        candidate = parts.path.strip("/")
    elif parts.scheme in ("http", "https") and host in YOUTUBE_HOSTS:
        if parts.path == "/watch":
            candidate = (parse_qs(parts.query).get("v") or [None])[0]
        else:
            segments = parts.path.strip("/").split("/")
            if len(segments) == 2 and segments[0] in ("shorts", "embed", "live"):
                candidate = segments[1]
    if not candidate or not VIDEO_ID.fullmatch(candidate):
        raise RuleError("That is not a YouTube video URL.", field="youtube_url")
    return candidate


def report_upload(
    task: Task, youtube_url: str, *, worker: PipelineWorker, source: str = "api"
) -> Task:
    """The video is on YouTube: the task is published and linked to the catalog's Video of
    that id (created through the videos service when the catalog lacks it)."""
    from catalog.videos import service as videos  # the videos area is only needed here

    video_id = youtube_video_id(youtube_url)
    task = _held(task, worker)
    if task.status != "uploading":
        raise TaskStateError("Only an upload in progress can be reported.", task.status)
    url = f"https://www.youtube.com/watch?v={video_id}"
    video = db.session.scalars(select(Video).where(Video.video_id == video_id)).first()
    if video is None:
        values = {"video_id": video_id, "title": task.title[:200], "channel_id": task.channel_id}
        video = videos.create_video(values, actor=None, source=source)
    changes = {"youtube_url": [task.youtube_url, url], "video_id": [task.video_id, video.id]}
    task.youtube_url, task.video_id = url, video.id
    return move(task, "published", actor=worker, source=source, changes=changes, locked=True)


def _checked_url(url: Any, field: str) -> str:
    url = url.strip() if isinstance(url, str) else ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RuleError("A link is an http or https URL.", field=field)
    if len(url) > URL_LENGTH:
        raise RuleError(f"A link is at most {URL_LENGTH} characters.", field=field)
    return url


# -- the system ----------------------------------------------------------------------------------


def expire_leases(*, limit: int = 1000, source: str = "worker") -> int:
    """Return tasks whose worker stopped sending heartbeats (transitions.EXPIRY says
    where), audited as "lease expired"; how many. Safe to run anywhere, any number of times
    at once: each expired task is taken by one caller (SKIP LOCKED)."""
    for old, new in EXPIRY.items():
        assert transitions.may(SYSTEM, old, new), (old, new)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    rows = claims.expire(limit, EXPIRY, f"[{stamp}] system: {EXPIRED_UPLOAD}\n")
    if rows:
        audit.record_many([
            audit.entity_row(
                "task", row.id, row.notion_page_id, action="update", source=source, actor=None,
                changes={
                    "status": [row.old, row.new],
                    "claimed_by": [row.worker, None],
                    "reason": [None, "lease expired"],
                },
            )
            for row in rows
        ])  # fmt: skip
        db.session.expire_all()  # loaded tasks may be among them
    return len(rows)
