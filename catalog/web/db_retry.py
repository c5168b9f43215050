"""Transactions that lose a race with another one are run again, whole.

PostgreSQL aborts one of two transactions that wait for each other (deadlock_detected) and,
at REPEATABLE READ or SERIALIZABLE, one whose snapshot another has overtaken
(serialization_failure). Neither says anything about the change itself: run again a moment
later, the same change succeeds. What must run again is the whole unit of work (its reads,
its rules, its writes and its audit rows), not the statement that failed: after the abort
nothing of the transaction is left, and what it read may have changed since.

Writers of many rows lock them in one order (by id) so that they queue rather than deadlock;
this is the safety net for the races that ordering cannot rule out.

The classification of database errors (`kind`) is shared with the error pages
(catalog.web.error_pages): a conflict that outlived its retries is a conflict, not an outage.
"""

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from catalog.extensions import db

logger = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4  # the first run and three more
PAUSE = 0.05  # seconds; the pause before a retry is random, up to PAUSE * 2**attempt

# SQLSTATEs whose transaction may simply run again.
CONFLICT_STATES = frozenset({"40001", "40P01"})  # serialization_failure, deadlock_detected
# SQLSTATEs of a database that is away or going: admin_shutdown, crash_shutdown,
# cannot_connect_now; and the whole class 08 (connection exceptions).
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03"})


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (SQLAlchemy's or the driver's), if it has one."""
    original = getattr(error, "orig", None) or error
    return getattr(original, "sqlstate", None)


def is_conflict(error: BaseException) -> bool:
    """Aborted because of another transaction: running it again can succeed."""
    return sqlstate(error) in CONFLICT_STATES


def kind(error: DBAPIError) -> str:
    """What kind of failure: "conflict" (lost a race: try again), "unavailable" (the
    database is away, or the connection broke), or "error" (anything else: a real failure,
    to be reported as one)."""
    state = sqlstate(error)
    if state in CONFLICT_STATES:
        return "conflict"
    # No SQLSTATE: the server never answered (refused, unreachable, connection lost).
    if error.connection_invalidated or state is None:
        return "unavailable"
    if state.startswith("08") or state in UNAVAILABLE_STATES:
        return "unavailable"
    return "error"


def run_in_transaction(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """Run `work` and commit db.session; return what `work` returned.

    When PostgreSQL aborts the transaction because of another one (deadlock, serialization
    failure), everything is rolled back and `work` runs again from the start, after a short
    random pause, up to `attempts` runs in all; then the error is raised. Any other database
    error rolls back and is raised at once; other exceptions (a rule's refusal) pass
    through untouched, for the caller to roll back and explain.

    `work` must be the whole unit of work: start it with no changes pending in the session,
    since a retry rolls back the transaction as a whole, and keep what it does outside the
    database (messages, files) until it has returned.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            db.session.commit()
        except DBAPIError as exc:
            db.session.rollback()
            if not is_conflict(exc) or attempt == attempts:
                raise
            pause = random.uniform(0, PAUSE * 2**attempt)  # jitter, not a secret
            logger.info(
                "Transaction lost a race (%s, attempt %s of %s); running it again in %.3f s",
                sqlstate(exc), attempt, attempts, pause,
            )  # fmt: skip
            # Apart, so that the same transactions do not meet again in the same order.
            time.sleep(pause)
        else:
            return result
    raise AssertionError("unreachable")
