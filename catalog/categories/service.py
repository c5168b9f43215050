"""The rules for changing video categories. Every write goes through here and leaves its audit
row (entity "category", keyed by slug) in the same transaction; nothing here commits.

A category is referenced by videos (category_id, ON DELETE RESTRICT). Deactivating one takes
it out of the forms' menus and leaves its videos as they are; deleting one is only possible
when no video uses it.
"""

import re
import unicodedata
from operator import attrgetter
from typing import Any

from sqlalchemy import func, select

from catalog import audit
from catalog.extensions import db
from catalog.models import User, Video, VideoCategory
from catalog.rules import RuleError, refused_when_taken

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX = SLUG_MAX = 100
EDITABLE_FIELDS = ("name", "slug", "is_active")
CATEGORY = audit.Entity("category", key=attrgetter("slug"))
SLUG_CONSTRAINT = "uq_video_categories_slug"


class CategoryError(RuleError):
    """A value the rules refuse; `field` names the form field it belongs to."""


class CategoryInUse(Exception):
    def __init__(self, category: VideoCategory, videos: int):
        super().__init__(f"{category.slug} is used by {videos} videos")
        self.videos = videos


def slugify(name: str) -> str:
    """A URL-safe slug: "Hip-Hop & R&B" → "hip-hop-r-b", accents folded ("Música" → "musica")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:SLUG_MAX].strip("-")


def _clean(values: dict[str, Any], *, current: VideoCategory | None = None) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: not editable fields of a category")
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise CategoryError("A category needs a name.", "name")
        if len(cleaned["name"]) > NAME_MAX:
            raise CategoryError(f"A name can be at most {NAME_MAX} characters.", "name")
    if "slug" in cleaned or current is None:
        slug = (cleaned.get("slug") or "").strip().lower()
        if not slug:  # derived from the name when left blank
            slug = slugify(cleaned.get("name") or (current.name if current else ""))
        if not SLUG.fullmatch(slug) or len(slug) > SLUG_MAX:
            raise CategoryError(
                "A slug is lower-case letters and digits in words joined by single hyphens, "
                f"at most {SLUG_MAX} characters, e.g. hip-hop.",
                "slug",
            )
        cleaned["slug"] = slug
    if "is_active" in cleaned:
        cleaned["is_active"] = bool(cleaned["is_active"])
    return cleaned


def _check_slug_free(slug: str, category: VideoCategory | None) -> None:
    owner = db.session.scalars(select(VideoCategory).where(VideoCategory.slug == slug)).first()
    if owner is not None and owner is not category:
        raise CategoryError(f"The slug {slug} is already used by “{owner.name}”.", "slug")


def _slug_taken(slug: str) -> CategoryError:
    return CategoryError(f"The slug {slug} is already used.", "slug")


def create_category(
    values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> VideoCategory:
    """Create a category, last in the order; the slug comes from the name unless given."""
    values = _clean(values)
    _check_slug_free(values["slug"], None)
    last = db.session.scalar(select(func.max(VideoCategory.sort_order))) or 0
    category = VideoCategory(
        name=values["name"], slug=values["slug"],
        is_active=values.get("is_active", True), sort_order=last + 1,
    )  # fmt: skip
    with refused_when_taken(SLUG_CONSTRAINT, _slug_taken(category.slug)):
        db.session.add(category)
    changes = {
        field: [None, getattr(category, field)]
        for field in ("name", "slug", "sort_order", "is_active")
    }
    CATEGORY.write(category, "create", changes, actor=actor, source=source)
    return category


def update_category(
    category: VideoCategory, values: dict[str, Any], *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Apply `values`; return the changes. A blank slug is derived from the (new) name."""
    values = _clean(values, current=category)
    if "slug" in values:
        _check_slug_free(values["slug"], category)
    changes = category.assign(values)
    if changes:
        with refused_when_taken(SLUG_CONSTRAINT, _slug_taken(category.slug)):
            db.session.flush()
        CATEGORY.write(category, "update", changes, actor=actor, source=source)
    return changes


def move_category(
    category: VideoCategory, direction: str, *, actor: User | None, source: str = "web"
) -> bool:
    """Move a category one place up or down; False when it is already at that end.

    Positions are renumbered 1..n in the current order (so ties left by older data are
    settled), each category whose position changes gets its audit row. All categories
    are locked while this happens, so two moves at once cannot interleave.
    """
    if direction not in ("up", "down"):
        raise ValueError(f"Unknown direction {direction!r}")
    ordered = list(
        db.session.scalars(
            select(VideoCategory)
            .order_by(VideoCategory.sort_order, VideoCategory.name, VideoCategory.id)
            .with_for_update()
            # Rows read before the lock was granted are refreshed: the order may have moved.
            .execution_options(populate_existing=True)
        )
    )
    here = ordered.index(category)
    there = here - 1 if direction == "up" else here + 1
    if not 0 <= there < len(ordered):
        return False
    ordered[here], ordered[there] = ordered[there], ordered[here]
    moved = []
    for position, item in enumerate(ordered, start=1):
        if item.sort_order != position:
            moved.append((item, {"sort_order": [item.sort_order, position]}))
            item.sort_order = position
    db.session.flush()
    for item, changes in moved:
        CATEGORY.record(item, "update", changes, actor=actor, source=source)
    db.session.flush()
    return True


def usage(category: VideoCategory) -> int:
    """How many videos use the category (an index range on videos(category_id, id))."""
    return db.session.scalar(
        select(func.count()).select_from(Video).where(Video.category_id == category.id)
    )


def delete_category(category: VideoCategory, *, actor: User | None, source: str = "web") -> None:
    """Delete a category no video uses, else raise CategoryInUse. Its history stays.

    The caller should hold the category's row lock: a video being given this category
    concurrently then waits, and the foreign key (ON DELETE RESTRICT) refuses the rest.
    """
    videos = usage(category)
    if videos:
        raise CategoryInUse(category, videos)
    changes = {field: [getattr(category, field), None] for field in ("name", "slug", "sort_order")}
    changes["is_active"] = [category.is_active, None]
    CATEGORY.record(category, "delete", changes, actor=actor, source=source)
    db.session.delete(category)
    db.session.flush()
