"""The Notion draft sync: drafts from a Notion database, task statuses back to it.

It runs as the `notion_sync` job (a ProcessingQueue entry: staff see its result and errors
on /queue), on NOTION_SYNC_CRON in every worker, from the board's "Sync with Notion" button,
and in the shell (`flask catalog tasks sync-notion`). One sync runs at a time (an advisory
lock); a second one started meanwhile does nothing.

The Notion database (NOTION_DATABASE_ID, shared with the integration) has these properties;
a page is a task, keyed by the page's id (`notion_page_id`):

| property           | Notion type        | becomes                                          |
|--------------------|--------------------|--------------------------------------------------|
| (the title, any name, "Name" by default) | title | the title: required, at most 255 chars |
| Topic              | text               | the topic, at most 500 characters                |
| Story direction    | text               | the story direction                              |
| Channel ID         | text               | the channel: the YouTube channel id (UC…) of a   |
|                    |                    | channel in the catalog; required                 |
| Priority           | select             | High, Normal or Low (empty: Normal)              |
| Catalog status     | select (or status) | written by Catalog (NOTION_STATUS_PROPERTY and   |
|                    |                    | _TYPE); never read as input                      |

How a run goes:
1. Read the whole database (every page of results) before writing anything: a query that
   fails leaves Catalog as it was, and the job is retried.
2. Each page is checked whole first. A malformed page (no title, an unknown channel, a bad
   id, a field too long, an unknown priority) is skipped and listed with its reasons in the
   job's result; it is never half-imported, and the other pages go on.
3. A page without a task becomes a draft; a draft follows its page (drafts.update_draft:
   one audit row per task that changed, none when nothing did). A task past draft takes only
   its page's priority; its other fields stay as they were queued (drafts.py), and the pages
   that differ are counted as `kept`.
4. Status write-back: a task of the database whose status differs from what its page is
   known to show (Task.notion_status_pushed) gets the page's status property set. What the
   page shows is read in step 1, so a page changed by hand is set again; a push that fails
   is tried again on the next run, whoever changed the status.

Audit rows of the sync have no actor and source "notion".
"""

from dataclasses import dataclass
from typing import Any

import click
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from catalog import jobs
from catalog.extensions import db
from catalog.jobs import engine
from catalog.jobs.registry import on_worker_start
from catalog.models import Channel, ProcessingQueue, User
from catalog.models.task import TASK_STATUSES, Task
from catalog.production import drafts, tasks_cli
from catalog.production.notion import (
    NotionClient,
    NotionError,
    NotionNotConfigured,
    NotionUnavailable,
    configured,
    notion_client,
    option_name,
    plain_text,
    title_property,
)
from catalog.rules import RuleError

TASK_TYPE = "notion_sync"
TICK_TASK = "catalog.notion_sync_tick"
SOURCE = "notion"
TOPIC = "Topic"
STORY_DIRECTION = "Story direction"
CHANNEL_ID = "Channel ID"
PRIORITY = "Priority"
# Pushes per run at most (about a minute at three requests a second); the rest wait for the
# next run, as failed ones do.
PUSH_LIMIT = 200
# How many skipped pages and failed pushes a result lists by name; counts are always given.
RESULT_SAMPLE = 50
# Two-key advisory lock: "NO", "TN" (one sync at a time, across every worker).
LOCK_KEYS = (0x4E4F, 0x544E)


@dataclass(frozen=True)
class PageDraft:
    """A page read whole: its task's values and the status its page shows."""

    page_id: str
    values: dict[str, Any]
    shown_status: str | None


def read_page(
    page: Any, channels: dict[str, int], status_property: str
) -> tuple[PageDraft | None, list[str]]:
    """The draft a Notion page describes, or None and what is wrong with it."""
    if not isinstance(page, dict):
        return None, ["not a page object"]
    page_id = drafts.normalise_page_id(page.get("id"))
    properties = page.get("properties")
    if page_id is None:
        return None, [f"its id {page.get('id')!r} is not a Notion page id"]
    if not isinstance(properties, dict):
        return None, ["it has no properties"]
    found: list[str] = []
    channel_text = (plain_text(properties.get(CHANNEL_ID)) or "").strip()
    if not channel_text:
        found.append(f"its {CHANNEL_ID} is empty")
    elif channel_text not in channels:
        found.append(f"its {CHANNEL_ID} {channel_text[:40]!r} is not a channel in the catalog")
    values = {
        "notion_page_id": page_id,
        "title": plain_text(title_property(properties)),
        "topic": plain_text(properties.get(TOPIC)),
        "story_direction": plain_text(properties.get(STORY_DIRECTION)),
        # Notion's options read "High", "Normal", "Low"; an empty one is the default.
        "priority": (option_name(properties.get(PRIORITY)) or "normal").strip().lower(),
    }
    found += drafts.problems(values).values()
    if found:
        return None, found
    values = drafts.clean({**values, "channel_id": channels[channel_text]})
    shown = option_name(properties.get(status_property))
    return PageDraft(page_id, values, shown if shown in TASK_STATUSES else None), []


