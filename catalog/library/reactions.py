"""Reactions: one per person and video; choosing another replaces it, choosing the same one
again removes it. Personal activity, not catalog data: no audit row (reference E)."""

from dataclasses import dataclass

from sqlalchemy import text

from catalog.extensions import db
from catalog.models import Video
from catalog.models.library import REACTION_TYPES
from catalog.rules import RuleError

LABELS = {
    "like": "Like",
    "love": "Love",
    "haha": "Haha",
    "wow": "Wow",
    "sad": "Sad",
    "angry": "Angry",
}
SYMBOLS = {"like": "👍", "love": "❤️", "haha": "😂", "wow": "😮", "sad": "😢", "angry": "😠"}

# One statement, so two clicks racing each other cannot leave two rows or lose one: the
# same type is deleted; otherwise the new type is inserted or replaces the old one.
_TOGGLE = text(
    """
    WITH gone AS (
        DELETE FROM video_reactions
        WHERE user_id = :user_id AND video_id = :video_id AND reaction_type = :reaction
        RETURNING id
    )
    INSERT INTO video_reactions (user_id, video_id, reaction_type)
    SELECT :user_id, :video_id, :reaction WHERE NOT EXISTS (SELECT FROM gone)
    ON CONFLICT (user_id, video_id) DO UPDATE
        SET reaction_type = EXCLUDED.reaction_type, created_at = now()
    """
)


@dataclass(frozen=True)
class Tally:
    """A reaction type under the player: its count, and whether it is the person's."""

    type: str
    count: int
    mine: bool

    @property
    def label(self) -> str:
        return LABELS[self.type]

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.type]


def toggle(user_id: int, video: Video, reaction: str) -> None:
    """Set, replace or (the same one again) remove the person's reaction to `video`."""
    if reaction not in REACTION_TYPES:
        raise RuleError(f"{reaction!r} is not a reaction.", field="reaction")
    db.session.execute(_TOGGLE, {"user_id": user_id, "video_id": video.id, "reaction": reaction})


def tallies(user_id: int, video_id: int) -> list[Tally]:
    """Every reaction type in order, with its count on the video and the person's choice."""
    found = {
        row.reaction_type: row
        for row in db.session.execute(
            text(
                "SELECT reaction_type, count(*) AS n, bool_or(user_id = :user_id) AS mine "
                "FROM video_reactions WHERE video_id = :video_id GROUP BY reaction_type"
            ),
            {"user_id": user_id, "video_id": video_id},
        )
    }
    return [
        Tally(t, found[t].n if t in found else 0, bool(found[t].mine) if t in found else False)
        for t in REACTION_TYPES
    ]
