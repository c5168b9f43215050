"""A database of its own whose data is committed: the chain is checked across transactions,
and a superuser (a second connection) tampers with committed rows."""

import pytest
from sqlalchemy import create_engine

from catalog import create_app
from catalog.extensions import db
from catalog.pgserver import LocalPostgres
from tests.conftest import app_config, migrated_database, worker_database

# Per xdist worker: this folder's tests may run on several workers at once.
TEMPLATE, DATABASE = worker_database("catalog_ledger_template"), worker_database("catalog_ledger")


@pytest.fixture(scope="session")
def ledger_template(postgres: LocalPostgres) -> str:
    return migrated_database(postgres, "catalog_ledger_template")  # named TEMPLATE


@pytest.fixture
def ledger(postgres: LocalPostgres, ledger_template, tmp_path):
    """An app on a fresh migrated database (audit rows cannot be deleted, so each test gets
    a new copy of the template instead of a clean-up), with checkpoints of its own."""
    postgres.drop_database(DATABASE)
    postgres.create_database(DATABASE, template=TEMPLATE)
    app = create_app(
        {
            **app_config(postgres.url(DATABASE)),
            "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
            "AUDIT_CHECKPOINT_KEY": "test-checkpoint-key",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    postgres.drop_database(DATABASE)


def as_superuser(postgres: LocalPostgres, sql: str) -> str:
    return postgres.run_sql(sql, database=DATABASE)


def as_owner(app, sql: str) -> None:
    """Run `sql` in one transaction as the schema's owner (the migrations' role)."""
    engine = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
    finally:
        engine.dispose()
