"""The channel list, and hidden channels in both lists."""

import re

import pytest
from sqlalchemy import select

from catalog.channels import queries
from catalog.extensions import db
from catalog.models import Channel, ChannelStats
from catalog.models.channel import CHANNEL_SORT_KEYS
from catalog.videos import queries as video_queries
from tests.factories import ChannelFactory, VideoFactory
from tests.helpers import statements_of


def state(**kwargs) -> queries.ListState:
    return queries.ListState(**kwargs)


def names(list_state: queries.ListState) -> list[str]:
    return [row.Channel.name for row in queries.list_page(list_state).rows]


@pytest.fixture
def some_channels(app_ctx):
    tag = "zq"  # keeps the search to this test's channels
    return {
        "blue": ChannelFactory(name=f"{tag} Blue Note", country="US", is_monetized=True),
        "red": ChannelFactory(name=f"{tag} Red Hot", country="GB", is_monetized=False),
        "gone": ChannelFactory(name=f"{tag} Hidden Gem", country="US", hidden=True),
    }


def test_search_by_name_or_channel_id(some_channels):
    assert names(state(q="BLUE note")) == ["zq Blue Note"]
    red = some_channels["red"]
    assert names(state(q=red.channel_id[-8:].lower())) == ["zq Red Hot"]
    assert names(state(q="100%")) == []  # wildcards are literal


def test_filters_and_hidden_channels(some_channels):
    assert names(state(q="zq")) == ["zq Blue Note", "zq Red Hot"]
    assert names(state(q="zq", country="US")) == ["zq Blue Note"]
    assert names(state(q="zq", monetized="no")) == ["zq Red Hot"]
    assert names(state(q="zq", hidden="yes")) == ["zq Hidden Gem"]
    assert names(state(q="zq", hidden="all")) == ["zq Blue Note", "zq Hidden Gem", "zq Red Hot"]


def _walk(start: queries.ListState) -> list[int]:
    seen, current = [], start
    while True:
        page = queries.list_page(current)
        seen += [row.Channel.id for row in page.rows]
        if not page.next_cursor:
            return seen
        current = queries.ListState(**{**current.__dict__, "after": page.next_cursor})


@pytest.mark.parametrize("sort", queries.SORTS)
@pytest.mark.parametrize("desc", [False, True])
def test_keyset_pages_cover_every_channel_once_in_order(app_ctx, sort, desc):
    made = [
        ChannelFactory(name=name, subscriber_count=subs, view_count=views, country="NO")
        for name, subs, views in [
            ("b", 5, None), ("A", None, 7), ("c", 5, 7), ("a", 1, 2), ("d", None, None),
        ]
    ]  # fmt: skip
    for count, channel in zip([2, 0, 2, 1, 0], made, strict=True):
        VideoFactory.create_batch(count, channel=channel)
    key = CHANNEL_SORT_KEYS[sort]
    tie = ChannelStats.channel_id if sort == "videos" else Channel.id
    expected = db.session.scalars(
        select(Channel.id).join(ChannelStats).where(Channel.country == "NO")
        .order_by(key.desc() if desc else key, tie.desc() if desc else tie)
    ).all()  # fmt: skip
    assert _walk(state(country="NO", sort=sort, desc=desc, size=2)) == expected
    # and back again from the last page
    last = queries.list_page(state(country="NO", sort=sort, desc=desc, size=2))
    while last.next_cursor:
        last = queries.list_page(
            state(country="NO", sort=sort, desc=desc, size=2, after=last.next_cursor)
        )
    back = queries.list_page(
        state(country="NO", sort=sort, desc=desc, size=2, before=last.prev_cursor)
    )
    assert [r.Channel.id for r in back.rows] == expected[2:4]
    assert queries.list_page(state(country="NO", size=2)).total == 5


def test_parse_state_round_trips_through_the_url(app_ctx):
    args = {"q": "note", "country": "GB", "monetized": "yes", "hidden": "all",
            "sort": "videos", "dir": "asc", "size": "100"}  # fmt: skip
    parsed = queries.parse_state(args)
    assert {k: str(v) for k, v in parsed.view_args().items()} == args
    junk = queries.parse_state({"country": "ZZ", "sort": "nope", "size": "7", "hidden": "x"})
    assert (junk.country, junk.sort, junk.size, junk.hidden) == ("", "name", 50, "no")


def video_ids(**kwargs) -> set[int]:
    return {row.Video.id for row in video_queries.list_page(video_queries.ListState(**kwargs)).rows}


def test_videos_of_a_hidden_channel_leave_the_default_video_list(app_ctx):
    shown, hidden = ChannelFactory(), ChannelFactory(hidden=True)
    visible = VideoFactory(channel=shown, title="zqv one")
    in_hidden = VideoFactory(channel=hidden, title="zqv two")
    hidden_itself = VideoFactory(channel=shown, title="zqv three", hidden=True)
    no_channel = VideoFactory(channel=None, title="zqv four")
    assert video_ids(q="zqv") == {visible.id, no_channel.id}
    assert video_ids(q="zqv", hidden="yes") == {in_hidden.id, hidden_itself.id}
    assert video_ids(q="zqv", hidden="all") == {
        visible.id, in_hidden.id, hidden_itself.id, no_channel.id,
    }  # fmt: skip
    assert video_ids(channel=hidden.id) == set()
    assert video_ids(channel=hidden.id, hidden="all") == {in_hidden.id}
    # Bulk edit of "all matching" follows the same rule.
    matching = db.session.scalars(
        video_queries.matching_ids(video_queries.ListState(q="zqv"))
    ).all()
    assert set(matching) == {visible.id, no_channel.id}


def test_lists_stay_within_four_statements(client, db_session, sign_in_as):
    sign_in_as("editor")
    hidden = ChannelFactory(hidden=True)
    VideoFactory.create_batch(30, channel=ChannelFactory())
    VideoFactory.create_batch(3, channel=hidden)
    for url in ("/videos", "/videos?hidden=yes", "/channels", "/channels?sort=videos"):
        assert 2 <= len(statements_of(client, db_session.connection(), url)) <= 4, url


def test_channel_list_over_http(client, db_session, sign_in_as):
    sign_in_as("viewer")
    channel = ChannelFactory(name="Searchable <b>Channel</b>")
    VideoFactory.create_batch(2, channel=channel)
    html = client.get("/channels?q=searchable").get_data(as_text=True)
    assert "Searchable &lt;b&gt;Channel&lt;/b&gt;" in html
    assert re.search(r"\b1 channel\b", html)
    assert f'href="/videos?channel={channel.id}&amp;hidden=all"' in html  # as counted
    assert "New channel" not in html  # a viewer sees no edit controls
