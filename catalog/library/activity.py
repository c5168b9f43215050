"""A person's library activity as an admin sees it: their progress, and clearing it. The
rows are personal, not catalog data (no audit row each); clearing them is an account action
and is audited as one (entity user)."""

from sqlalchemy import delete, func, select

from catalog import audit
from catalog.extensions import db
from catalog.models import User, Video, VideoProgress

SHOWN = 200  # progress rows listed on the page, most recent first


def progress_of(user: User, limit: int = SHOWN) -> tuple[int, list]:
    """(how many videos the user has progress on, the latest `limit` with their videos)."""
    total = db.session.scalar(
        select(func.count()).select_from(VideoProgress).where(VideoProgress.user_id == user.id)
    )
    rows = db.session.execute(
        select(VideoProgress, Video.video_id, Video.title)
        .join(Video, Video.id == VideoProgress.video_id)
        .where(VideoProgress.user_id == user.id)
        .order_by(VideoProgress.updated_at.desc(), VideoProgress.id.desc())
        .limit(limit)
    ).all()
    return total or 0, rows


def clear_progress(user: User, *, actor: User | None, source: str = "web") -> int:
    """Delete every progress row of `user`; the audit row says how many. 0 (and no audit
    row) when there was nothing to clear."""
    cleared = db.session.execute(
        delete(VideoProgress).where(VideoProgress.user_id == user.id).returning(VideoProgress.id)
    ).all()
    if not cleared:
        return 0
    audit.record(
        audit.entity_row(
            "user", user.id, user.email, action="update",
            changes={"library_progress": [len(cleared), 0]}, source=source, actor=actor,
        )
    )  # fmt: skip
    db.session.flush()
    return len(cleared)
