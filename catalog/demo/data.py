"""Demo data: a small, realistic music catalog to try the application with.

Every video is created and later changed through catalog.videos.service, exactly as an
operator's command would, so the demo catalog comes with a genuine audit history (source
`cli`). The data is drawn from one seeded random generator: every load is identical.
"""

import random
import string
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from catalog.categories import service as category_service
from catalog.channels import service as channel_service
from catalog.extensions import db
from catalog.identifiers import gs1_check_digit
from catalog.models import Channel, User, Video, VideoCategory
from catalog.models.video import MONETIZATION_FIELDS
from catalog.videos import service

SEED = 42
VIDEO_COUNT = 300
SOURCE = "cli"

# YouTube ids are base64url. The last character of a video id carries only 4 bits and that
# of a channel id only 2, so real ids end in one of these; the demo ids look the part.
ID_ALPHABET = string.ascii_letters + string.digits + "-_"
VIDEO_ID_LAST = "AEIMQUYcgkosw048"
CHANNEL_ID_LAST = "AQgw"


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    country: str
    subscribers: int
    label: str
    genres: tuple[str, ...]
    artists: tuple[str, ...]  # the first one is the channel's own artist on artist channels
    description: str


@dataclass(frozen=True)
class CategorySpec:
    name: str
    slug: str
    weight: int  # how often demo videos fall into it
    suffixes: tuple[str, ...]  # what the title says after the song
    length: tuple[int, int]  # seconds


def _specs(kind: type, rows: list[dict[str, Any]]) -> tuple:
    # TOML has lists where the specs, frozen, hold tuples.
    return tuple(
        kind(**{key: tuple(v) if isinstance(v, list) else v for key, v in row.items()})
        for row in rows
    )


# The channels and categories are data, kept beside this module.
_TABLES = tomllib.loads(Path(__file__).with_name("tables.toml").read_text(encoding="utf-8"))
CHANNELS: tuple[ChannelSpec, ...] = _specs(ChannelSpec, _TABLES["channels"])
CATEGORIES: tuple[CategorySpec, ...] = _specs(CategorySpec, _TABLES["categories"])

SONG_FIRST = (
    "Golden", "Paper", "Midnight", "Electric", "Silver", "Broken", "Summer", "Neon", "Wild",
    "Lonely", "Velvet", "Crystal", "Burning", "Falling", "Secret", "Fading", "Northern", "Slow",
    "Sweet", "Hollow", "Blue", "Last", "Open", "Quiet",
)  # fmt: skip
SONG_SECOND = (
    "Hearts", "Skies", "Roads", "Lights", "Dreams", "Rain", "Fire", "Tides", "Echoes", "Waves",
    "Nights", "Lines", "Gardens", "Ghosts", "Rivers", "Windows", "Letters", "Stars", "Heat",
    "Hour", "Motion", "Summer", "Mornings", "Signals",
)  # fmt: skip

POLICIES = (
    ("Monetize in all countries", 62),
    ("Track in all countries", 15),
    ("Monetize in some countries", 10),
    ("Block in some countries", 9),
    ("Block in all countries", 4),
)
OTHER_OWNERS = (
    "Sony Music Publishing", "Warner Chappell", "UMPI", "Kobalt Music Publishing",
    "The Orchard Music", "Believe Music", "CD Baby", "DistroKid",
)  # fmt: skip
NOTES = (
    "Artwork pending from the label.",
    "Check the publishing split with the co-writer.",
    "Master re-delivered; claim re-checked.",
    "Territory restrictions per distribution deal.",
    "Sample clearance in progress.",
)
UPLOAD_SOURCES = (("web", 55), ("sftp", 20), ("api", 15), ("mobile", 10))
# Published dates are drawn between these instants, more of them recent than old.
EARLIEST = datetime(2012, 1, 1, tzinfo=UTC)
LATEST = datetime(2025, 6, 30, tzinfo=UTC)
SHORTS_SINCE = datetime(2020, 9, 14, tzinfo=UTC)  # YouTube Shorts launched then


class CatalogNotEmpty(RuntimeError):
    """Demo data only goes into a catalog without videos."""


