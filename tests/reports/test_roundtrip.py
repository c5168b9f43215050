"""The list's CSV export imports back as it is: exported and imported, nothing changes;
neutralised formulas come back as the values they were; every exported column is read."""

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from catalog.demo import data as demo
from catalog.extensions import db
from catalog.models import CustomField, MetadataSync, Video, VideoFieldValue
from catalog.reports import importer
from catalog.web.csv import FORMULA_STARTS, NEUTRALISED_SQL, cell
from tests.factories import CategoryFactory, ChannelFactory, CustomFieldFactory, VideoFactory

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
    demo_app, demo_client, demo_session, demo_sign_in_as, tmp_path
):
    app, client = demo_app, demo_client  # the demo catalog (tests/conftest.py)
    demo_sign_in_as("viewer")
    with app.app_context():
        _custom_values(db.session.scalars(select(Video.id).order_by(Video.id)).all())
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


def _custom_fields() -> dict[str, CustomField]:
    fields = {
        "text": CustomFieldFactory(name="Mood's note", field_type="text"),
        "select": CustomFieldFactory(
            name="Presentation", field_type="select", config={"options": ["bad", "100% good"]}
        ),
        "rating": CustomFieldFactory(name="Rating", field_type="rating", config={"max_rating": 5}),
        "boolean": CustomFieldFactory(name="Cleared", field_type="boolean"),
    }
    db.session.flush()
    return fields


def _custom_values(video_ids: list[int]) -> dict[str, CustomField]:
    """A field of each type, with values on some videos (formula-like text too)."""
    fields = _custom_fields()
    values = {"text": "=calm", "select": "100% good", "rating": 4, "boolean": False}
    for n, video_id in enumerate(video_ids[:40]):
        kind = ("text", "select", "rating", "boolean")[n % 4]
        field = fields[kind]
        column = {field.value_column: Decimal(values[kind]) if kind == "rating" else values[kind]}
        db.session.add(VideoFieldValue(video_id=video_id, field_id=field.id, **column))
    db.session.flush()
    return fields


def test_custom_values_are_imported_and_audited_as_the_edit_form_does(
    app, client, db_session, sign_in_as, tmp_path
):
    sign_in_as("viewer")
    with app.app_context():
        channel = ChannelFactory()
        ids = [VideoFactory(channel=channel, video_id=f"vidCUSTOMx{n}").id for n in range(3)]
        fields = _custom_values(ids)
        channel_id = channel.id
        db.session.commit()
    path, header = export(client, tmp_path, f"?channel={channel_id}")
    assert {"Mood's note", "Presentation", "Rating", "Cleared"} <= set(header)
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    by_id = {row["video_id"]: row for row in rows}
    by_id["vidCUSTOMx0"].update({"Mood's note": "", "Rating": "5", "Cleared": "Yes"})
    by_id["vidCUSTOMx1"]["Presentation"] = "bad"
    by_id["vidCUSTOMx2"]["Rating"] = "9"  # out of range: the row is refused
    refused = rows.index(by_id["vidCUSTOMx2"]) + 2  # the header is row 1
    rows.append({**by_id["vidCUSTOMx1"], "video_id": "vidCUSTOMx9", "Rating": "3"})
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)

    with app.app_context():
        outcome = apply(path)
        assert (outcome.created, outcome.updated, outcome.invalid) == (1, 2, 1)
        assert outcome.errors == [
            {"row": refused, "column": "Rating", "reason": "expected a rating from 1 to 5: 9"}
        ]
        assert outcome.ignored_columns == []
        values = {
            (video_id, field_id): value
            for video_id, field_id, value in db.session.execute(
                select(VideoFieldValue.video_id, VideoFieldValue.field_id, VideoFieldValue)
            ).all()
            for value in [value.value]
        }
        first, second = ids[0], ids[1]
        assert (first, fields["text"].id) not in values  # emptied: removed
        assert values[(first, fields["rating"].id)] == 5
        assert values[(first, fields["boolean"].id)] is True
        assert values[(second, fields["select"].id)] == "bad"
        new = db.session.scalars(select(Video.id).where(Video.video_id == "vidCUSTOMx9")).one()
        assert values[(new, fields["rating"].id)] == 3
        assert values[(new, fields["select"].id)] == "bad"
        audit = {
            row.entity_key: row.changes
            for row in db.session.scalars(
                select(MetadataSync).where(MetadataSync.source == "report")
            )
        }
        assert audit["vidCUSTOMx0"] == {
            "field:Mood's note": ["=calm", None], "field:Rating": [None, 5],
            "field:Cleared": [None, True],
        }  # fmt: skip
        assert audit["vidCUSTOMx1"] == {"field:Presentation": ["100% good", "bad"]}
        versions = db.session.scalars(select(Video.version).where(Video.id.in_([first, second])))
        assert set(versions) == {2}  # a change of custom values is a change of the video


def test_neutralised_cells_come_back_as_the_values_they_were(
    app, client, db_session, sign_in_as, tmp_path
):
    sign_in_as("viewer")
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


def test_every_exported_column_is_imported(app, client, db_session, sign_in_as, tmp_path):
    sign_in_as("viewer")
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
