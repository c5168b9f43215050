"""Asking for YouTube work: one job per batch of up to 50 videos, in the caller's transaction."""

from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Select, select

from catalog import jobs
from catalog.extensions import db
from catalog.models import User, Video

# Importing the tasks registers their handlers; create_app imports this module through the
# video views, so every process of the app, the worker included, has them.
from catalog.youtube import tasks  # noqa: F401
from catalog.youtube.client import DATA_API, MAX_IDS_PER_CALL
from catalog.youtube.quota import DailyQuota

TASK_TYPES = ("metadata_sync", "ownership_update", "asset_enrichment")
SYNC_UNAVAILABLE = "YouTube sync is not available: no YouTube Data API key is configured."


class SelectionTooLarge(ValueError):
    """More videos than a day's quota can sync; nothing was enqueued."""

    def __init__(self, videos: int, calls: int, limit: int):
        super().__init__(
            f"{videos:,} videos would take {calls:,} API calls, more than a day's quota "
            f"({limit:,}). Nothing was enqueued; narrow the list, e.g. to one channel."
        )
        self.videos = videos


@dataclass(frozen=True)
class Enqueued:
    jobs: int
    videos: int


def _keys(selection: Select | Iterable[int]) -> list[int]:
    """The keys of existing videos, ascending: neighbours in the catalog share a batch."""
    if isinstance(selection, Select):
        subquery = selection.subquery()
        statement = select(subquery.c[0]).distinct().order_by(subquery.c[0])
    else:
        wanted = {int(key) for key in selection}
        statement = select(Video.id).where(Video.id.in_(wanted)).order_by(Video.id)
    return list(db.session.scalars(statement))


def sync_available() -> bool:
    """Whether a metadata sync can run at all: without a Data API key every job would fail
    at once, so the list neither offers nor accepts one."""
    return bool(current_app.config.get("YOUTUBE_API_KEY"))


def enqueue_sync(
    selection: Select | Iterable[int],
    *,
    actor: User | None,
    task_type: str = "metadata_sync",
    priority: int = 0,
) -> Enqueued:
    """Enqueue `task_type` for the videos of `selection` (a select of video keys, or keys):
    one job per batch of up to 50 videos, payload `{"video_ids": [...]}`. The jobs join the
    caller's transaction, so a rollback enqueues nothing; nothing here commits.

    Raises SelectionTooLarge when a metadata sync would need more calls than a day's quota.
    """
    if task_type not in TASK_TYPES:
        raise ValueError(f"not a YouTube task type: {task_type}")
    keys = _keys(selection)
    batches = [keys[i : i + MAX_IDS_PER_CALL] for i in range(0, len(keys), MAX_IDS_PER_CALL)]
    limit = current_app.config["YOUTUBE_DAILY_QUOTA"]
    if task_type == "metadata_sync" and len(batches) > limit:
        raise SelectionTooLarge(len(keys), len(batches), limit)
    for batch in batches:
        jobs.enqueue(
            task_type,
            {"video_ids": batch},
            video_id=batch[0] if len(batch) == 1 else None,
            priority=priority,
            actor=actor,
        )
    return Enqueued(jobs=len(batches), videos=len(keys))


def calls_used_today() -> int:
    """YouTube Data API calls counted so far this UTC day, by every worker."""
    return DailyQuota(DATA_API, None).used_today()