class _Run:
    """The counts and samples of one run, for the job's result."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(
            ("pages", "created", "updated", "unchanged", "kept", "skipped", "archived",
             "pushed", "push_failed", "push_deferred", "requests"),
            0,
        )  # fmt: skip
        self.skipped: list[dict[str, Any]] = []
        self.push_failures: list[dict[str, Any]] = []

    def skip(self, page: Any, reasons: list[str]) -> None:
        self.counts["skipped"] += 1
        if len(self.skipped) < RESULT_SAMPLE:
            page_id = page.get("id") if isinstance(page, dict) else None
            self.skipped.append({"page_id": str(page_id)[:60], "problems": reasons})

    def result(self) -> dict[str, Any]:
        return {**self.counts, "skipped_pages": self.skipped, "push_failures": self.push_failures}


def _locked(task_id: int) -> Task:
    statement = select(Task).where(Task.id == task_id).with_for_update()
    return db.session.scalars(statement.execution_options(populate_existing=True)).one()


def _differs(task: Task, values: dict[str, Any], fields) -> bool:
    return any(getattr(task, name) != values[name] for name in fields)


def _upsert(draft: PageDraft, task: Task | None, run: _Run) -> Task | None:
    """Create or update one page's task in a savepoint of its own: a refusal (a rule the
    page breaks) undoes that page alone."""
    try:
        with db.session.begin_nested():
            if task is None:
                task = drafts.create_draft(draft.values, actor=None, source=SOURCE)
                run.counts["created"] += 1
                return task
            if not _differs(task, draft.values, drafts.changeable(task)):
                # Nothing it may take: no lock (a page whose task moved on keeps differing).
                kept = _differs(task, draft.values, drafts.FIELDS)
                run.counts["kept" if kept else "unchanged"] += 1
                return task
            task = _locked(task.id)  # read again under the lock: its status may have moved
            allowed = drafts.changeable(task)
            wanted = {name: draft.values[name] for name in allowed}
            if _differs(task, draft.values, set(drafts.FIELDS) - allowed):
                run.counts["kept"] += 1
            if drafts.update_draft(task, wanted, actor=None, source=SOURCE):
                run.counts["updated"] += 1
            elif allowed == set(drafts.FIELDS):
                run.counts["unchanged"] += 1
            return task
    except RuleError as exc:
        run.skip({"id": draft.page_id}, exc.messages)
        return None


def _push(
    client: NotionClient, tasks: list[Task], status_property: str, prop_type: str, run: _Run
) -> dict[int, str]:
    """Set the status property of each task's page; the statuses Notion accepted, by task."""
    pushed: dict[int, str] = {}
    for index, task in enumerate(tasks):
        if index >= PUSH_LIMIT:
            run.counts["push_deferred"] += len(tasks) - index
            break
        try:
            client.set_status(task.notion_page_id, status_property, prop_type, task.status)
        except NotionError as exc:
            run.counts["push_failed"] += 1
            if len(run.push_failures) < RESULT_SAMPLE:
                run.push_failures.append(
                    {"page_id": task.notion_page_id, "status": task.status, "error": str(exc)}
                )
            if isinstance(exc, NotionUnavailable):  # every retry was spent: stop for now
                run.counts["push_deferred"] += len(tasks) - index - 1
                break
            continue
        pushed[task.id] = task.status
        run.counts["pushed"] += 1
    return pushed


def _remember_shown(shown: dict[int, str | None], tasks: dict[int, Task]) -> None:
    """Keep what each page shows (bookkeeping, not a change of the task: no audit row, and
    updated_at stays)."""
    for task_id, status in sorted(shown.items()):
        task = tasks[task_id]
        if task.notion_status_pushed == status:
            continue
        db.session.execute(
            update(Task.__table__)
            .where(Task.__table__.c.id == task_id)
            .values(notion_status_pushed=status, updated_at=Task.__table__.c.updated_at)
        )
        set_committed_value(task, "notion_status_pushed", status)


