"""The library's read side: the hero, one row per active category, the signed-in person's
"Continue watching", more of a row (keyset), search, and the watch page's video.

A video is in the library when it is published and has a file (Video.video_url). Category
rows are ordered by view count through the browse index (published, category_id, views):
each row is an index scan backwards, stopped after a row's worth of videos. Videos whose
view count is unknown (NULL) come after all the counted ones, newest first, so that the
index still serves the order (a `views DESC NULLS LAST` would sort the whole category).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import column, select, text
from sqlalchemy.orm import selectinload

from catalog.extensions import db
from catalog.models import Video, VideoCategory
from catalog.web.pagination import decode_cursor, encode_cursor

ROW_SIZE = 10  # cards per row (six show at 1280 px), and per "more" of a row
# A row's cursor is (views, id); views are never negative (a CHECK), so -1 stands for "no
# count" in a cursor of a card among the uncounted videos.
UNCOUNTED = -1
SEARCH_LIMIT = 48
# Where the row's cards come from: published videos with a file.
IN_LIBRARY = "v.published AND v.video_url IS NOT NULL"
CARD_NAMES = ("id", "video_id", "title", "artist", "views", "duration_seconds", "thumbnail_url")
CARD_COLUMNS = "v.id, v.video_id, v.title, v.artist, v.views, v.duration_seconds, m.thumbnail_url"
_PART_COLUMNS = "c.id, c.video_id, c.title, c.artist, c.views, c.duration_seconds"


def _typed(sql: str, *names: str):
    """A textual statement with its result columns named: SQLAlchemy then matches them by
    position instead of working them out on every execution (most of /library's SQL time
    in Python was that)."""
    return text(sql).columns(*(column(name) for name in names))


@dataclass(frozen=True)
class Card:
    id: int
    video_id: str
    title: str | None
    artist: list[str]
    views: int | None
    duration_seconds: float | None
    thumbnail_url: str | None
    # Continue watching: how far the person got.
    position: float | None = None

    @property
    def has_thumbnail(self) -> bool:
        """A stored thumbnail (a key): served by the library. An outside URL is not shown:
        the pages' Content Security Policy loads images from this site only."""
        return bool(self.thumbnail_url) and not self.thumbnail_url.startswith(
            ("http://", "https://")
        )

    @property
    def share_watched(self) -> int | None:
        if self.position is None or not self.duration_seconds:
            return None
        return min(100, round(100 * self.position / self.duration_seconds))


@dataclass(frozen=True)
class Row:
    """One sideways row of cards; `more` is the cursor of its next cards, if it has any."""

    key: str  # "category-<id>" or "continue"
    title: str
    cards: list[Card]
    more: str | None
    category_id: int | None = None


def _card(row, position: float | None = None) -> Card:
    return Card(
        row.id, row.video_id, row.title, list(row.artist or ()), row.views,
        row.duration_seconds, row.thumbnail_url, position,
    )  # fmt: skip


# Two parts per category, counted views first, then unknown ones; each part is an index
# scan in order and the outer LIMIT stops the second from running when the first fills it.
_CATEGORY_PART = f"""
    (SELECT v.id, v.video_id, v.title, v.artist, v.views, v.duration_seconds
     FROM videos v
     WHERE {IN_LIBRARY} AND v.category_id = {{category}} AND v.views IS NOT NULL
       {{after_counted}}
     ORDER BY v.views DESC, v.id DESC LIMIT :limit)
    UNION ALL
    (SELECT v.id, v.video_id, v.title, v.artist, v.views, v.duration_seconds
     FROM videos v
     WHERE {IN_LIBRARY} AND v.category_id = {{category}} AND v.views IS NULL
       {{after_unknown}}
     ORDER BY v.id DESC LIMIT :limit)
    LIMIT :limit
"""
_ORDER = "c.views IS NULL, c.views DESC, c.id DESC"


def _cursor(card: Card) -> str:
    return encode_cursor(UNCOUNTED if card.views is None else card.views, card.id)


def category_rows() -> list[Row]:
    """Every active category that has videos in the library, in sort_order, each with its
    first ROW_SIZE cards: one statement."""
    part = _CATEGORY_PART.format(category="k.id", after_counted="", after_unknown="")
    result = db.session.execute(
        _typed(
            f"SELECT k.id AS category_id, k.name AS category_name, {_PART_COLUMNS}, "
            "m.thumbnail_url "
            f"FROM video_categories k CROSS JOIN LATERAL ({part}) c "
            f"LEFT JOIN video_metadata m ON m.video_id = c.id "
            f"WHERE k.is_active ORDER BY k.sort_order, k.id, {_ORDER}",
            "category_id",
            "category_name",
            *CARD_NAMES,
        ),
        {"limit": ROW_SIZE + 1},
    )
    rows: dict[int, tuple[str, list[Card]]] = {}
    for row in result:
        rows.setdefault(row.category_id, (row.category_name, []))[1].append(_card(row))
    return [_category_row(cid, name, cards) for cid, (name, cards) in rows.items()]


