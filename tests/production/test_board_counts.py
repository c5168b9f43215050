"""The board's counts (task_counts, kept by triggers of migration 0020) agree with the tasks
after every kind of write: inserts, a person's and a worker's steps, a bulk action, a
channel change, an error and its retry, a delete; and the board's phase counts, age filter
included, agree with counting the tasks themselves."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import case, delete, func, select

from catalog.extensions import db
from catalog.models import Task
from catalog.models.task import PHASES, TaskCount
from catalog.production import bulk, drafts, queries, service
from catalog.production.transitions import ERRORS
from tests import factories
from tests.production.claim_data import make_task, make_worker


def _summary() -> dict:
    rows = db.session.execute(
        select(TaskCount.channel_id, TaskCount.status, TaskCount.priority, TaskCount.origin,
               TaskCount.tasks).where(TaskCount.tasks != 0)
    )  # fmt: skip
    return {tuple(row[:4]): row[4] for row in rows}


def _actual() -> dict:
    origin = case(
        (Task.status.in_(ERRORS), func.coalesce(Task.failed_from, Task.status)),
        else_=Task.status,
    )
    rows = db.session.execute(
        select(Task.channel_id, Task.status, Task.priority, origin, func.count()).group_by(
            Task.channel_id, Task.status, Task.priority, origin
        )
    )
    return {tuple(row[:4]): row[4] for row in rows}


def _phase_counts(board: queries.BoardFilter) -> dict[str, int]:
    """The board's counts the slow way: each task counted."""
    found = dict.fromkeys(PHASES, 0)
    for status in db.session.scalars(select(Task.status).where(*board.conditions())):
        found[queries.PHASE_OF[status]] += 1
    return found


def test_the_counts_follow_every_write(app_ctx):
    editor = factories.UserFactory(roles=["editor"])
    one, two = factories.ChannelFactory(production_capacity=10), factories.ChannelFactory()
    worker = make_worker("counter")
    drafts_ = [make_task(one, "draft", priority=p) for p in ("high", "normal", "low", "normal")]
    assert _summary() == _actual()

    service.queue(drafts_[0], actor=editor)
    task = service.claim("assets", worker=worker)
    service.start(task, worker=worker)
    service.report_failure(task, "the image service is down", worker=worker)
    assert _summary() == _actual()  # the error counted by where it failed
    service.retry(task, actor=editor)
    service.set_priority(drafts_[1], "high", actor=editor)
    drafts.update_draft(drafts_[2], {"channel_id": two.id}, actor=editor)
    assert _summary() == _actual()

    selection = select(Task.id).where(Task.status == "draft")
    bulk.apply("queue", selection, expected=bulk.count("queue", selection), actor=editor)
    assert _summary() == _actual()
    db.session.execute(delete(Task).where(Task.id == drafts_[3].id))
    assert _summary() == _actual()
    assert sum(_summary().values()) == db.session.scalar(select(func.count()).select_from(Task))


@pytest.mark.parametrize(
    "args",
    [{}, {"priority": "high"}, {"stage": "video"}, {"stage": "composites", "priority": "normal"},
     {"status": "video_error"}, {"age": "1d"}, {"age": "7d", "stage": "video"},
     {"channel": "one", "age": "1h"}],
)  # fmt: skip
def test_the_boards_counts_are_the_tasks_counted(app_ctx, args):
    one, two = factories.ChannelFactory(), factories.ChannelFactory()
    now = datetime.now(UTC)
    statuses = ("draft", "queued", "generating_video", "video_ready", "published",
                "video_error", "asset_error")  # fmt: skip
    for n in range(70):
        status = statuses[n % len(statuses)]
        failed = {"video_error": "generating_video", "asset_error": "generating_composites"}
        make_task(
            (one, two)[n % 2], status, priority=("high", "normal", "low")[n % 3],
            failed_from=failed.get(status),
            status_changed_at=now - timedelta(hours=n * 5),
        )  # fmt: skip
    if args.get("channel") == "one":
        args = {**args, "channel": str(one.id)}
    board = queries.BoardFilter.from_args(args)
    assert queries.counts(board, now) == _phase_counts(board)
    assert sum(queries.counts(board, now).values()) > 0
