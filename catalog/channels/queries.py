"""The read side of channels: the filtered, keyset-paged list, and what a channel's page shows.

Each list row carries the channel's catalog figures from channel_stats (kept by PostgreSQL
from the videos), so a page costs the same whether a channel has ten videos or a hundred
thousand; sorting by the number of videos walks an index on channel_stats.
"""

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Bundle
from werkzeug.datastructures import MultiDict

from catalog.channels.countries import COUNTRIES
from catalog.extensions import db
from catalog.models import (
    Channel,
    ChannelStats,
    FieldSchema,
    Video,
    schema_channels,
)
from catalog.models.channel import CHANNEL_SORT_KEYS
from catalog.web.filters import contains_pattern
from catalog.web.pagination import Keyset, keyset_page

PAGE_SIZES = (50, 100, 200)
SORTS = tuple(CHANNEL_SORT_KEYS)
# Figures read best largest first; names from A.
DESCENDING_FIRST = ("subscribers", "views", "videos")
HIDDEN_CHOICES = ("no", "yes", "all")  # hidden channels stay out of the list unless asked for
HISTORY_LIMIT = 100
RECENT_VIDEOS = 10


@dataclass(frozen=True)
class ListState:
    """Everything that defines a channel list view; it round-trips through the URL."""

    q: str = ""
    country: str = ""
    monetized: str = ""
    hidden: str = "no"
    sort: str = "name"
    desc: bool = False
    size: int = PAGE_SIZES[0]
    after: str = ""
    before: str = ""

    @property
    def filtered(self) -> bool:
        return self.filter_args() != {}

    def filter_args(self) -> dict[str, Any]:
        """The filters as URL arguments, defaults left out."""
        args = {
            "q": self.q,
            "country": self.country,
            "monetized": self.monetized,
            "hidden": "" if self.hidden == "no" else self.hidden,
        }
        return {key: value for key, value in args.items() if value}

    def view_args(self) -> dict[str, Any]:
        """Filters plus order and page size: the list as bookmarked, from its first page."""
        args = self.filter_args()
        if self.sort != "name":
            args["sort"] = self.sort
        if self.desc != (self.sort in DESCENDING_FIRST):
            args["dir"] = "desc" if self.desc else "asc"
        if self.size != PAGE_SIZES[0]:
            args["size"] = self.size
        return args

    def sorted_by(self, sort: str) -> dict[str, Any]:
        """URL arguments for a column header: sort by it, or flip it when it is current."""
        desc = not self.desc if sort == self.sort else sort in DESCENDING_FIRST
        return replace(self, sort=sort, desc=desc, after="", before="").view_args()


def parse_state(args) -> ListState:
    """Read a ListState from request arguments (or a dict of the same); anything unknown or
    malformed is ignored."""
    args = args if isinstance(args, MultiDict) else MultiDict(args)
    sort = args.get("sort", "name")
    sort = sort if sort in SORTS else "name"
    size = args.get("size", type=int)
    direction = args.get("dir", "")
    country = (args.get("country") or "").upper()
    return ListState(
        q=(args.get("q") or "").strip()[:200],
        country=country if country in COUNTRIES else "",
        monetized=args.get("monetized") if args.get("monetized") in ("yes", "no") else "",
        hidden=args.get("hidden") if args.get("hidden") in HIDDEN_CHOICES else "no",
        sort=sort,
        desc=direction == "desc" if direction in ("asc", "desc") else sort in DESCENDING_FIRST,
        size=size if size in PAGE_SIZES else PAGE_SIZES[0],
        after=args.get("after", ""),
        before=args.get("before", ""),
    )


def filter_conditions(state: ListState) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if state.q:
        pattern = contains_pattern(state.q)
        conditions.append(
            or_(
                func.lower(Channel.name).like(pattern), func.lower(Channel.channel_id).like(pattern)
            )
        )
    if state.country:
        conditions.append(Channel.country == state.country)
    if state.monetized:
        conditions.append(Channel.is_monetized.is_(state.monetized == "yes"))
    if state.hidden != "all":
        conditions.append(Channel.hidden.is_(state.hidden == "yes"))
    return conditions


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    total: int


def _id_column(sort: str) -> ColumnElement:
    # The tie-breaker of the index the sort walks (channel_stats' key for the video count).
    return ChannelStats.channel_id if sort == "videos" else Channel.id


# What the list shows of a channel (as `row.Channel`) and of its catalog figures (as
# `row.ChannelStats`): the columns, not whole entities (the ORM's work of building two per
# row was a tenth of the page).
SHOWN = Bundle(
    "Channel",
    Channel.id, Channel.channel_id, Channel.name, Channel.hidden, Channel.country,
    Channel.is_monetized, Channel.subscriber_count, Channel.view_count,
)  # fmt: skip
FIGURES = Bundle("ChannelStats", ChannelStats.video_count, ChannelStats.total_views)


def list_page(state: ListState) -> Page:
    """One page of channels in the order `state` asks for, with its neighbours' cursors and
    the exact number of channels the filters match (channels are few; videos are not)."""
    key, row_id = CHANNEL_SORT_KEYS[state.sort], _id_column(state.sort)
    key_type = str if state.sort == "name" else int
    keyset = Keyset(state.size, state.desc, state.after, state.before, (key_type,))
    statement = (
        select(SHOWN, FIGURES, key.label("sort_key"))
        .join(ChannelStats, ChannelStats.channel_id == Channel.id)
        .where(*filter_conditions(state))
    )
    found = keyset_page(
        statement, key, row_id, keyset, position=lambda row: (row.sort_key, row.Channel.id)
    )
    if found.whole:
        total = len(found.rows)
    else:
        total = db.session.scalar(
            select(func.count()).select_from(Channel).where(*filter_conditions(state))
        )
    return Page(found.rows, found.next_cursor, found.prev_cursor, total)


def recent_videos(channel: Channel, limit: int = RECENT_VIDEOS) -> list[Video]:
    """The channel's newest videos, hidden ones included (an index range, newest first)."""
    return list(
        db.session.scalars(
            select(Video)
            .where(Video.channel_id == channel.id)
            .order_by(Video.id.desc())
            .limit(limit)
        )
    )


def schemas(channel: Channel) -> list[str]:
    """The names of the custom-field schemas attached to the channel."""
    return list(
        db.session.scalars(
            select(FieldSchema.name)
            .join(schema_channels, schema_channels.c.schema_id == FieldSchema.id)
            .where(schema_channels.c.channel_id == channel.id)
            .order_by(FieldSchema.name)
        )
    )
