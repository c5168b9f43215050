"""The board's read side: the filtered set of tasks, its counts by phase, each phase's first
cards in claim order and the next page of one column, and the channel menu. (The review
queue is review_queue.py's, a channel's production figures channel_figures.py's.)

The whole board costs one statement here: the first cards of every column (a LATERAL read
of each status's first tasks on `ix_tasks_board`, cut to each phase's first by a window),
with the counts (one grouped query over `task_counts`) beside them as one JSON value.
Claim order is the queue's: priority (high first), then created_at, then id."""

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    Select,
    Text,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from catalog.extensions import db
from catalog.models import Channel, PipelineWorker
from catalog.models.task import (
    PHASES,
    STAGES,
    TASK_PRIORITIES,
    TASK_STATUSES,
    Task,
    TaskCount,
    task_priority,
    task_status,
)
from catalog.production.transitions import ERRORS, GATES, STAGE_FLOW
from catalog.web.pagination import decode_cursor, encode_cursor

PAGE_SIZE = 10
PHASE_OF = {status: phase for phase, statuses in PHASES.items() for status in statuses}
REVIEW = PHASES["Waiting for review"]
# "In its state for at least": the age filter's choices, as (value, label, timedelta).
AGES = {
    "1h": ("1 hour", timedelta(hours=1)),
    "6h": ("6 hours", timedelta(hours=6)),
    "1d": ("1 day", timedelta(days=1)),
    "3d": ("3 days", timedelta(days=3)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
}


def _stage_statuses() -> dict[str, tuple[str, ...]]:
    """A stage's statuses: being generated (the intake's claim too), produced, and passed at
    its gate. Errors are shared by stages, so they belong to a stage by `failed_from`."""
    found: dict[str, list[str]] = {stage: [] for stage in STAGES}
    found["assets"].append("claimed")
    for stage, flow in STAGE_FLOW.items():
        found[stage] += [flow["working"], flow["done"]]
    for ready, (approved, _back) in GATES.items():
        owner = next(s for s, flow in STAGE_FLOW.items() if ready == flow["done"] or (
            ready == "final_review" and s == "assembly"))  # fmt: skip
        if approved not in found[owner]:
            found[owner].append(approved)
    return {stage: tuple(dict.fromkeys(statuses)) for stage, statuses in found.items()}


STAGE_STATUSES = _stage_statuses()


@dataclass(frozen=True)
class BoardFilter:
    """The board's filters, as the URL carries them. Unknown values are ignored (the board
    shows everything rather than an error for a hand-edited URL)."""

    channel: int | None = None
    priority: str | None = None
    status: str | None = None
    stage: str | None = None
    age: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "BoardFilter":
        channel = args.get("channel", "")
        return cls(
            channel=int(channel) if channel.isdigit() and int(channel) < 2**31 else None,
            priority=args.get("priority") if args.get("priority") in TASK_PRIORITIES else None,
            status=args.get("status") if args.get("status") in TASK_STATUSES else None,
            stage=args.get("stage") if args.get("stage") in STAGES else None,
            age=args.get("age") if args.get("age") in AGES else None,
        )

    def without_missing(self, channels: Container[int]) -> "BoardFilter":
        """The filters less a channel not among `channels` (deleted since a view or a link
        named it): that part is ignored, the others kept."""
        if self.channel is None or self.channel in channels:
            return self
        return replace(self, channel=None)

    def args(self) -> dict[str, Any]:
        """The filters in use, for URLs (the board's state lives in its URL)."""
        return {k: v for k, v in vars(self).items() if v is not None}

    @property
    def active(self) -> bool:
        return bool(self.args())

    def conditions(
        self,
        now: datetime | None = None,
        *,
        summary: bool = False,
        age: bool = True,
        bound: bool = False,
    ) -> list:
        """The filters as conditions on `tasks`, or (`summary`) on `task_counts`, which
        has no age: the caller counts that part (see counts). `bound`: the values are
        named parameters (see parameters), for a statement built once per shape."""
        table = TaskCount if summary else Task

        def value(name: str, given: Any) -> Any:
            return bindparam(name) if bound else given

        found = []
        if self.channel is not None:
            found.append(table.channel_id == value("channel", self.channel))
        if self.priority:
            found.append(table.priority == value("priority", self.priority))
        if self.status:
            found.append(table.status == value("status", self.status))
        if self.stage:
            working = STAGE_FLOW[self.stage]["working"]
            origin = TaskCount.origin if summary else Task.failed_from
            found.append(
                or_(
                    table.status.in_(STAGE_STATUSES[self.stage]),
                    and_(table.status.in_(ERRORS), origin == working),
                )
            )
        if self.age and age and not summary:
            found.append(Task.status_changed_at <= self.cutoff(now, bound=bound))
        return found

    def shape(self) -> "BoardFilter":
        """The filter with each value in use replaced by a stand-in, the stage kept (it
        decides which statuses the statement names): one statement built for it, with
        `conditions(bound=True)`, serves every filter of this shape with its parameters."""
        return BoardFilter(
            channel=None if self.channel is None else 0,
            priority=self.priority and TASK_PRIORITIES[0],
            status=self.status and TASK_STATUSES[0],
            stage=self.stage,
            age=self.age and next(iter(AGES)),
        )

    def parameters(self, now: datetime | None = None) -> dict[str, Any]:
        """The values of `conditions(bound=True)`, and the statuses the board reads."""
        found: dict[str, Any] = {"statuses": self.statuses()}
        if self.channel is not None:
            found["channel"] = self.channel
        if self.priority:
            found["priority"] = self.priority
        if self.status:
            found["status"] = self.status
        if self.age:
            found["cutoff"] = self.cutoff(now)
        return found

    def statuses(self) -> list[str]:
        """The statuses the filtered set can hold: the board reads only their ranges (a
        stage's errors are in its own error state, where they failed from its work)."""
        found = list(TASK_STATUSES)
        if self.stage:
            own = {*STAGE_STATUSES[self.stage], STAGE_FLOW[self.stage]["error"]}
            found = [s for s in found if s in own]
        if self.status:
            found = [s for s in found if s == self.status]
        return found

    def cutoff(self, now: datetime | None = None, *, bound: bool = False) -> Any:
        if bound:
            return bindparam("cutoff")
        return (now or datetime.now(UTC)) - AGES[self.age][1]

    def selection(self) -> Select:
        """The ids of the filtered set (what the bulk actions apply to)."""
        return select(Task.id).where(*self.conditions())


@dataclass(frozen=True)
class Card:
    id: int
    title: str
    channel: str
    priority: str
    status: str
    since: datetime
    worker: str | None
    created_at: datetime

    @property
    def cursor(self) -> str:
        """Its place in claim order, for the next page after it."""
        return _cursor(self.priority, self.created_at, self.id)

    @property
    def in_state(self) -> str:
        return duration(datetime.now(UTC) - self.since)


@dataclass
class Column:
    phase: str
    count: int
    cards: list[Card]
    next_cursor: str | None


def duration(delta: timedelta) -> str:
    """How long, in the largest unit that fits: "now", "12 min", "3 h", "4 d"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400:,} d"


def _cursor(priority: str, created_at: datetime, task_id: int) -> str:
    # One key for (priority, created_at): the cursor helpers carry a key and an id.
    return encode_cursor(f"{priority}|{created_at.isoformat()}", task_id)


def _position(token: str | None) -> tuple[str, datetime, int] | None:
    decoded = decode_cursor(token) if token else None
    if not decoded or not isinstance(decoded[0], str):
        return None
    priority, _, stamp = decoded[0].partition("|")
    try:
        created_at = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if priority not in TASK_PRIORITIES or created_at.tzinfo is None:
        return None
    return priority, created_at, decoded[1]


def _card_columns():
    return (
        Task.id, Task.title, Channel.name.label("channel"), Task.priority, Task.status,
        Task.status_changed_at, PipelineWorker.name.label("worker"), Task.created_at,
    )  # fmt: skip


def _card(row) -> Card:
    return Card(
        row.id, row.title, row.channel, row.priority, row.status, row.status_changed_at,
        row.worker, row.created_at,
    )  # fmt: skip


def counts(board: BoardFilter, now: datetime | None = None) -> dict[str, int]:
    """Each phase's count of the filtered set, in one statement (see _counted)."""
    return _by_phase(db.session.execute(_counted(board, now)))


def _counted(board: BoardFilter, now: datetime | None = None, *, bound: bool = False) -> Select:
    """(status, count) of the filtered set: summed from `task_counts` (kept by triggers);
    with an age filter, less the tasks that entered their state after the cutoff (few, from
    ix_tasks_priority_status_changed_at), read in the same snapshot. `bound`: see
    BoardFilter.conditions."""
    summary = select(TaskCount.status, TaskCount.tasks.label("n")).where(
        *board.conditions(summary=True, bound=bound)
    )
    if board.age:
        recent = (
            select(Task.status, (-func.count()).label("n"))
            .where(
                *board.conditions(age=False, bound=bound),
                *any_priority(board),
                Task.status_changed_at > board.cutoff(now, bound=bound),
            )
            .group_by(Task.status)
        )
        summary = union_all(summary, recent)
    parts = summary.subquery("parts")
    return select(parts.c.status, func.sum(parts.c.n).label("n")).group_by(parts.c.status)


def _by_phase(rows) -> dict[str, int]:
    found = dict.fromkeys(PHASES, 0)
    for status, count in rows:
        found[PHASE_OF[status]] += int(count)
    return found


def any_priority(board: BoardFilter | None = None) -> list:
    """Every priority, spelled out when no filter names one: ix_tasks_priority_status_changed_at
    leads with the priority, so a range of status_changed_at is read as one range per
    priority instead of the whole index."""
    if board is not None and board.priority:
        return []
    return [Task.priority.in_(TASK_PRIORITIES)]


def board(board: BoardFilter, size: int = PAGE_SIZE) -> list[Column]:
    """Every phase's count and first `size` cards in claim order, in one statement (see
    _board_statement): the cards' rows, each with the counts as one JSON text (a row of
    counts alone when no card matches), parsed once."""
    rows = db.session.execute(_board_statement(board.shape(), size), board.parameters()).all()
    found = _by_phase(json.loads(rows[0].counts))
    by_phase: dict[str, list] = {p: [] for p in PHASES}
    for row in rows:
        if row.id is not None:  # the counts' row alone: no card matches
            by_phase[PHASE_OF[row.status]].append(row)
    columns = []
    for name in PHASES:
        phase_rows = by_phase[name]
        cards = [_card(row) for row in phase_rows[:size]]
        more = len(phase_rows) > size
        columns.append(Column(name, found[name], cards, cards[-1].cursor if more else None))
    return columns


@cache
def _board_statement(shape: BoardFilter, size: int) -> Select:
    """The board's statement for filters of `shape` (BoardFilter.shape), their values and
    statuses left as parameters (BoardFilter.parameters): built once per shape, since
    building it took as long as PostgreSQL took to run it. Each status's first cards (see
    _heads), cut to each phase's first `size` + 1 by a window, beside the counts."""
    wanted, first = _heads(shape, None, size + 1)
    phase = _phase_case(first.c.status)
    ranked = (
        select(
            first,
            func.row_number()
            .over(partition_by=phase, order_by=(first.c.priority, first.c.created_at, first.c.id))
            .label("rank"),
        )
        .select_from(wanted)
        .join(first, text("true"))
        .subquery("ranked")
    )
    counted = _counted(shape, bound=True).subquery("counted")
    pairs = func.coalesce(func.json_agg(func.json_build_array(counted.c.status, counted.c.n)),
                          text("'[]'"))  # fmt: skip
    summary = select(pairs.cast(Text).label("counts")).subquery("summary")
    return (
        select(summary.c.counts, ranked)
        .select_from(summary)
        .outerjoin(ranked, ranked.c.rank <= size + 1)
        .order_by(ranked.c.rank)
    )


def _heads(board: BoardFilter, statuses: list[str] | None, limit: int, extra: list | None = None):
    """Each status's first `limit` cards of the filtered set in claim order, as a LATERAL
    over the list of statuses: each reads the head of its range of ix_tasks_board (an IN
    list over several statuses would sort all of their rows instead). `statuses` None: the
    statuses and the filters' values are parameters (BoardFilter.parameters)."""
    bound = statuses is None
    statuses_type = ARRAY(task_status)
    if bound:
        listed = bindparam("statuses", type_=statuses_type)
    else:
        listed = literal(statuses, statuses_type)
    wanted = select(func.unnest(listed).label("status"))
    wanted = wanted.subquery("wanted")
    first = (
        select(*_card_columns())
        .join(Channel, Channel.id == Task.channel_id)
        .outerjoin(PipelineWorker, PipelineWorker.id == Task.claimed_by)
        .where(Task.status == wanted.c.status, *board.conditions(bound=bound), *(extra or ()))
        .order_by(Task.priority, Task.created_at, Task.id)
        .limit(limit)
        .lateral("first")
    )
    return wanted, first


def _phase_case(status):
    from sqlalchemy import case

    return case(
        *((status.in_(statuses), literal(phase)) for phase, statuses in PHASES.items()),
        else_=literal(""),
    )


def column(
    board: BoardFilter, phase: str, after: str | None, size: int = PAGE_SIZE
) -> Column | None:
    """The page of one column after a card's cursor (None: no such phase)."""
    if phase not in PHASES:
        return None
    after_cursor = []
    position = _position(after)
    if position:
        priority, created_at, task_id = position
        after_cursor.append(
            tuple_(Task.priority, Task.created_at, Task.id)
            > tuple_(literal(priority, task_priority), literal(created_at), literal(task_id))
        )
    statuses = [s for s in board.statuses() if s in PHASES[phase]]
    wanted, first = _heads(board, statuses, size + 1, after_cursor)
    rows = db.session.execute(
        select(first)
        .select_from(wanted)
        .join(first, text("true"))
        .order_by(first.c.priority, first.c.created_at, first.c.id)
        .limit(size + 1)
    ).all()
    cards = [_card(row) for row in rows[:size]]
    more = len(rows) > size
    return Column(phase, -1, cards, cards[-1].cursor if more else None)


def channel_options() -> list[tuple[int, str]]:
    """Every channel, for the board's channel filter: (id, name) by name."""
    return [tuple(row) for row in db.session.execute(
        select(Channel.id, Channel.name).order_by(Channel.name, Channel.id)
    )]  # fmt: skip
