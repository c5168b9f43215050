"""The embedded database of `make run` has both roles, also when it was made before the
split: `ensure_running` hands a database the app's role owned to the owner role, and the
next `flask db upgrade` (migration 0013) grants the app's role its rows back."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from catalog import audit, create_app
from catalog.changes import integrity
from catalog.extensions import db
from catalog.pgserver import APP_ROLE, OWNER_ROLE, LocalPostgres
from tests.conftest import app_config

DATABASE = "catalog_handover"
OWNED_BY_THE_APP = (
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = '{APP_ROLE}'"
)


def note(number: int) -> dict:
    return audit.entity_row(
        "channel", number, f"UC{number}", action="update", changes={"name": ["a", "b"]},
        source="cli", actor=None,
    )  # fmt: skip


@pytest.fixture
def old_database(postgres: LocalPostgres):
    postgres.drop_database(DATABASE)
    yield postgres.url(DATABASE)
    postgres.drop_database(DATABASE)


def test_a_database_from_before_the_split_is_handed_to_the_owner(postgres, old_database):
    # As `make run` made it before: owned by the app's role, migrated by it, with history.
    postgres.create_database(DATABASE, owner=APP_ROLE)
    old = create_app({**app_config(old_database), "DATABASE_OWNER_URL": ""})
    with old.app_context():
        upgrade(revision="0010")
        audit.record(note(1))
        db.session.commit()
        assert db.session.scalar(text(OWNED_BY_THE_APP)) > 0
        db.session.remove()
        db.engine.dispose()

    assert postgres.ensure_running(DATABASE) == old_database
    owner = f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{DATABASE}'"
    assert postgres.run_sql(owner) == OWNER_ROLE

    app = create_app(app_config(old_database))
    with app.app_context():
        upgrade()
        assert db.session.scalar(text(OWNED_BY_THE_APP)) == 0
        audit.record(note(2))
        db.session.commit()
        verdict = integrity.verify()
        assert (verdict.ok, verdict.last_seq) == (True, 2)
        with pytest.raises(DBAPIError, match="must be owner"):
            db.session.execute(text("ALTER TABLE metadata_syncs DISABLE TRIGGER USER"))
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
