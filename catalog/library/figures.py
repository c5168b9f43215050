"""The library's figures, for the people who run the catalog: how many people watched, how
many finished, how much of it they watched, and how they reacted. One statement each, read
from the personal activity (VideoProgress, VideoReaction) by its video_id indexes.

- viewers: people with progress on the video (on any video of the category);
- completion rate: completed viewings / viewings (a viewing: one person and one video);
- average watched share: the mean of time played / duration per viewing, capped at 100 %
  (watching twice is not more than all of it);
- reactions: the count of each type, every type listed (0 when none)."""

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, literal_column, select

from catalog.extensions import db
from catalog.models import Video, VideoProgress, VideoReaction
from catalog.models.library import REACTION_TYPES


@dataclass(frozen=True)
class Figures:
    viewers: int
    viewings: int
    completed: int
    average_share: float | None  # 0..1; None without viewings
    reactions: dict[str, int]

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.viewings if self.viewings else None


def _statement(progress: Select, reactions: Select) -> Select:
    """The one statement of the figures of the progress and reactions rows given."""
    share = func.least(VideoProgress.watched_seconds / VideoProgress.duration_seconds, 1.0)
    watched = progress.with_only_columns(
        func.count(func.distinct(VideoProgress.user_id)).label("viewers"),
        func.count().label("viewings"),
        func.count().filter(VideoProgress.completed).label("completed"),
        func.avg(share).label("share"),
    ).subquery()
    per_type = (
        reactions.with_only_columns(VideoReaction.reaction_type, func.count().label("n"))
        .group_by(VideoReaction.reaction_type)
        .subquery()
    )
    counts = select(
        func.coalesce(
            func.jsonb_object_agg(per_type.c.reaction_type, per_type.c.n),
            literal_column("'{}'::jsonb"),
        )
    ).scalar_subquery()
    return select(watched, counts.label("reactions"))


# Built once with the id as a parameter (a video's page reads them on every view).
_OF_VIDEO = _statement(
    select(VideoProgress).where(VideoProgress.video_id == bindparam("id")),
    select(VideoReaction).where(VideoReaction.video_id == bindparam("id")),
)
_CATEGORY_VIDEOS = select(Video.id).where(Video.category_id == bindparam("id"))
_OF_CATEGORY = _statement(
    select(VideoProgress).where(VideoProgress.video_id.in_(_CATEGORY_VIDEOS)),
    select(VideoReaction).where(VideoReaction.video_id.in_(_CATEGORY_VIDEOS)),
)


def _figures(statement: Select, id_: int) -> Figures:
    row = db.session.execute(statement, {"id": id_}).one()
    return Figures(
        viewers=row.viewers, viewings=row.viewings, completed=row.completed,
        average_share=float(row.share) if row.share is not None else None,
        reactions={kind: int(row.reactions.get(kind, 0)) for kind in REACTION_TYPES},
    )  # fmt: skip


def for_video(video_id: int) -> Figures:
    """The figures of one video (its database id)."""
    return _figures(_OF_VIDEO, video_id)


def for_category(category_id: int) -> Figures:
    """The figures of every video of a category together."""
    return _figures(_OF_CATEGORY, category_id)
