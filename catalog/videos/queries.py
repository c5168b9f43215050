"""The read side of the video list: filters, keyset pages and their total.

A page is one statement: the rows, their category and their latest audit row through a
lateral join. Its total is exact: when the whole list fits on the page, the page counts it;
otherwise the page loads it in a request of its own (count_matching: a count that stops at
LIST_EXACT_LIMIT + 1 rows, never a count(*) over the catalog; above that limit "more than"
it, with the planner's estimate labelled as one), so counting never slows the page down.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

from flask import current_app
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    and_,
    cast,
    column,
    func,
    null,
    select,
    table,
    true,
)
from sqlalchemy.orm import Bundle, aliased
from werkzeug.datastructures import MultiDict

from catalog.extensions import db
from catalog.models import (
    MetadataSync,
    Video,
    VideoCategory,
    VideoFieldValue,
)
from catalog.models.channel import in_hidden_channel, in_visible_channel
from catalog.models.video import (
    CLAIM_STATUSES,
    MONETIZATION_FIELDS,
    PRIVACY_STATUSES,
    SORT_KEYS,
    YES_NO,
)
from catalog.videos.custom_values import has_value
from catalog.videos.menus import FieldChoice
from catalog.web.filters import contains_pattern
from catalog.web.pagination import Keyset, keyset_page

PAGE_SIZES = (25, 50, 100)
# "added" is the default order, newest first, on the primary key itself.
SORTS = ("added", *SORT_KEYS)
FLAG_FILTERS = ("short", "live", "administered")
FLAG_COLUMNS = {
    "short": Video.is_short,
    "live": Video.is_live_stream,
    "administered": Video.administered,
}
# Hidden videos, and the videos of hidden channels, stay out of the list unless asked for.
# The value row of the custom field a list is sorted by (built once: aliasing is not free).
SORT_VALUE = aliased(VideoFieldValue, name="sort_value")
HIDDEN_CHOICES = ("no", "yes", "all")


@dataclass(frozen=True)
class CustomFilter:
    """A filter on a custom field. `op` is eq/gte/lte for ratings, any for selects,
    yes/no/none for booleans, contains for text."""

    field_id: int
    op: str
    values: tuple[str, ...] = ()

    def args(self) -> dict[str, Any]:
        name = f"cf{self.field_id}"
        if self.op in ("yes", "no", "none"):
            return {name: self.op}
        if self.op in ("gte", "lte"):
            return {name: self.values[0], f"{name}_op": self.op}
        return {name: list(self.values) if len(self.values) > 1 else self.values[0]}


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
    custom: tuple[CustomFilter, ...] = ()
    sort: str = "added"
    desc: bool = True
    size: int = 25
    after: str = ""
    before: str = ""
    # The arguments that keep an open saved view in every link of the list: its id, and a
    # blank for each argument it stores, so that what the list no longer uses is not taken
    # from the view again (catalog/saved_views/lists.py: a blank clears a view's value).
    kept_view: tuple[tuple[str, str], ...] = ()

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
        for custom in self.custom:
            args |= custom.args()
        return {key: value for key, value in args.items() if value not in ("", None)}

    def view_args(self) -> dict[str, Any]:
        """Filters plus order and page size: the list as bookmarked, from its first page."""
        return self._ordered_args(self.sort, self.desc)

    def sorted_by(self, sort: str) -> dict[str, Any]:
        """URL arguments for a column header: sort by it, or flip it when it is current."""
        desc = not self.desc if sort == self.sort else default_desc(sort)
        return self._ordered_args(sort, desc)

    @cached_property
    def _kept_and_filters(self) -> dict[str, Any]:
        # Read about twenty times a page (every link of the list keeps them); the state is
        # frozen, so once.
        return {**dict(self.kept_view), **self.filter_args()}

    def _ordered_args(self, sort: str, desc: bool) -> dict[str, Any]:
        args = dict(self._kept_and_filters)
        if sort != "added":
            args["sort"] = sort
        if desc != default_desc(sort):
            args["dir"] = "desc" if desc else "asc"
        if self.size != PAGE_SIZES[0]:
            args["size"] = self.size
        return args


def default_desc(sort: str) -> bool:
    """Counts and dates list the most first; names and custom values from A or 1."""
    return sort in ("added", "views", "changed")


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _custom_filter(field: FieldChoice, args) -> CustomFilter | None:
    name = f"cf{field.id}"
    values = tuple(v.strip() for v in args.getlist(name) if v and v.strip())
    if not values:
        return None
    if field.field_type == "rating":
        op = args.get(f"{name}_op", "eq")
        numbers = args.getlist(name, type=int)  # a value that is not a number is ignored
        if op not in ("eq", "gte", "lte") or not numbers:
            return None
        return CustomFilter(field.id, op, (str(numbers[0]),))
    if field.field_type == "boolean":
        return CustomFilter(field.id, values[0]) if values[0] in ("yes", "no", "none") else None
    if field.field_type == "select":
        chosen = tuple(v for v in values if v in field.options)
        return CustomFilter(field.id, "any", chosen) if chosen else None
    return CustomFilter(field.id, "contains", (values[0][:200],))


def sortable(sort: str, fields: dict[int, FieldChoice]) -> bool:
    if sort in SORTS:
        return True
    # A custom field's sort is named "cf<id>", as the column headers write it.
    field = next((f for f in fields.values() if sort == f"cf{f.id}"), None)
    return field is not None and field.field_type != "boolean"


def parse_state(args, fields: dict[int, FieldChoice] | None = None) -> ListState:
    """Read a ListState from request arguments (or a dict of the same); anything unknown or
    malformed is ignored.
    `fields` are the custom fields by id, whose filters and sorts the URL may name."""
    fields = fields or {}
    args = args if isinstance(args, MultiDict) else MultiDict(args)
    size = args.get("size", type=int)
    sort = args.get("sort", "added")
    sort = sort if sortable(sort, fields) else "added"
    custom = (_custom_filter(field, args) for field in fields.values())
    return ListState(
        q=(args.get("q") or "").strip()[:200],
        channel=args.get("channel", type=int),
        category=args.get("category", type=int),
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
        custom=tuple(c for c in custom if c is not None),
        sort=sort,
        desc=args["dir"] != "asc" if args.get("dir") else default_desc(sort),
        size=size if size in PAGE_SIZES else PAGE_SIZES[0],
        after=args.get("after", ""),
        before=args.get("before", ""),
    )


def _custom_condition(custom: CustomFilter, value=VideoFieldValue) -> ColumnElement[bool]:
    """The test a value row must pass; `value` is the table or an alias of it."""
    if custom.op in ("eq", "gte", "lte"):
        number = Decimal(custom.values[0])
        column = value.value_numeric
        return {"eq": column == number, "gte": column >= number, "lte": column <= number}[custom.op]
    if custom.op == "any":
        return value.value_text.in_(custom.values)
    if custom.op == "contains":
        return value.value_text.ilike(contains_pattern(custom.values[0]))
    return value.value_boolean.is_(custom.op == "yes")


def filter_conditions(state: ListState, sorted_value=None) -> list[ColumnElement[bool]]:
    """The WHERE of the list. `sorted_value` is the joined value row of the custom field the
    list is sorted by, if any: a filter on that same field tests it directly."""
    conditions: list[ColumnElement[bool]] = []
    if state.q:
        conditions.append(Video.search_text.like(contains_pattern(state.q)))
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
        conditions.append(Video.effective_policy.ilike(contains_pattern(state.policy)))
    if state.has_asset:
        has = Video.asset_id.is_not(None)
        conditions.append(has if state.has_asset == "yes" else ~has)
    for name in FLAG_FILTERS:
        wanted = getattr(state, name)
        if wanted:
            conditions.append(FLAG_COLUMNS[name].is_(wanted == "yes"))
    # A video is hidden when it is, or when its channel is.
    if state.hidden == "no":
        conditions += [Video.hidden.is_(False), in_visible_channel(Video.channel_id)]
    elif state.hidden == "yes":
        conditions.append(Video.hidden.is_(True) | in_hidden_channel(Video.channel_id))
    for name, value in state.monetization.items():
        conditions.append(getattr(Video, name) == value)
    for custom in state.custom:
        if custom.op == "none":
            conditions.append(~has_value(custom.field_id))
        elif sorted_value is not None and custom.field_id == _sort_field_id(state):
            conditions.append(_custom_condition(custom, sorted_value))
        else:
            conditions.append(has_value(custom.field_id, _custom_condition(custom)))
    return conditions


def matching_ids(state: ListState) -> Select:
    """The primary keys of every video the filters match (for bulk edit of a whole result)."""
    return select(Video.id).where(*filter_conditions(state))


@dataclass(frozen=True)
class Total:
    """How many videos the filters match. `exact`: `count` is counted (it is at most
    `limit`); otherwise more than `limit` match and `count` is the planner's estimate.
    Sorted by a custom field, `with_value` says how many of them have a value of it (only
    those are listed in that order); None otherwise, or when not counted."""

    count: int
    exact: bool
    limit: int
    with_value: int | None = None

    @property
    def without_value(self) -> int | None:
        return None if self.with_value is None else self.count - self.with_value


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    total: Total | None  # None: not known from the page; count_matching says


def _sort_field_id(state: ListState) -> int | None:
    return int(state.sort[2:]) if state.sort.startswith("cf") else None


def _key_types(sort: str, fields: dict[int, FieldChoice]) -> tuple[type, ...]:
    if sort.startswith("cf"):
        rating = fields[int(sort[2:])].field_type == "rating"
        return (int, float) if rating else (str,)
    if sort in ("added", "category", "views"):
        return (int,)
    return (datetime,) if sort == "changed" else (str,)


def ordered_ids(state: ListState, fields: dict[int, FieldChoice]):
    """(select of video ids with their sort key, the key, the id column to break ties).

    Sorting by a custom field walks that field's value index, so it lists the videos that
    have a value; the page says so.
    """
    field_id = _sort_field_id(state)
    if field_id is None:
        key = Video.id if state.sort == "added" else SORT_KEYS[state.sort]
        ids = select(Video.id, key.label("sort_key")).where(*filter_conditions(state))
        return ids, key, Video.id
    value = SORT_VALUE
    key = getattr(value, fields[field_id].value_column)
    ids = (
        select(Video.id, key.label("sort_key"))
        .join(value, and_(value.video_id == Video.id, value.field_id == field_id))
        .where(*filter_conditions(state, sorted_value=value))
    )
    return ids, key, value.video_id


def list_page(
    state: ListState,
    fields: dict[int, FieldChoice] | None = None,
    card_fields: tuple[int, ...] = (),
) -> Page:
    """One page of the list in the order `state` asks for, with its neighbours' cursors.
    `card_fields` are the custom fields shown as columns; their values come along."""
    fields = fields or {}
    ids, key, row_id = ordered_ids(state, fields)
    keyset = Keyset(
        state.size, state.desc, state.after, state.before, _key_types(state.sort, fields)
    )

    def with_columns(limited: Select, descending: bool) -> Select:
        return _shown(descending, card_fields).add_cte(limited.cte(PAGE.name))

    found = keyset_page(
        ids, key, row_id, keyset,
        position=lambda row: (row.sort_key, row.Video.id), wrap=with_columns,
    )  # fmt: skip
    total = None
    if found.whole and _sort_field_id(state) is None:
        total = Total(len(found.rows), True, exact_limit())  # the whole list is on this page
    return Page(found.rows, found.next_cursor, found.prev_cursor, total)


# The columns the list shows, as `row.Video` (not the ~40 columns of an entity, nor the
# ORM's work of building one per row); the artists come joined, as the list shows them.
SHOWN = Bundle(
    "Video",
    Video.id, Video.video_id, Video.hidden, Video.title, Video.channel_display_name,
    func.array_to_string(Video.artist, ", ").label("artists"), Video.claimed_status,
    Video.privacy_status, Video.views, Video.notes,
)  # fmt: skip


# The page of ids the shown columns are read for: the statement is built over this name once
# per order and set of card columns (building it is most of a page's Python time), and each
# request adds its page of ids under it as a CTE (inlined by PostgreSQL: read once).
PAGE = table("page", column("id", Integer), column("sort_key"))


@cache
def _shown(descending: bool, card_fields: tuple[int, ...]) -> Select:
    """What the list shows of a page of ids (PAGE): the rows' shown columns (SHOWN), their
    category and their latest audit row through a lateral join, and the card values asked
    for."""
    page = PAGE
    latest = (
        select(MetadataSync.sync_time, MetadataSync.user_email, MetadataSync.source)
        .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == page.c.id)
        .order_by(MetadataSync.sync_time.desc(), MetadataSync.id.desc())
        .limit(1)
        .lateral("latest")
    )
    statement = (
        select(
            SHOWN,
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
    if card_fields:
        statement = with_card_values(statement, page, card_fields)
    return statement


def exact_limit() -> int:
    return current_app.config.get("LIST_EXACT_LIMIT", 10_000)


def _bounded_count(state: ListState) -> Select:
    """(matching, with_value) counted over at most exact_limit() + 1 matching videos: the
    count stops there, so its cost is bounded at any catalog size. `with_value`: how many
    have a value of the custom field the list is sorted by (NULL when not sorted so)."""
    field_id = _sort_field_id(state)
    if field_id is None:
        flag = cast(null(), Boolean)
    elif any(c.field_id == field_id and c.op != "none" for c in state.custom):
        flag = true()  # filtered on that field's value: every match has one, no probe each
    else:
        flag = has_value(field_id)
    matching = (
        select(flag.label("has_value"))
        .select_from(Video)  # with no filter at all, the WHERE would not name the table
        .where(*filter_conditions(state))
        .limit(exact_limit() + 1)
        .subquery("matching")
    )
    with_value = func.count().filter(matching.c.has_value)
    return select(func.count().label("matching"), with_value.label("with_value"))


def _total(state: ListState, matching: int, with_value: int) -> Total:
    limit = exact_limit()
    if matching <= limit:
        sorted_by_field = _sort_field_id(state) is not None
        return Total(matching, True, limit, with_value if sorted_by_field else None)
    # Above the limit, only the planner knows roughly how many (never fewer than counted).
    return Total(max(estimate_count(state), limit + 1), False, limit)


def count_matching(state: ListState) -> Total:
    """The total of the list (see Total), in one statement (two above the limit): bounded
    by the limit, it still reads up to that many rows, hence a request of its own."""
    matching, with_value = db.session.execute(_bounded_count(state)).one()
    return _total(state, matching, with_value)


def with_card_values(statement: Select, page, card_fields: tuple[int, ...]) -> Select:
    """Add each row's card values as one JSON object {field id: value}, in the same statement."""
    value = func.coalesce(
        func.to_jsonb(VideoFieldValue.value_text),
        func.to_jsonb(VideoFieldValue.value_numeric),
        func.to_jsonb(VideoFieldValue.value_boolean),
    )
    cards = (
        select(func.jsonb_object_agg(VideoFieldValue.field_id, value).label("card_values"))
        .where(VideoFieldValue.video_id == page.c.id, VideoFieldValue.field_id.in_(card_fields))
        .lateral("cards")
    )
    return statement.add_columns(cards.c.card_values).outerjoin(cards, true())


def estimate_count(state: ListState) -> int:
    """The planner's row estimate for the filtered list: instant at any size, and only an
    estimate (pages label it as one)."""
    statement = select(Video.id).where(*filter_conditions(state))
    # Expanding parameters (IN lists) must be rendered, or EXPLAIN sees a placeholder.
    compiled = statement.compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = (
        db.session.connection()
        .exec_driver_sql("EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params)
        .scalar_one()
    )
    return int(plan[0]["Plan"]["Plan Rows"])
