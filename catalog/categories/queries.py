"""The read side of categories: all of them in menu order, and one category's history."""

from sqlalchemy import select

from catalog.extensions import db
from catalog.models import VideoCategory

HISTORY_LIMIT = 100


def ordered() -> list[VideoCategory]:
    """Every category in the order the menus show them."""
    return list(
        db.session.scalars(
            select(VideoCategory).order_by(
                VideoCategory.sort_order, VideoCategory.name, VideoCategory.id
            )
        )
    )
