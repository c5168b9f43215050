"""Pooled connections checked before use only when they have been idle.

SQLAlchemy's pool_pre_ping sends a round trip (SELECT 1) at every checkout: each request,
each claim of a pipeline worker, each job step. A connection given back a moment ago is
alive; the check pays only for one idle long enough for the server or a pooler to have
dropped it meanwhile (a restart, an idle timeout). One found dead is replaced before use
(DisconnectionError: the pool connects again), as pool_pre_ping does; a server that is down
then refuses the new connection, and the request gets the error page it would get anyway.
A connection that dies while in use is the pool's own business: SQLAlchemy invalidates the
whole pool on such an error.
"""

import time

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

# Seconds a connection may have rested and still be used unchecked.
IDLE_BEFORE_CHECK = 1.0
_RETURNED = "catalog.returned_at"


def check_idle_connections(engine: Engine) -> None:
    event.listen(engine.pool, "checkin", _returned)
    event.listen(engine.pool, "checkout", _check_if_idle)


def _returned(dbapi_connection, record) -> None:
    if record is not None:
        record.info[_RETURNED] = time.monotonic()


def _check_if_idle(dbapi_connection, record, proxy) -> None:
    returned = record.info.get(_RETURNED)
    if returned is None or time.monotonic() - returned < IDLE_BEFORE_CHECK:
        return  # new, or back in the pool a moment ago
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # no transaction left open by the check
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as error:  # any failure: the connection is not to be used
        raise exc.DisconnectionError(f"an idle connection is gone: {error}") from error
