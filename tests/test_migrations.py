"""The migrations are the schema: they build it from nothing, match the models exactly, and
come down and go up again cleanly."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_migrate import downgrade, upgrade
from sqlalchemy import Connection, create_engine, inspect, text

from catalog import create_app
from catalog.extensions import db
from tests.conftest import app_config


@contextmanager
def owner(app) -> Iterator[Connection]:
    """A transaction of the schema's owner (the role migrations run as)."""
    engine = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _db_check(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["db", "check"])
    return result.exit_code, f"{result.output}{result.exception or ''}"


def test_upgrade_check_downgrade_upgrade(postgres):
    postgres.drop_database("catalog_migrations")
    postgres.create_database("catalog_migrations")
    app = create_app(app_config(postgres.url("catalog_migrations")))
    with app.app_context():
        upgrade()
        code, output = _db_check(app)
        assert code == 0, output
        assert {"videos", "channels", "metadata_syncs", "users", "roles"} <= set(
            inspect(db.engine).get_table_names()
        )

        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()

        upgrade()
        code, output = _db_check(app)
        assert code == 0, output
        roles = db.session.scalars(text("SELECT name FROM roles ORDER BY name")).all()
        assert roles == ["admin", "auditor", "editor", "viewer"]
        db.session.remove()
        db.engine.dispose()
    postgres.drop_database("catalog_migrations")


def test_existing_audit_rows_are_chained_by_the_upgrade(postgres):
    """Migration 0010 chains the rows written before it (in id order) and marks each
    batch's first row with its size; verify then holds, and new rows continue the chain."""
    postgres.drop_database("catalog_backfill")
    postgres.create_database("catalog_backfill")
    app = create_app(app_config(postgres.url("catalog_backfill")))
    with app.app_context():
        upgrade(revision="0009")
        # Before 0013 only the owner may write (the app's role has no grants yet).
        with owner(app) as connection:
            connection.execute(
                text(
                    "INSERT INTO metadata_syncs (entity_type, entity_id, action, source, "
                    "changes, batch_id) SELECT 'video', n, 'update', 'bulk', "
                    """jsonb_build_object('views', jsonb_build_array(n, n + 1)), """
                    "CASE WHEN n > 2 THEN '6f1c9a52-1b7e-4d0e-9a57-0e2f4d1c3b21'::uuid END "
                    "FROM generate_series(1, 5) n"
                )
            )
        upgrade()
        rows = db.session.execute(
            text("SELECT id, chain_seq, batch_size FROM metadata_syncs ORDER BY id")
        ).all()
        assert [(r.chain_seq, r.batch_size) for r in rows] == [
            (1, None), (2, None), (3, 3), (4, None), (5, None),
        ]  # fmt: skip
        db.session.remove()
        result = app.test_cli_runner().invoke(args=["catalog", "audit", "verify"])
        assert result.exit_code == 0, result.output
        assert "OK: 5 audit rows" in result.output
        db.engine.dispose()
    postgres.drop_database("catalog_backfill")


def test_check_detects_drift(postgres):
    """`db check` is a real guard: a column the models don't know is reported."""
    postgres.drop_database("catalog_drift")
    postgres.create_database("catalog_drift")
    app = create_app(app_config(postgres.url("catalog_drift")))
    with app.app_context():
        upgrade()
        with owner(app) as connection:  # only the owner may alter a table
            connection.execute(text("ALTER TABLE videos ADD COLUMN stray integer"))
        code, output = _db_check(app)
        assert code != 0
        assert "stray" in output
        db.engine.dispose()
    postgres.drop_database("catalog_drift")


def test_database_constraints(app_ctx):
    """CHECK constraints hold even for writes that bypass the forms."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from tests.factories import VideoFactory

    with pytest.raises(IntegrityError):
        VideoFactory(views=-1)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        VideoFactory(video_length=-5)
