"""CSV export of the current list: every matching row, custom columns, formula-safe."""

import csv
import io

from catalog.models import CustomField, FieldSchema, SchemaField, VideoFieldValue
from catalog.web.csv import cell
from tests.factories import ChannelFactory, VideoFactory


def test_cells_that_spreadsheets_would_run_are_neutralised():
    for dangerous in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"):
        assert cell(dangerous).startswith("'")
    assert cell("plain") == "plain"
    assert cell(["a", "b"]) == "a; b"
    assert cell(True) == "Yes"
    assert cell(None) == ""


def test_export_streams_the_filtered_list_with_custom_fields(client, db_session, sign_in_as):
    sign_in_as("auditor")
    channel = ChannelFactory()
    rating = CustomField(name="Rating", field_type="rating", config={"max_rating": 5})
    db_session.add(rating)
    db_session.flush()
    schema = FieldSchema(name="Review")
    db_session.add(schema)
    db_session.flush()
    db_session.add(SchemaField(schema_id=schema.id, field_id=rating.id, show_on_card=False))
    videos = [VideoFactory(channel=channel, title=f"Song {n}") for n in range(3)]
    VideoFactory(title='=HYPERLINK("http://evil")', channel=channel)
    VideoFactory(title="Other channel")
    db_session.add(VideoFieldValue(video_id=videos[0].id, field_id=rating.id, value_numeric=4))
    db_session.flush()

    response = client.get(f"/videos/export.csv?channel={channel.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 4
    assert {row["title"] for row in rows} >= {"Song 0", "Song 1", "Song 2"}
    assert '\'=HYPERLINK("http://evil")' in {row["title"] for row in rows}
    by_title = {row["title"]: row for row in rows}
    assert by_title["Song 0"]["Rating"] == "4"
    assert by_title["Song 1"]["Rating"] == ""
    assert by_title["Song 0"]["channel"] == channel.name


def test_export_walks_every_batch_in_list_order(client, db_session, sign_in_as, monkeypatch):
    from catalog.videos import export

    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    sign_in_as("viewer")
    channel = ChannelFactory()
    for views in (5, 50, 500, 5000, 50000):
        VideoFactory(channel=channel, views=views)
    response = client.get(f"/videos/export.csv?channel={channel.id}&sort=views&dir=desc")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["views"] for row in rows] == ["50000", "5000", "500", "50", "5"]
