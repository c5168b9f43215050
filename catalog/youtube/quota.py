"""The daily API quota and the spacing of calls, shared by every worker through PostgreSQL.

Each API's usage of one UTC day is kept in one ProcessingQueue row (task_type `api_quota`,
status `completed`, payload `{"api": ..., "day": "YYYY-MM-DD"}`, result
`{"calls": n, "limit": n, "next_call_at": epoch seconds, "exhausted": bool}`), so staff see
the day's usage beside the jobs that spent it, and no table of its own is needed.

A call is counted before it is made, in a short transaction of its own that commits at once
under an advisory lock: every worker sees the count before the request leaves, and a call made
stays counted when the job that made it rolls back (Google bills invalid requests too). The
same lock hands out call times at least `min_delay` apart, on PostgreSQL's clock, so the delay
holds across all workers and machines, not just within one process.

YouTube resets its quota at midnight Pacific time, not UTC; the count is per UTC day as
specified, so a UTC day can straddle two of Google's days. The default limit (9,500 of
Google's default 10,000 units) leaves a margin, and a `quotaExceeded` answer from the API stops
every worker for the rest of the day (`exhaust`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, func, insert, select, update

from catalog.extensions import db
from catalog.jobs import PermanentError
from catalog.models import ProcessingQueue

LEDGER_TASK_TYPE = "api_quota"
# First key of the two-key advisory lock ("YT"); the second is a hash of the API's name.
LOCK_CLASS = 0x5954

_table = ProcessingQueue.__table__


class QuotaExhausted(PermanentError):
    """The day's quota is spent; no call was made. `retry_at` is when the next day starts.

    Permanent for the job engine: its backoff (seconds to an hour) cannot outwait a daily
    quota, so the job fails at once, saying when calls resume, and is retried from the queue.
    """

    def __init__(self, api: str, day: date, limit: int | None, *, by_server: bool = False):
        self.api = api
        self.day = day
        self.limit = limit
        self.retry_at = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
        if by_server:
            detail = "the API answered quotaExceeded"
        else:
            detail = f"all {limit:,} calls of the day are used"
        super().__init__(
            f"Daily quota of the {api} API reached for {day.isoformat()} (UTC): {detail}. "
            f"No further calls until {self.retry_at:%Y-%m-%d %H:%M} UTC."
        )


@contextmanager
def _own_transaction() -> Iterator[Connection]:
    """A transaction apart from the job's, committed when the block ends.

    The application's bind is an Engine; tests bind the app to one connection inside a
    transaction they roll back, and there this is a savepoint of it.
    """
    bind = db.engine
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin() as connection:
            yield connection


def _ledger(api: str, day: date):
    """The select of one API's row for `day`: that day's rows only, through the created_at
    index, never a scan of the whole queue."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return select(_table.c.id, _table.c.result).where(
        _table.c.task_type == LEDGER_TASK_TYPE,
        _table.c.created_at >= start,
        _table.c.created_at < start + timedelta(days=1),
        _table.c.payload["api"].astext == api,
    )


class DailyQuota:
    """Calls to one API per UTC day (`limit` None: counted and spaced, never refused)."""

    def __init__(self, api: str, limit: int | None, min_delay: float = 0.0):
        self.api = api
        self.limit = limit
        self.min_delay = max(min_delay, 0.0)

    @contextmanager
    def _locked(self) -> Iterator[tuple[datetime, dict]]:
        """The day's usage under the API's lock, in a transaction of its own; whatever the
        block leaves in the dict is saved when it ends without raising."""
        with _own_transaction() as connection:
            connection.execute(
                select(func.pg_advisory_xact_lock(LOCK_CLASS, func.hashtext(self.api)))
            )
            now = connection.scalar(select(func.clock_timestamp())).astimezone(UTC)
            row = connection.execute(_ledger(self.api, now.date())).first()
            result = dict(row.result or {}) if row else {"calls": 0}
            yield now, result
            result["limit"] = self.limit
            if row:
                connection.execute(
                    update(_table)
                    .where(_table.c.id == row.id)
                    .values(result=result, completed_at=now)
                )
            else:
                connection.execute(
                    insert(_table).values(
                        task_type=LEDGER_TASK_TYPE,
                        status="completed",
                        payload={"api": self.api, "day": now.date().isoformat()},
                        result=result,
                        created_at=now,
                        started_at=now,
                        completed_at=now,
                    )
                )

    def acquire(self, cost: int = 1) -> float:
        """Count a call of `cost` units; return how many seconds to wait before making it.

        Raises QuotaExhausted, counting nothing, when the day's quota would be exceeded.
        """
        with self._locked() as (now, usage):
            calls = int(usage.get("calls", 0))
            if usage.get("exhausted"):
                raise QuotaExhausted(self.api, now.date(), self.limit, by_server=True)
            if self.limit is not None and calls + cost > self.limit:
                raise QuotaExhausted(self.api, now.date(), self.limit)
            stamp = now.timestamp()
            slot = max(stamp, float(usage.get("next_call_at", 0.0)))
            usage["calls"] = calls + cost
            usage["next_call_at"] = slot + self.min_delay
        return slot - stamp

    def exhaust(self) -> None:
        """The API itself said the quota is spent: no worker calls it again this UTC day."""
        with self._locked() as (_, usage):
            usage["exhausted"] = True

    def used_today(self) -> int:
        """Calls counted so far this UTC day (read through the caller's session)."""
        today = db.session.scalar(select(func.clock_timestamp())).astimezone(UTC).date()
        row = db.session.execute(_ledger(self.api, today)).first()
        return int((row.result or {}).get("calls", 0)) if row else 0
