"""At most one hero per category: checked here, before anything is written, so the editor
reads which video holds the place; the partial unique index uq_videos_hero_per_category
(migration 0017) is the backstop no write path can skip."""

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Video
from catalog.rules import RuleError

# The advisory lock namespace of hero places ("HR"); the key is the category's id.
LOCK_NAMESPACE = 0x4852


class HeroTaken(RuleError):
    """Another video is already the hero of the category."""


def check(video: Video) -> None:
    """Refuse (HeroTaken, on the is_hero field) when `video` is to be the hero of a category
    that has another hero. Holds the category's hero lock until the transaction ends, so two
    saves at once cannot both pass."""
    if not video.is_hero or video.category_id is None:
        return
    with db.session.no_autoflush:  # the video's own row is not written before it is checked
        lock = func.pg_advisory_xact_lock(LOCK_NAMESPACE, video.category_id)
        db.session.execute(select(lock))
        other = db.session.execute(
            select(Video.video_id, Video.title)
            .where(Video.category_id == video.category_id, Video.is_hero)
            .where(Video.id != video.id if video.id is not None else Video.id.is_not(None))
            .limit(1)
        ).first()
    if other is not None:
        title = f" ({other.title})" if other.title else ""
        raise HeroTaken(
            f"{other.video_id}{title} is already the hero of this category: a category has "
            "one hero at most. Untick it there first, or choose another category.",
            "is_hero",
        )


def check_moved(video_ids: list[int], category_id: int) -> None:
    """Refuse (HeroTaken, on the category field) a bulk move of the videos `video_ids` into
    the category when that would give it more than one hero."""
    lock = func.pg_advisory_xact_lock(LOCK_NAMESPACE, category_id)
    db.session.execute(select(lock))
    moving = Video.id.in_(video_ids)
    heroes = (
        db.session.execute(
            select(Video.video_id)
            .where(Video.is_hero, (Video.category_id == category_id) | moving)
            .order_by(Video.id)
            .limit(2)
        )
        .scalars()
        .all()
    )
    if len(heroes) > 1:
        raise HeroTaken(
            f"This would give the category two heroes ({heroes[0]} and {heroes[1]}): a "
            "category has one hero at most. Leave the heroes out of the selection, or untick "
            "their hero flag first.",
            "category_id",
        )
