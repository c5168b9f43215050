"""Histories read as people speak: a category and a channel by name, not by row id, and
times in the reader's zone (UTC on hover), not as raw ISO strings."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import select

from catalog.changes import references
from catalog.models import Channel, MetadataSync, Video, VideoCategory
from tests.helpers import statements_of
from tests.html_forms import submitted_fields


def _cells(html: str) -> str:
    """The history table's text with tags and runs of white space dropped."""
    history = html[html.index('class="table table-sm align-top history"') :]
    return " ".join(re.sub(r"<[^>]+>", " ", history).split())


def test_a_videos_history_names_its_category_and_channel_and_shows_local_times(
    client, db_session, sign_in_as
):
    sign_in_as("editor", time_zone="America/Los_Angeles")
    pop = VideoCategory(name="Pop", slug="pop-names")
    shorts = VideoCategory(name="Shorts", slug="shorts-names")
    north = Channel(channel_id="UCnorth000000000000000000", name="Northbound Records")
    south = Channel(channel_id="UCsouth000000000000000000", name="Southbound Sounds")
    db_session.add_all([pop, shorts, north, south])
    db_session.flush()
    video = Video(
        video_id="namesTest01", title="Names", artist=[], genre=[], category_id=pop.id,
        channel_id=north.id, channel_display_name=north.name,
        time_published=datetime(2024, 10, 15, 18, 29, 11, tzinfo=UTC),
    )  # fmt: skip
    db_session.add(video)
    db_session.flush()

    page = client.get("/videos/namesTest01/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form"))
    fields |= {"category_id": str(shorts.id), "channel_id": str(south.id),
               "time_published": "2024-12-01T08:15:30"}  # fmt: skip
    assert client.post("/videos/namesTest01/edit", data=fields).status_code == 302
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.entity_id == video.id))
    assert row.changes["category_id"] == [pop.id, shorts.id]  # the log itself keeps ids

    # The video's own page, and the as-of page's "changes since then".
    for url in ("/videos/namesTest01", "/videos/namesTest01/as-of?at=2024-01-01T00:00:00"):
        html = client.get(url).get_data(as_text=True)
        text = _cells(html)
        assert "category Pop Shorts" in text, text
        assert "channel Northbound Records Southbound Sounds" in text, text
        assert "category id" not in text
        assert f" {pop.id} " not in text
        # Times in the reader's zone, to the second, the UTC instant on hover.
        assert "time published 2024-10-15 11:29:11 PDT 2024-12-01 08:15:30 PST" in text, text
        assert "2024-10-15T18:29:11+00:00</" not in html
        assert 'title="2024-12-01 16:15:30 UTC"' in html


def test_a_deleted_category_is_named_by_its_id(client, db_session, sign_in_as):
    sign_in_as("editor")
    gone = VideoCategory(name="Gone soon", slug="gone-soon")
    db_session.add(gone)
    db_session.flush()
    video = Video(video_id="namesTest02", title="Names", artist=[], genre=[],
                  category_id=gone.id)  # fmt: skip
    db_session.add(video)
    db_session.flush()
    page = client.get("/videos/namesTest02/edit").get_data(as_text=True)
    fields = dict(submitted_fields(page, "video-form")) | {"category_id": ""}
    assert client.post("/videos/namesTest02/edit", data=fields).status_code == 302
    gone_id = gone.id
    db_session.delete(gone)
    db_session.flush()
    text = _cells(client.get("/videos/namesTest02").get_data(as_text=True))
    assert f"category #{gone_id} (deleted) empty" in text, text


def test_the_log_reads_the_names_its_page_mentions_in_one_statement(client, db_session, sign_in_as):
    """/audit names every channel and category its rows mention with one statement, however
    many there are (one per id before), a deleted one still by its id."""
    sign_in_as("auditor")
    channels = [Channel(channel_id=f"UClogname{n:016d}", name=f"Log channel {n}") for n in range(3)]
    categories = [
        VideoCategory(name=f"Log category {n}", slug=f"log-category-{n}") for n in range(2)
    ]
    db_session.add_all([*channels, *categories])
    db_session.flush()
    video = Video(video_id="namesTest03", title="Names", artist=[], genre=[])
    db_session.add(video)
    db_session.flush()
    changes = [{"channel_id": [None, channels[0].id]},
               {"channel_id": [channels[0].id, channels[1].id]},
               {"channel_id": [channels[1].id, channels[2].id],
                "category_id": [categories[0].id, categories[1].id]}]  # fmt: skip
    for change in changes:
        db_session.add(MetadataSync(entity_type="video", entity_id=video.id,
                                    entity_key=video.video_id, action="update", source="ui",
                                    changes=change))  # fmt: skip
    db_session.flush()
    gone_id = categories[0].id
    db_session.delete(categories[0])
    db_session.flush()

    sent = statements_of(client, db_session.connection(), "/audit")
    reads = [s for s in sent if "FROM channels" in s or "FROM video_categories" in s]
    assert len(reads) == 1, reads
    text = _cells(client.get("/audit").get_data(as_text=True))
    for n in range(3):
        assert f"Log channel {n}" in text
    assert f"category #{gone_id} (deleted) Log category 1" in text, text


def test_rows_that_can_be_read_once_are_left_to_the_table(app):
    rows = iter([SimpleNamespace(entity_type="video", changes={"channel_id": [None, 1]})])
    with app.test_request_context():
        references.look_up(rows)
    assert next(rows).changes == {"channel_id": [None, 1]}  # not consumed
