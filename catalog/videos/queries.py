"""The read side of the video list: filters, keyset pages and an estimated total.

A page is one statement (the rows, their category and their latest audit row through a
lateral join); the total is the planner's estimate, never a count(*) over the catalog.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    literal_column,
    select,
    true,
    tuple_,
    union_all,
)

from catalog.extensions import db
from catalog.models import Channel, MetadataSync, Video, VideoCategory
from catalog.models.video import (
    CLAIM_STATUSES,
    MONETIZATION_FIELDS,
    PRIVACY_STATUSES,
    SORT_KEYS,
    YES_NO,
)
from catalog.pagination import decode_cursor, encode_cursor

PAGE_SIZES = (25, 50, 100)
# "added" is the default order, newest first, on the primary key itself.
SORTS = ("added", *SORT_KEYS)
FLAG_FILTERS = ("short", "live", "administered")
FLAG_COLUMNS = {
    "short": Video.is_short,
    "live": Video.is_live_stream,
    "administered": Video.administered,
}
HIDDEN_CHOICES = ("no", "yes", "all")  # hidden videos stay out of the list unless asked for


@dataclass(frozen=True)
class ListState:
    """Everything that defines a list view; it round-trips through the URL."""

    q: str = ""
    channel: int | None = None
    category: int | None = None
    claim: str = ""
    another_owner: str = ""
    privacy: str = ""
    policy: str = ""
    has_asset: str = ""
    short: str = ""
    live: str = ""
    administered: str = ""
    hidden: str = "no"
    monetization: dict[str, str] = field(default_factory=dict)
    sort: str = "added"
    desc: bool = True
    size: int = 25
    after: str = ""
    before: str = ""

    @property
    def filtered(self) -> bool:
        return self.filter_args() != {}

    def filter_args(self) -> dict[str, Any]:
        """The filters as URL arguments, defaults left out."""
        args: dict[str, Any] = {
            "q": self.q, "channel": self.channel, "category": self.category,
            "claim": self.claim, "another_owner": self.another_owner, "privacy": self.privacy,
            "policy": self.policy, "has_asset": self.has_asset, "short": self.short,
            "live": self.live, "administered": self.administered,
            "hidden": "" if self.hidden == "no" else self.hidden,
            **self.monetization,
        }  # fmt: skip
        return {key: value for key, value in args.items() if value not in ("", None)}

    def view_args(self) -> dict[str, Any]:
        """Filters plus order and page size: the list as bookmarked, from its first page."""
        args = self.filter_args()
        if self.sort != "added":
            args["sort"] = self.sort
        if not self.desc:
            args["dir"] = "asc"
        if self.size != PAGE_SIZES[0]:
            args["size"] = self.size
        return args

    def sorted_by(self, sort: str) -> dict[str, Any]:
        """URL arguments for a column header: sort by it, or flip it when it is current."""
        desc = not self.desc if sort == self.sort else sort in ("views", "changed", "added")
        return replace(self, sort=sort, desc=desc).view_args()


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def parse_state(args) -> ListState:
    """Read a ListState from request arguments; anything unknown or malformed is ignored."""
    size = _int(args.get("size"))
    sort = args.get("sort", "added")
    return ListState(
        q=(args.get("q") or "").strip()[:200],
        channel=_int(args.get("channel")),
        category=_int(args.get("category")),
        claim=_choice(args.get("claim"), (*CLAIM_STATUSES, "none")),
        another_owner=_choice(args.get("another_owner"), YES_NO),
        privacy=_choice(args.get("privacy"), PRIVACY_STATUSES),
        policy=(args.get("policy") or "").strip()[:200],
        has_asset=_choice(args.get("has_asset"), ("yes", "no")),
        short=_choice(args.get("short"), ("yes", "no")),
        live=_choice(args.get("live"), ("yes", "no")),
        administered=_choice(args.get("administered"), ("yes", "no")),
        hidden=_choice(args.get("hidden"), HIDDEN_CHOICES) or "no",
        monetization={name: args[name] for name in MONETIZATION_FIELDS if args.get(name) in YES_NO},
        sort=sort if sort in SORTS else "added",
        desc=args.get("dir", "desc" if sort in ("added", "views", "changed") else "asc") != "asc",
        size=size if size in PAGE_SIZES else PAGE_SIZES[0],
        after=args.get("after", ""),
        before=args.get("before", ""),
    )


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_conditions(state: ListState) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if state.q:
        conditions.append(Video.search_text.like(_like(state.q)))
    if state.channel:
        conditions.append(Video.channel_id == state.channel)
    if state.category:
        conditions.append(Video.category_id == state.category)
    if state.claim == "none":
        conditions.append(Video.claimed_status.is_(None))
    elif state.claim:
        conditions.append(Video.claimed_status == state.claim)
    if state.another_owner:
        conditions.append(Video.claimed_by_another_owner == state.another_owner)
    if state.privacy:
        conditions.append(Video.privacy_status == state.privacy)
    if state.policy:
        conditions.append(Video.effective_policy.ilike(_like(state.policy)))
    if state.has_asset:
        has = Video.asset_id.is_not(None)
        conditions.append(has if state.has_asset == "yes" else ~has)
    for name in FLAG_FILTERS:
        wanted = getattr(state, name)
        if wanted:
            conditions.append(FLAG_COLUMNS[name].is_(wanted == "yes"))
    if state.hidden != "all":
        conditions.append(Video.hidden.is_(state.hidden == "yes"))
    for name, value in state.monetization.items():
        conditions.append(getattr(Video, name) == value)
    return conditions


def matching_ids(state: ListState) -> Select:
    """The primary keys of every video the filters match (for bulk edit of a whole result)."""
    return select(Video.id).where(*filter_conditions(state))


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    estimate: int
    exact: bool


def _sort_key(sort: str) -> ColumnElement:
    return Video.id if sort == "added" else SORT_KEYS[sort]


def _key_type(sort: str) -> type:
    if sort in ("added", "category", "views"):
        return int
    return datetime if sort == "changed" else str


def _cursor(state: ListState) -> tuple[Any, int] | None:
    """The cursor of the request, if it is a well-formed one for the current sort."""
    token = state.before or state.after
    cursor = decode_cursor(token) if token else None
    if cursor and type(cursor[0]) is _key_type(state.sort):
        return cursor
    return None


def list_page(state: ListState) -> Page:
    """One page of the list in the order `state` asks for, with its neighbours' cursors."""
    key = _sort_key(state.sort)
    backwards = bool(state.before)
    cursor = _cursor(state)
    # Walking backwards reverses the order; the rows are put right way round afterwards.
    descending = state.desc != backwards
    page = select(Video.id, key.label("sort_key")).where(*filter_conditions(state))
    if cursor:
        position, bound = tuple_(key, Video.id), tuple_(*cursor)
        page = page.where(position < bound if descending else position > bound)
    if descending:
        page = page.order_by(key.desc(), Video.id.desc())
    else:
        page = page.order_by(key.asc(), Video.id.asc())
    page = page.limit(state.size + 1).subquery("page")

    latest = (
        select(MetadataSync.sync_time, MetadataSync.user_email, MetadataSync.source)
        .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == page.c.id)
        .order_by(MetadataSync.sync_time.desc())
        .limit(1)
        .lateral("latest")
    )
    statement = (
        select(
            Video,
            VideoCategory.name.label("category_name"),
            latest.c.sync_time.label("changed_at"),
            latest.c.user_email.label("changed_by"),
            latest.c.source.label("changed_source"),
            page.c.sort_key,
        )
        .join(page, page.c.id == Video.id)
        .outerjoin(VideoCategory, VideoCategory.id == Video.category_id)
        .outerjoin(latest, true())
        .order_by(
            page.c.sort_key.desc() if descending else page.c.sort_key,
            Video.id.desc() if descending else Video.id,
        )
    )
    rows = list(db.session.execute(statement))
    more = len(rows) > state.size
    rows = rows[: state.size]
    if backwards:
        rows.reverse()
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    has_prev = more if backwards else bool(cursor)
    has_next = bool(cursor) if backwards else more
    next_cursor = encode_cursor(last.sort_key, last.Video.id) if has_next and last else None
    prev_cursor = encode_cursor(first.sort_key, first.Video.id) if has_prev and first else None

    if not cursor and not more:
        return Page(rows, next_cursor, prev_cursor, len(rows), exact=True)
    # An estimate never claims fewer videos than this page shows.
    at_least = len(rows) + (1 if next_cursor else 0)
    return Page(rows, next_cursor, prev_cursor, max(estimate_count(state), at_least), exact=False)


def estimate_count(state: ListState) -> int:
    """The planner's row estimate for the filtered list: instant at any size."""
    statement = select(Video.id).where(*filter_conditions(state))
    compiled = statement.compile(dialect=db.engine.dialect)
    plan = (
        db.session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params)
        .scalar_one()
    )
    return int(plan[0]["Plan"]["Plan Rows"])


def filter_choices() -> tuple[list, list]:
    """Channels and categories for the filter menus, in one statement."""
    options = union_all(
        select(literal_column("'category'").label("kind"), VideoCategory.id, VideoCategory.name),
        select(literal_column("'channel'").label("kind"), Channel.id, Channel.name),
    ).subquery()
    rows = db.session.execute(select(options).order_by(options.c.kind, options.c.name)).all()
    categories = [(row.id, row.name) for row in rows if row.kind == "category"]
    channels = [(row.id, row.name) for row in rows if row.kind == "channel"]
    return channels, categories


def with_cursor(state: ListState, **cursor: str) -> dict[str, Any]:
    return {**state.view_args(), **cursor}
