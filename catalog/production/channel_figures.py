"""A channel's production page's figures: in production now, waiting for review, published
this week, errors now, and its error rate over ERROR_WINDOW."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select

from catalog.extensions import db
from catalog.models import Channel, MetadataSync
from catalog.models.task import Task, TaskCount
from catalog.production.queries import REVIEW, any_priority
from catalog.production.transitions import ERRORS, IN_PRODUCTION, STAGE_FLOW

# The error rate's window on the channel page.
ERROR_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ChannelFigures:
    in_production: int
    waiting_for_review: int
    published_this_week: int
    errors_now: int
    stage_runs: int
    stage_failures: int

    @property
    def error_rate(self) -> float | None:
        return self.stage_failures / self.stage_runs if self.stage_runs else None


def week_start(now: datetime) -> datetime:
    """Monday 00:00 UTC of `now`'s week."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def channel_figures(channel: Channel, now: datetime | None = None) -> ChannelFigures:
    """A channel's production now (in production counts as the capacity does), published
    since Monday 00:00 UTC, and its stage runs that finished in the last 30 days (a worker
    reported the stage done or failed, from the tasks' audit rows) with those that failed."""
    now = now or datetime.now(UTC)
    mine = Task.channel_id == channel.id

    # The states' counts from task_counts; this week's publications from the tasks that
    # changed state since Monday (ix_tasks_priority_status_changed_at), not from all the
    # channel's.
    def tasks(statuses):
        return func.coalesce(func.sum(TaskCount.tasks).filter(TaskCount.status.in_(statuses)), 0)

    published = (
        select(func.count())
        .where(
            mine,
            Task.status == "published",
            *any_priority(),
            Task.status_changed_at >= week_start(now),
        )
        .scalar_subquery()
    )
    row = db.session.execute(
        select(
            tasks(IN_PRODUCTION),
            tasks(REVIEW),
            published,
            tasks(ERRORS),
        ).where(TaskCount.channel_id == channel.id)
    ).one()
    working = [flow["working"] for flow in STAGE_FLOW.values()]
    finished = [flow["done"] for flow in STAGE_FLOW.values()] + list(ERRORS)
    old = MetadataSync.changes["status"][0].astext
    new = MetadataSync.changes["status"][1].astext
    runs = db.session.execute(
        select(func.count(), func.count().filter(new.in_(ERRORS)))
        .select_from(MetadataSync)
        .join(Task, and_(Task.id == MetadataSync.entity_id, mine))
        .where(
            MetadataSync.entity_type == "task",
            MetadataSync.sync_time >= now - ERROR_WINDOW,
            old.in_(working),
            new.in_(finished),
        )
    ).one()
    return ChannelFigures(*row, runs[0], runs[1])
