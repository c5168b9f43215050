"""Races between real transactions: a database of the test's own whose data is committed (the
rolled-back test transaction of conftest.py would put every thread on one connection), and
threads that start their work together, each in an app context (a session, a connection
and a transaction) of its own."""

import threading
from collections.abc import Callable

import pytest

from catalog import create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres
from tests.conftest import app_config, migrated_database, worker_database

# Per xdist worker: the race tests of several folders may run on several workers at once.
TEMPLATE, DATABASE = worker_database("catalog_race_template"), worker_database("catalog_race")


@pytest.fixture(scope="session")
def race_template(postgres: LocalPostgres) -> str:
    return migrated_database(postgres, "catalog_race_template")  # named TEMPLATE


@pytest.fixture
def race_app(postgres: LocalPostgres, race_template):
    """An app on a fresh copy of the migrated template (audit rows cannot be deleted)."""
    postgres.drop_database(DATABASE)
    postgres.create_database(DATABASE, template=TEMPLATE)
    app = create_app(app_config(postgres.url(DATABASE)))
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop_database(DATABASE)


def run_together(app, count: int, work: Callable[[int], object]) -> tuple[list, list]:
    """Run work(0) … work(count - 1) in `count` threads released at the same moment, each in
    an app context of its own; (the results in order, the exceptions raised)."""
    start = threading.Barrier(count)
    results: list = [None] * count
    failures: list[BaseException] = []

    def run(number: int) -> None:
        try:
            with app.app_context():
                start.wait()
                results[number] = work(number)
        except BaseException as exc:  # reported by the calling thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures
