"""The list's total over HTTP: exact up to LIST_EXACT_LIMIT, "more than" with a labelled
estimate above it, honest when sorted by a custom field; counted in the page when the page
holds the whole list, else loaded by it, so the page keeps to its four statements."""

import re

from catalog.models import VideoFieldValue
from tests.factories import ChannelFactory, CustomFieldFactory, VideoFactory
from tests.helpers import statements_of
from tests.videos.totals import read_total


def test_the_total_is_exact_beyond_the_first_page(db_session, viewer_client):
    channel = ChannelFactory()
    VideoFactory.create_batch(60, channel=channel)
    html = viewer_client.get(f"/videos?channel={channel.id}").get_data(as_text=True)
    assert 'rel="next"' in html
    # More than a page: the page loads its total rather than counting in its own statement.
    assert f'hx-get="/videos/total?channel={channel.id}" hx-trigger="load"' in html
    assert read_total(viewer_client, f"/videos?channel={channel.id}") == "60 videos"
    deeper = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert read_total(viewer_client, deeper) == "60 videos"


def test_a_list_on_one_page_is_counted_by_the_page(db_session, viewer_client):
    channel = ChannelFactory()
    VideoFactory.create_batch(3, channel=channel)
    html = viewer_client.get(f"/videos?channel={channel.id}").get_data(as_text=True)
    assert "/videos/total" not in html
    assert read_total(viewer_client, f"/videos?channel={channel.id}") == "3 videos"


def test_above_the_limit_it_says_more_than_with_the_estimate_labelled(
    app, db_session, viewer_client, monkeypatch
):
    channel = ChannelFactory()
    VideoFactory.create_batch(30, channel=channel)
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 29)
    said = read_total(viewer_client, f"/videos?channel={channel.id}")
    assert re.fullmatch(r"More than 29 videos \(estimated by the database: about [\d,]+\)", said)
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 30)
    assert read_total(viewer_client, f"/videos?channel={channel.id}") == "30 videos"


def test_sorted_by_a_custom_field_the_total_says_how_many_are_not_listed(
    app, db_session, viewer_client, monkeypatch
):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    channel = ChannelFactory()
    rated = VideoFactory.create_batch(2, channel=channel)
    VideoFactory.create_batch(3, channel=channel)
    for video in rated:
        db_session.add(VideoFieldValue(video_id=video.id, field_id=rating.id, value_numeric=4))
    db_session.flush()
    url = f"/videos?channel={channel.id}&sort=cf{rating.id}"
    assert read_total(viewer_client, url) == (
        "5 videos: 2 with a value of Stars, listed in its order; 3 without, not listed"
    )
    html = viewer_client.get(url).get_data(as_text=True)
    assert html.count('<td><a href="/videos/') == 2
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 4)
    assert re.fullmatch(
        r"More than 4 videos \(estimated by the database: about [\d,]+\); only those with a "
        r"value of Stars are listed in its order",
        read_total(viewer_client, url),
    )


def test_sorted_and_filtered_by_the_same_field_every_match_has_a_value(db_session, viewer_client):
    rating = CustomFieldFactory(name="Stars", field_type="rating", config={"max_rating": 5})
    channel = ChannelFactory()
    videos = VideoFactory.create_batch(4, channel=channel)
    for video, stars in zip(videos, (5, 4, 2), strict=False):
        db_session.add(VideoFieldValue(video_id=video.id, field_id=rating.id, value_numeric=stars))
    db_session.flush()
    url = f"/videos?channel={channel.id}&sort=cf{rating.id}&cf{rating.id}=4&cf{rating.id}_op=gte"
    assert read_total(viewer_client, url) == "2 videos"  # none left out
    assert viewer_client.get(url).get_data(as_text=True).count('<td><a href="/videos/') == 2


def test_a_channels_count_and_the_list_it_links_to_agree(db_session, viewer_client):
    """The issue's "About 26" vs 55: the channel's page counts its hidden videos too, so its
    link opens the list with them, whose total is then the same number, exactly."""
    channel = ChannelFactory()
    VideoFactory.create_batch(50, channel=channel)
    VideoFactory.create_batch(5, channel=channel, hidden=True)
    html = viewer_client.get(f"/channels/{channel.channel_id}").get_data(as_text=True)
    assert 'data-stat="video_count">55<' in html
    link = re.search(r'href="([^"]+)" data-testid="all-videos">All 55 in the video list', html)
    assert read_total(viewer_client, link.group(1).replace("&amp;", "&")) == "55 videos"


def test_page_and_total_keep_to_four_statements(app, db_session, viewer_client, monkeypatch):
    channel = ChannelFactory()
    VideoFactory.create_batch(30, channel=channel)
    connection = db_session.connection()
    # Exact, and above the limit (the count, then the estimate).
    for limit in (10_000, 5):
        monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", limit)
        for query in ("", f"?channel={channel.id}", "?sort=views"):
            for url in (f"/videos{query}", f"/videos/total{query}"):
                assert len(statements_of(viewer_client, connection, url)) <= 4, (url, limit)
