"""The list's total over HTTP: exact up to LIST_EXACT_LIMIT, "more than" with a labelled
estimate above it, honest when sorted by a custom field, within the page's four statements."""

import re

import pytest
from sqlalchemy import event

from catalog.models import VideoFieldValue
from tests.factories import ChannelFactory, CustomFieldFactory, VideoFactory


def total(html: str) -> str:
    """The total as read on the page: its text, tags left out."""
    found = re.search(r'data-testid="result-count">(.*?)</span>\s*(?:<form|<a)', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


@pytest.fixture
def viewer(sign_in):
    return sign_in("viewer")


def test_the_total_is_exact_beyond_the_first_page(client, db_session, viewer):
    channel = ChannelFactory()
    VideoFactory.create_batch(60, channel=channel)
    html = client.get(f"/videos?channel={channel.id}").get_data(as_text=True)
    assert 'rel="next"' in html
    assert total(html) == "60 videos"


def test_above_the_limit_it_says_more_than_with_the_estimate_labelled(
    app, client, db_session, viewer, monkeypatch
):
    channel = ChannelFactory()
    VideoFactory.create_batch(30, channel=channel)
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 29)
    said = total(client.get(f"/videos?channel={channel.id}").get_data(as_text=True))
    assert re.fullmatch(r"More than 29 videos \(estimated by the database: about [\d,]+\)", said)
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 30)
    assert total(client.get(f"/videos?channel={channel.id}").get_data(as_text=True)) == (
        "30 videos"
    )


def test_sorted_by_a_custom_field_the_total_says_how_many_are_not_listed(
    app, client, db_session, viewer, monkeypatch
):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    channel = ChannelFactory()
    rated = VideoFactory.create_batch(2, channel=channel)
    VideoFactory.create_batch(3, channel=channel)
    for video in rated:
        db_session.add(VideoFieldValue(video_id=video.id, field_id=rating.id, value_numeric=4))
    db_session.flush()
    html = client.get(f"/videos?channel={channel.id}&sort=cf{rating.id}").get_data(as_text=True)
    assert total(html) == (
        "5 videos: 2 with a value of Stars, listed in its order; 3 without, not listed"
    )
    assert html.count('class="col-video_id font-monospace"') == 2
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 4)
    html = client.get(f"/videos?channel={channel.id}&sort=cf{rating.id}").get_data(as_text=True)
    assert re.fullmatch(
        r"More than 4 videos \(estimated by the database: about [\d,]+\); only those with a "
        r"value of Stars are listed in its order",
        total(html),
    )


def _statements(client, connection, url: str) -> int:
    statements = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200, url
    return len(statements)


def test_the_total_costs_no_statement_of_its_own(app, client, db_session, viewer, monkeypatch):
    channel = ChannelFactory()
    VideoFactory.create_batch(30, channel=channel)
    connection = db_session.connection()
    # Exact (counted within the page's statement) and above the limit (plus the estimate).
    for limit in (10_000, 5):
        monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", limit)
        for url in ("/videos", f"/videos?channel={channel.id}", "/videos?sort=views"):
            assert _statements(client, connection, url) <= 4, (url, limit)


def test_a_channels_count_and_the_list_it_links_to_agree(client, db_session, viewer):
    """The issue's "About 26" vs 55: the channel's page counts its hidden videos too, so its
    link opens the list with them, whose total is then the same number, exactly."""
    channel = ChannelFactory()
    VideoFactory.create_batch(50, channel=channel)
    VideoFactory.create_batch(5, channel=channel, hidden=True)
    html = client.get(f"/channels/{channel.channel_id}").get_data(as_text=True)
    assert 'data-stat="video_count">55<' in html
    link = re.search(r'href="([^"]+)" data-testid="all-videos">All 55 in the video list', html)
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert total(listed) == "55 videos"


def test_sorted_and_filtered_by_the_same_field_every_match_has_a_value(client, db_session, viewer):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    channel = ChannelFactory()
    videos = VideoFactory.create_batch(4, channel=channel)
    for video, stars in zip(videos, (5, 4, 2), strict=False):
        db_session.add(VideoFieldValue(video_id=video.id, field_id=rating.id, value_numeric=stars))
    db_session.flush()
    url = f"/videos?channel={channel.id}&sort=cf{rating.id}&cf{rating.id}=4&cf{rating.id}_op=gte"
    html = client.get(url).get_data(as_text=True)
    assert total(html) == "2 videos"  # none left out
    assert html.count('class="col-video_id font-monospace"') == 2
