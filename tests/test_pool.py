"""Pooled connections are checked before use only after a rest (catalog/pool.py): one used a
moment ago goes out unchecked (no round trip), one that rested is checked and, found dead,
replaced before anyone uses it."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from catalog import pool
from catalog.extensions import db
from tests.helpers import wait_for


def backend(app) -> int:
    """The server process of the connection the app's pool gives out next (given back after)."""
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    return pid


def end(postgres, pid: int) -> None:
    """The server ends that connection (as a restart or an idle timeout would)."""
    postgres.run_sql(f"SELECT pg_terminate_backend({pid})")
    wait_for(
        lambda: postgres.run_sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == "0",
        message=f"backend {pid} to exit",
    )


def test_a_connection_that_died_while_resting_is_replaced_before_use(
    race_app, postgres, monkeypatch
):
    monkeypatch.setattr(pool, "IDLE_BEFORE_CHECK", 0.0)  # every rest is long enough
    first = backend(race_app)
    end(postgres, first)
    assert backend(race_app) != first  # checked, found gone, replaced: no error


def test_a_connection_back_a_moment_ago_goes_out_unchecked(race_app, postgres, monkeypatch):
    monkeypatch.setattr(pool, "IDLE_BEFORE_CHECK", 3600.0)  # no rest is long enough
    first = backend(race_app)
    end(postgres, first)
    with pytest.raises(OperationalError):  # not checked: its user meets the loss
        backend(race_app)
    assert backend(race_app) != first  # and the pool, told so, connects anew
