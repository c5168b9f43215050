"""Migration 0017 on a catalog that already has several heroes in a category: the most
viewed one stays, the others stop being heroes, each change audited; then the index holds."""

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from catalog import create_app
from catalog.extensions import db
from tests.conftest import app_config
from tests.test_migrations import owner

DATABASE = "catalog_heroes"


def test_extra_heroes_are_demoted_and_audited_by_the_upgrade(postgres):
    postgres.drop_database(DATABASE)
    postgres.create_database(DATABASE)
    app = create_app(app_config(postgres.url(DATABASE)))
    with app.app_context():
        upgrade(revision="0014")
        with owner(app) as connection:
            connection.execute(
                text(
                    "INSERT INTO video_categories (id, name, slug) VALUES "
                    "(1, 'Pop', 'pop'), (2, 'Rock', 'rock')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO videos (video_id, title, category_id, is_hero, views) VALUES "
                    "('popLow00001', 'Low', 1, true, 10), ('popTop00001', 'Top', 1, true, 99), "
                    "('popTie00001', 'Tie', 1, true, 10), ('rockOnly001', 'Rock', 2, true, 1), "
                    "('noCat000001', 'None A', NULL, true, 5), "
                    "('noCat000002', 'None B', NULL, true, 5)"
                )
            )
        upgrade()
        heroes = db.session.execute(
            text("SELECT video_id, version FROM videos WHERE is_hero ORDER BY video_id")
        ).all()
        assert [h.video_id for h in heroes] == [
            "noCat000001", "noCat000002", "popTop00001", "rockOnly001",
        ]  # fmt: skip
        rows = db.session.execute(
            text(
                "SELECT entity_key, action, source, changes FROM metadata_syncs "
                "WHERE entity_type = 'video' ORDER BY id"
            )
        ).all()
        assert [tuple(r) for r in rows] == [
            ("popLow00001", "update", "cli", {"is_hero": [True, False]}),
            ("popTie00001", "update", "cli", {"is_hero": [True, False]}),
        ]
        with pytest.raises(IntegrityError, match="uq_videos_hero_per_category"):
            db.session.execute(text("UPDATE videos SET is_hero = true WHERE category_id = 1"))
        db.session.rollback()
        db.session.remove()
        result = app.test_cli_runner().invoke(args=["catalog", "audit", "verify"])
        assert result.exit_code == 0, result.output  # the rows joined the hash chain
        db.engine.dispose()
    postgres.drop_database(DATABASE)