@dataclass
class _Label:
    """Per-label identifier state: ISRC registrant and GS1 company prefix, and counters."""

    country: str
    registrant: str
    upc_prefix: str
    isrc_serial: int = 0
    upc_serial: int = 0
    releases: dict[str, list[str]] = field(default_factory=dict)  # artist -> UPCs


def load_demo_data(actor: User | None = None) -> dict[str, int]:
    """Fill an empty catalog with demo channels, categories and videos, with history.

    Videos are written through the video service (source `cli`), so each has its audit
    rows. Does not commit: the caller owns the transaction. Raises CatalogNotEmpty when
    there are videos already. Returns the counts of what it created.
    """
    if db.session.scalar(select(func.count()).select_from(Video)):
        raise CatalogNotEmpty("The catalog already has videos; demo data is for an empty one.")
    rng = random.Random(SEED)
    categories = _ensure_categories()
    channels = _ensure_channels(rng)
    labels = {spec.label: _new_label(rng, spec.country) for spec in CHANNELS}
    videos = _create_videos(rng, channels, categories, labels, actor)
    updates = _add_history(rng, videos, actor)
    _set_channel_totals(channels, videos)
    db.session.flush()
    return {
        "channels": len(channels),
        "categories": len(categories),
        "videos": len(videos),
        "updates": updates,
    }


# -- channels and categories -------------------------------------------------------------
# Through their audited services, like every write (source "cli"). Existing rows with the same
# key are reused, so a catalog with channels but no videos loads.


def _ensure_categories() -> list[tuple[VideoCategory, CategorySpec]]:
    existing = {c.slug: c for c in db.session.scalars(select(VideoCategory))}
    result = []
    for spec in CATEGORIES:  # created in this order, so sorted in it
        category = existing.get(spec.slug)
        if category is None:
            category = category_service.create_category(
                {"name": spec.name, "slug": spec.slug}, actor=None, source="cli"
            )
        result.append((category, spec))
    db.session.flush()
    return result


def _ensure_channels(rng: random.Random) -> list[tuple[Channel, ChannelSpec]]:
    result = []
    for spec in CHANNELS:
        channel_id = "UC" + _random_id(rng, 22, CHANNEL_ID_LAST)
        channel = db.session.scalar(select(Channel).where(Channel.channel_id == channel_id))
        if channel is None:
            channel = channel_service.create_channel(
                {
                    "channel_id": channel_id, "name": spec.name, "country": spec.country,
                    "subscriber_count": spec.subscribers, "description": spec.description,
                    "is_monetized": True,
                },
                actor=None, source="cli",
            )  # fmt: skip
        result.append((channel, spec))
    db.session.flush()
    return result


def _set_channel_totals(channels: list[tuple[Channel, ChannelSpec]], videos: list[Video]) -> None:
    for channel, _spec in channels:
        own = [v for v in videos if v.channel_id == channel.id]
        totals = {"video_count": len(own), "view_count": sum(v.views or 0 for v in own)}
        channel_service.update_channel(channel, totals, actor=None, source="cli")


# -- videos ------------------------------------------------------------------------------


def _create_videos(rng, channels, categories, labels, actor) -> list[Video]:
    # Bigger channels have more videos, but not proportionally more.
    channel_weights = [spec.subscribers**0.5 for _channel, spec in channels]
    category_weights = [spec.weight for _category, spec in categories]
    taken: set[str] = set()
    heroes: set[int] = set()  # a category has one hero at most (uq_videos_hero_per_category)
    videos = []
    for _ in range(VIDEO_COUNT):
        channel, channel_spec = rng.choices(channels, weights=channel_weights)[0]
        category, category_spec = rng.choices(categories, weights=category_weights)[0]
        if rng.random() < 0.05:  # reports are often incomplete: a few have no category
            category = None
        values = _video_values(rng, channel_spec, category_spec, labels[channel_spec.label])
        values["video_id"] = _unique_video_id(rng, taken)
        values["channel_id"] = channel.id
        values["category_id"] = category.id if category else None
        values["is_hero"] = values["is_hero"] and category is not None and category.id not in heroes
        if values["is_hero"]:
            heroes.add(category.id)
        videos.append(service.create_video(values, actor=actor, source=SOURCE))
    return videos


