"""The migrations are the schema: they build it from nothing, match the models exactly, and
come down and go up again cleanly."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from catalog import create_app
from catalog.extensions import db
from tests.conftest import app_config


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


def test_check_detects_drift(postgres):
    """`db check` is a real guard: a column the models don't know is reported."""
    postgres.drop_database("catalog_drift")
    postgres.create_database("catalog_drift")
    app = create_app(app_config(postgres.url("catalog_drift")))
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
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
