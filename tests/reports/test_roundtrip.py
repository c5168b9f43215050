"""The list's CSV export imports back as it is: exported and imported, nothing changes;
neutralised formulas come back as the values they were; every exported column is read."""

import csv
import io
import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from catalog import demo
from catalog.csvexport import FORMULA_STARTS, NEUTRALISED_SQL, cell
from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.reports import importer
from tests.factories import CategoryFactory, ChannelFactory, VideoFactory

LIMIT = 10**9


def apply(path):
    return importer.apply(lambda: path.open("rb"), actor=None, report_id=None, max_bytes=LIMIT)


def preview(path):
    return importer.preview(lambda: path.open("rb"), max_bytes=LIMIT)


def export(client, tmp_path, query: str = "") -> tuple:
    """The export as a file, and its header."""
    body = client.get(f"/videos/export.csv{query}").get_data()
    path = tmp_path / "export.csv"
    path.write_bytes(body)
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return path, header


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MetadataSync))


def test_the_demo_catalog_exported_imports_back_with_no_change(
    app, client, db_session, sign_in, tmp_path
):
    sign_in("viewer")
    with app.app_context():
        demo.load_demo_data()
        db.session.commit()  # into the test's transaction (a savepoint), for the request
    path, _ = export(client, tmp_path, "?hidden=all")  # the whole catalog, hidden videos too
    with app.app_context():
        before = audit_count()
        outcome = apply(path)
        assert audit_count() == before

    assert outcome.format == "catalog"
    assert outcome.rows == outcome.videos == demo.VIDEO_COUNT
    assert (outcome.created, outcome.updated, outcome.invalid) == (0, 0, 0)
    assert outcome.unchanged == demo.VIDEO_COUNT
    assert outcome.errors == outcome.warnings == outcome.notes == []
    # Every column the export writes is read; only its own bookkeeping is not imported.
    assert outcome.ignored_columns == []


def test_neutralised_cells_come_back_as_the_values_they_were(
    app, client, db_session, sign_in, tmp_path
):
    sign_in("viewer")
    channel = ChannelFactory()
    odd = {
        "-jkTbgMqjQx": "=1+2",
        "--kTbgMqjQx": "'=quoted already",
        "_aTbgMqjQxx": "+44 20 7946 0000",
        "_bTbgMqjQxx": "@SUM(A1)",
        "plainIdxxx1": "'Til Tuesday",
    }
    for video_id, title in odd.items():
        VideoFactory(video_id=video_id, title=title, channel=channel, label="-minus label")
    path, _ = export(client, tmp_path, f"?channel={channel.id}")
    text = path.read_text("utf-8-sig")
    # A spreadsheet runs none of them.
    for neutralised in ("'-jkTbgMqjQx", "'=1+2", "''=quoted already", "'@SUM(A1)", "'+44 20"):
        assert neutralised in text

    with app.app_context():
        outcome = preview(path)
        assert (outcome.created, outcome.updated, outcome.invalid) == (0, 0, 0), outcome.errors

        # Imported into a catalog without them, they are created as they were.
        ids = list(odd)
        db.session.execute(Video.__table__.delete().where(Video.video_id.in_(ids)))
        apply(path)
        created = select(Video.video_id, Video.title, Video.label).where(Video.video_id.in_(ids))
        rows = db.session.execute(created).all()
    assert {row.video_id: row.title for row in rows} == odd
    assert {row.label for row in rows} == {"-minus label"}


def test_every_exported_column_is_imported(app, client, db_session, sign_in, tmp_path):
    sign_in("viewer")
    channel = ChannelFactory(name="Label Music")
    category = CategoryFactory(name="Lyric Videos", slug="lyric-videos")
    VideoFactory(video_id="vidROUNDxx1", channel=channel, title="Before")
    path, _ = export(client, tmp_path, f"?channel={channel.id}")
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    changed = {
        "time_published": "2024-10-15T18:29:11Z", "video_length": "215",
        "artist": "Ann; Bob", "genre": "Pop", "label": "Label X", "upc": "036000291452",
        "notes": "a note", "hidden": "Yes", "published": "Yes", "is_hero": "Yes",
        "is_short": "Yes", "is_live_stream": "Yes", "channel": "Label Music (VEVO)",
        "category": category.name, "title": "After",
    }  # fmt: skip
    rows[0].update(changed)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    with app.app_context():
        outcome = apply(path)
        assert (outcome.updated, outcome.invalid) == (1, 0), outcome.errors
        video = db.session.scalars(select(Video).where(Video.video_id == "vidROUNDxx1")).one()
        assert video.time_published == datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC)
        assert (video.video_length, video.artist, video.genre) == (215, ["Ann", "Bob"], ["Pop"])
        assert (video.label, video.upc, video.notes) == ("Label X", "036000291452", "a note")
        flags = ("hidden", "published", "is_hero", "is_short", "is_live_stream")
        assert all(getattr(video, flag) for flag in flags)
        assert video.channel_display_name == "Label Music (VEVO)"
        assert (video.category_id, video.title) == (category.id, "After")


def test_export_cells_round_trip_through_the_neutralising_quote():
    """Each value is written so that a spreadsheet runs nothing, and read back as it was."""
    for value in ("=1+1", "-2", "'=x", "''@y", "'Til", "plain", "+", "'"):
        written = cell(value)
        # What the import does in SQL with the same expression.
        read = written[1:] if re.match(NEUTRALISED_SQL, written) else written
        assert read == value, (value, written)
        assert not written.startswith(FORMULA_STARTS)
