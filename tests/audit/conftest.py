"""A database of its own whose data is committed: the chain is checked across transactions,
and a superuser (a second connection) tampers with committed rows."""

import pytest

from catalog import create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres
from tests.conftest import app_config, migrated_database

TEMPLATE, DATABASE = "catalog_ledger_template", "catalog_ledger"


@pytest.fixture(scope="session")
def ledger_template(postgres: LocalPostgres) -> str:
    return migrated_database(postgres, TEMPLATE)


@pytest.fixture
def ledger(postgres: LocalPostgres, ledger_template):
    """An app on a fresh migrated database (audit rows cannot be deleted, so each test gets
    a new copy of the template instead of a clean-up)."""
    postgres.drop_database(DATABASE)
    postgres.create_database(DATABASE, template=TEMPLATE)
    app = create_app(app_config(postgres.url(DATABASE)))
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop_database(DATABASE)


def as_superuser(postgres: LocalPostgres, sql: str) -> str:
    return postgres.psql(sql, database=DATABASE)