def _video_values(rng, channel: ChannelSpec, category: CategorySpec, label: _Label) -> dict:
    artists = _artists(rng, channel)
    published = _published_at(rng, category)
    values: dict[str, Any] = {
        "title": _title(rng, artists, category),
        "artist": artists,
        "genre": rng.sample(channel.genres, k=rng.randint(1, min(2, len(channel.genres)))),
        "label": channel.label,
        "isrc": _next_isrc(label, published.year),
        "upc": _release_upc(rng, label, artists[0]),
        "time_published": published,
        "video_length": rng.randint(*category.length),
        "is_short": category.slug == "shorts",
        "is_live_stream": category.slug == "live" and rng.random() < 0.3,
        "upload_source": _weighted(rng, UPLOAD_SOURCES),
        "privacy_status": _weighted(rng, (("public", 80), ("unlisted", 12), ("private", 8))),
        "embedding_allowed": _yes_no(rng, 0.95),
        "ratings_allowed": _yes_no(rng, 0.97),
        "comments_allowed": _yes_no(rng, 0.85),
        "hidden": rng.random() < 0.02,
        "notes": rng.choice(NOTES) if rng.random() < 0.05 else None,
    }
    values["views"] = _views(rng, channel, values["privacy_status"])
    values["published"] = values["privacy_status"] == "public" and rng.random() < 0.9
    values["is_hero"] = values["published"] and rng.random() < 0.02
    values.update(_rights(rng, values["isrc"], values["video_length"]))
    return values


def _rights(rng, isrc: str, length: int) -> dict:
    """Asset, claim, policy and monetization values, consistent with one another."""
    values: dict[str, Any] = {"asset_id": None, "custom_id": None, "claimed_status": None}
    if rng.random() < 0.9:
        values["asset_id"] = "A" + "".join(rng.choices(string.digits, k=15))
        # Music labels usually key their assets by ISRC; some use their own catalog numbers.
        if rng.random() < 0.3:
            values["custom_id"] = isrc if rng.random() < 0.7 else f"CAT-{rng.randint(1, 99999):05d}"
        values["claimed_status"] = _weighted(
            rng, (("claim", 75), ("dispute", 7), ("appeal", 5), (None, 13))
        )
    claimed = values["claimed_status"] is not None
    contested = claimed and (values["claimed_status"] != "claim" or rng.random() < 0.1)
    values["claimed_by_another_owner"] = ("Yes" if contested else "No") if claimed else None
    if contested and rng.random() < 0.6:
        values["other_owners_claiming"] = "; ".join(rng.sample(OTHER_OWNERS, k=rng.randint(1, 2)))
    values["effective_policy"] = _weighted(rng, POLICIES) if claimed else None
    values["administered"] = claimed and rng.random() < 0.7
    values.update(_monetization(rng, values["effective_policy"], length))
    return values


def _monetization(rng, policy: str | None, length: int) -> dict:
    monetized = bool(policy) and policy.startswith("Monetize")
    values = {name: _yes_no(rng, 0.85) if monetized else "No" for name in MONETIZATION_FIELDS}
    # YouTube only allows mid-roll ads in videos of eight minutes or more.
    if length < 480:
        values["midrolls_enabled"] = "No"
    return values


def _artists(rng, channel: ChannelSpec) -> list[str]:
    count = _weighted(rng, ((1, 75), (2, 20), (3, 5)))
    return rng.sample(channel.artists, k=min(count, len(channel.artists)))


def _title(rng, artists: list[str], category: CategorySpec) -> str:
    song = f"{rng.choice(SONG_FIRST)} {rng.choice(SONG_SECOND)}"
    featured = f" (feat. {' & '.join(artists[1:])})" if len(artists) > 1 else ""
    suffix = rng.choice(category.suffixes)
    if category.slug == "shorts":
        return f"{song}{featured} {suffix}"
    return f"{artists[0]} - {song}{featured} {suffix}"


def _published_at(rng, category: CategorySpec) -> datetime:
    earliest = SHORTS_SINCE if category.slug == "shorts" else EARLIEST
    span = (LATEST - earliest).total_seconds()
    # The mode at the latest date: catalogs grow, so most videos are recent.
    return earliest + timedelta(seconds=int(rng.triangular(0, span, span)))


def _views(rng, channel: ChannelSpec, privacy: str) -> int:
    if privacy == "private":
        return rng.randint(0, 50)
    if privacy == "unlisted":
        return int(rng.lognormvariate(6, 1.5))
    # Log-normal: most videos have thousands of views, a few have tens of millions.
    reach = (channel.subscribers / 1_000_000) ** 0.5
    return min(int(rng.lognormvariate(11, 2.2) * reach), 2_000_000_000)


# -- identifiers ---------------------------------------------------------------------------


def _random_id(rng, length: int, last: str) -> str:
    return "".join(rng.choices(ID_ALPHABET, k=length - 1)) + rng.choice(last)


def _unique_video_id(rng, taken: set[str]) -> str:
    while (video_id := _random_id(rng, 11, VIDEO_ID_LAST)) in taken:
        pass
    taken.add(video_id)
    return video_id


def _new_label(rng, country: str) -> _Label:
    registrant = "".join(rng.choices(string.ascii_uppercase + string.digits, k=3))
    # Music UPCs commonly start with 0 or 8 (GS1 US and label-held prefixes).
    upc_prefix = rng.choice("08") + "".join(rng.choices(string.digits, k=5))
    return _Label(country=country, registrant=registrant, upc_prefix=upc_prefix)


def _next_isrc(label: _Label, year: int) -> str:
    """CC-XXX-YY-NNNNN: country, registrant, year of reference, designation number."""
    label.isrc_serial += 1
    return f"{label.country}{label.registrant}{year % 100:02d}{label.isrc_serial:05d}"


def _release_upc(rng, label: _Label, artist: str) -> str:
    """The UPC of a release of `artist`: often one already used (an album's tracks share it)."""
    releases = label.releases.setdefault(artist, [])
    if releases and rng.random() < 0.6:
        return rng.choice(releases)
    label.upc_serial += 1
    body = f"{label.upc_prefix}{label.upc_serial:05d}"
    upc = body + gs1_check_digit(body)
    releases.append(upc)
    return upc


def _weighted(rng, choices):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def _yes_no(rng, chance: float) -> str:
    return "Yes" if rng.random() < chance else "No"


# -- history -----------------------------------------------------------------------------


def _add_history(rng, videos: list[Video], actor: User | None) -> int:
    """Apply one to three audited changes to a third of the videos; return how many."""
    count = 0
    for video in rng.sample(videos, k=len(videos) // 3):
        for _ in range(rng.randint(1, 3)):
            values = _next_change(rng, video)
            changes = service.update_video(
                video, values, expected_version=video.version, actor=actor, source=SOURCE
            )
            count += bool(changes)
    return count


def _next_change(rng, video: Video) -> dict[str, Any]:
    """One plausible later change of `video`: what happens to catalog videos over time."""
    candidates = [_views_grew]
    if video.privacy_status in ("unlisted", "private"):
        candidates.append(_privacy_opened)
    if video.claimed_status in ("claim", "dispute"):
        candidates.append(_claim_contested)
    if video.effective_policy == "Track in all countries":
        candidates.append(_policy_monetized)
    if not video.notes:
        candidates.append(_note_added)
    return rng.choice(candidates)(rng, video)


def _views_grew(rng, video: Video) -> dict:
    return {"views": int((video.views or 0) * rng.uniform(1.05, 1.6)) + rng.randint(10, 5000)}


def _privacy_opened(rng, video: Video) -> dict:
    opened = {"private": "unlisted", "unlisted": "public"}[video.privacy_status]
    return {"privacy_status": opened}


def _claim_contested(rng, video: Video) -> dict:
    # Another owner claims the recording and it is disputed; a rejected dispute is appealed.
    if video.claimed_status == "dispute":
        return {"claimed_status": "appeal"}
    return {
        "claimed_status": "dispute",
        "claimed_by_another_owner": "Yes",
        "other_owners_claiming": video.other_owners_claiming or rng.choice(OTHER_OWNERS),
    }


def _policy_monetized(rng, video: Video) -> dict:
    values = {"effective_policy": "Monetize in all countries"}
    values.update(_monetization(rng, values["effective_policy"], video.video_length or 0))
    return values


def _note_added(rng, video: Video) -> dict:
    return {"notes": rng.choice(NOTES)}