def run_sync(
    client: NotionClient,
    database_id: str,
    *,
    status_property: str = "Catalog status",
    status_type: str = "select",
) -> dict[str, Any]:
    """One sync (see the module's docstring) in the caller's transaction, which the caller
    commits; its counts. Raises NotionError when the database cannot be read."""
    if status_type not in ("select", "status"):
        raise NotionNotConfigured(
            f"NOTION_STATUS_PROPERTY_TYPE is select or status, not {status_type!r}."
        )
    if not db.session.scalar(select(func.pg_try_advisory_xact_lock(*LOCK_KEYS))):
        return {"skipped_run": "another Notion sync is running"}
    run = _Run()
    pages = client.query_database(database_id)  # all of it before anything is written
    channels = dict(db.session.execute(select(Channel.channel_id, Channel.id)).all())
    read: list[PageDraft] = []
    seen: set[str] = set()
    for page in pages:
        run.counts["pages"] += 1
        if isinstance(page, dict) and (page.get("archived") or page.get("in_trash")):
            run.counts["archived"] += 1
            continue
        draft, reasons = read_page(page, channels, status_property)
        if draft is None:
            run.skip(page, reasons)
        elif draft.page_id in seen:
            run.skip(page, ["the database lists this page twice"])
        else:
            seen.add(draft.page_id)
            read.append(draft)

    existing = {
        task.notion_page_id: task
        for task in db.session.scalars(select(Task).where(Task.notion_page_id.in_(seen)))
    }
    tasks: dict[int, Task] = {}
    shown: dict[int, str | None] = {}
    for draft in read:
        task = _upsert(draft, existing.get(draft.page_id), run)
        if task is not None:
            tasks[task.id] = task
            shown[task.id] = draft.shown_status
    _remember_shown(shown, tasks)

    # The pushes hold no lock but those of the tasks this run changed (unchanged ones were
    # read without one), so workers claiming and moving other tasks meanwhile are not held up.
    stale = sorted(
        (task for task in tasks.values() if task.status != task.notion_status_pushed),
        key=lambda task: task.id,
    )
    pushed = _push(client, stale, status_property, status_type, run)
    _remember_shown(pushed, tasks)
    run.counts["requests"] = client.requests
    return run.result()


@jobs.task(TASK_TYPE)
def notion_sync(entry: ProcessingQueue) -> dict[str, Any]:
    """The job: one sync with the configured Notion database."""
    config = current_app.config
    return run_sync(
        notion_client(config),
        config["NOTION_DATABASE_ID"],
        status_property=config["NOTION_STATUS_PROPERTY"],
        status_type=config["NOTION_STATUS_PROPERTY_TYPE"],
    )


def waiting_sync() -> ProcessingQueue | None:
    """A sync entry that has not run yet or is running."""
    return db.session.scalars(
        select(ProcessingQueue)
        .where(
            ProcessingQueue.task_type == TASK_TYPE,
            ProcessingQueue.status.in_(("pending", "processing")),
        )
        .order_by(ProcessingQueue.id)
        .limit(1)
    ).first()


def request_sync(*, actor: User | None) -> tuple[ProcessingQueue, bool]:
    """Queue a sync unless one is waiting already; the entry, and whether it is new.
    Refused when Notion is not configured. Never commits."""
    if not configured():
        raise RuleError(
            "Notion is not configured (NOTION_TOKEN and NOTION_DATABASE_ID), so there is "
            "nothing to sync with: make drafts here instead."
        )
    if (entry := waiting_sync()) is not None:
        return entry, False
    return jobs.enqueue(TASK_TYPE, {}, actor=actor), True


# -- scheduled -------------------------------------------------------------------------------


@engine.app.task(name=TICK_TASK, pass_context=True, queue=engine.QUEUE, queueing_lock=TICK_TASK)
def notion_sync_tick(context, timestamp: int) -> dict[str, Any]:
    """Each tick of NOTION_SYNC_CRON queues a sync (so it is recorded like any other)."""
    with context.additional_context["flask_app"].app_context():
        if not configured():
            return {"queued": None}
        entry, new = request_sync(actor=None)
        db.session.commit()
        return {"queued": entry.id if new else None, "waiting": None if new else entry.id}


@on_worker_start
def schedule(config: dict) -> None:
    """Have this worker defer the tick on NOTION_SYNC_CRON (empty, or no Notion: never)."""
    if configured(config):
        engine.schedule(notion_sync_tick, config.get("NOTION_SYNC_CRON"))


# -- the shell -------------------------------------------------------------------------------


@tasks_cli.command("sync-notion")
def sync_notion_command() -> None:
    """Sync drafts with the Notion database now, in this process, and print what it did."""
    config = current_app.config
    try:
        client = notion_client(config)
        result = run_sync(
            client,
            config["NOTION_DATABASE_ID"],
            status_property=config["NOTION_STATUS_PROPERTY"],
            status_type=config["NOTION_STATUS_PROPERTY_TYPE"],
        )
    except NotionError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if "skipped_run" in result:
        click.echo(f"Nothing done: {result['skipped_run']}.")
        return
    counts = ", ".join(f"{name.replace('_', ' ')} {result[name]}" for name in (
        "pages", "created", "updated", "unchanged", "kept", "skipped", "pushed", "push_failed",
    ))  # fmt: skip
    click.echo(f"Notion sync: {counts}.")
    for page in result["skipped_pages"]:
        click.echo(f"  skipped page {page['page_id']}: {'; '.join(page['problems'])}")
    for failure in result["push_failures"]:
        click.echo(f"  status not written to page {failure['page_id']}: {failure['error']}")