def _category_row(category_id: int, name: str, cards: list[Card]) -> Row:
    more = _cursor(cards[ROW_SIZE - 1]) if len(cards) > ROW_SIZE else None
    return Row(f"category-{category_id}", name, cards[:ROW_SIZE], more, category_id)


def category_more(category: VideoCategory, after: str) -> Row | None:
    """The next ROW_SIZE cards of a category's row after the card `after` points at; None
    when `after` is not a cursor of ours."""
    decoded = decode_cursor(after)
    if decoded is None or type(decoded[0]) is not int or decoded[0] < UNCOUNTED:
        return None
    views, last_id = decoded
    if views == UNCOUNTED:  # already among the videos without a count
        counted = "AND false"
        unknown = "AND v.id < :last_id"
    else:
        # views <= :views is what the index can use; the rest breaks ties by id.
        counted = "AND v.views <= :views AND (v.views < :views OR v.id < :last_id)"
        unknown = ""
    part = _CATEGORY_PART.format(category=":category", after_counted=counted, after_unknown=unknown)
    result = db.session.execute(
        _typed(
            f"SELECT {_PART_COLUMNS}, m.thumbnail_url FROM ({part}) c "
            f"LEFT JOIN video_metadata m ON m.video_id = c.id ORDER BY {_ORDER}",
            *CARD_NAMES,
        ),
        {"limit": ROW_SIZE + 1, "category": category.id, "views": views, "last_id": last_id},
    )
    return _category_row(category.id, category.name, [_card(r) for r in result])


def hero() -> Card | None:
    """The hero of the first active category (in sort_order) that has one in the library."""
    row = db.session.execute(
        _typed(
            f"SELECT {CARD_COLUMNS} FROM videos v "
            "JOIN video_categories k ON k.id = v.category_id "
            "LEFT JOIN video_metadata m ON m.video_id = v.id "
            f"WHERE v.is_hero AND k.is_active AND {IN_LIBRARY} "
            "ORDER BY k.sort_order, k.id, v.id LIMIT 1",
            *CARD_NAMES,
        )
    ).first()
    return _card(row) if row else None


@dataclass(frozen=True)
class ProgressCard(Card):
    updated_at: datetime | None = None


def continue_watching(user_id: int, after: str | None = None) -> Row | None:
    """The person's started, unfinished videos, most recently watched first (the partial
    index ix_video_progress_continue_watching); None when `after` is not ours."""
    where, params = "", {}
    if after is not None:
        decoded = decode_cursor(after)
        if decoded is None or not isinstance(decoded[0], datetime):
            return None
        where = "AND (p.updated_at, v.id) < (:updated_at, :last_id)"
        params = {"updated_at": decoded[0], "last_id": decoded[1]}
    result = db.session.execute(
        _typed(
            f"SELECT {CARD_COLUMNS}, p.last_position, p.updated_at FROM video_progress p "
            "JOIN videos v ON v.id = p.video_id "
            "LEFT JOIN video_metadata m ON m.video_id = v.id "
            "WHERE p.user_id = :user_id AND NOT p.completed "
            "AND (p.last_position > 0 OR p.watched_seconds > 0) "
            f"AND {IN_LIBRARY} {where} "
            "ORDER BY p.updated_at DESC, v.id DESC LIMIT :limit",
            *CARD_NAMES,
            "last_position",
            "updated_at",
        ),
        {"user_id": user_id, "limit": ROW_SIZE + 1, **params},
    )
    cards = [
        ProgressCard(**{**_card(r, r.last_position).__dict__, "updated_at": r.updated_at})
        for r in result
    ]
    more = None
    if len(cards) > ROW_SIZE:
        more = encode_cursor(cards[ROW_SIZE - 1].updated_at, cards[ROW_SIZE - 1].id)
    return Row("continue", "Continue watching", cards[:ROW_SIZE], more)


def like_pattern(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(q: str) -> Row:
    """Library videos whose title or artist contains `q` (any case), most viewed first.

    search_text (the trigram-indexed text the video list searches) narrows the candidates
    through its index; the title and artist test keeps matches on other identifiers out."""
    pattern = like_pattern(q)
    result = db.session.execute(
        _typed(
            f"SELECT {CARD_COLUMNS} FROM videos v "
            "LEFT JOIN video_metadata m ON m.video_id = v.id "
            f"WHERE {IN_LIBRARY} AND v.search_text LIKE :pattern "
            "AND (lower(coalesce(v.title, '')) LIKE :pattern "
            "     OR lower(catalog_array_text(v.artist)) LIKE :pattern) "
            "ORDER BY v.views DESC NULLS LAST, v.id DESC LIMIT :limit",
            *CARD_NAMES,
        ),
        {"pattern": pattern, "limit": SEARCH_LIMIT},
    )
    return Row("search", "Search results", [_card(r) for r in result], None)


def watchable(video_id: str):
    """The published video with a file that `video_id` (the YouTube id) names, with its
    extension row loaded, or None."""
    return db.session.scalars(
        select(Video)
        .options(selectinload(Video.extra))
        .where(Video.video_id == video_id, Video.published.is_(True), Video.video_url.is_not(None))
    ).first()
