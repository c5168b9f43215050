"""The video list: search, filters, keyset pages in every order, and the latest change."""

import re

import pytest
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import Video
from catalog.models.video import SORT_KEYS
from catalog.videos import queries, service
from catalog.web.pagination import encode_cursor
from tests.factories import CategoryFactory, ChannelFactory, UserFactory, VideoFactory


def ids(state: queries.ListState) -> list[int]:
    return [row.Video.id for row in queries.list_page(state).rows]


def state(**kwargs) -> queries.ListState:
    return queries.ListState(**kwargs)


@pytest.fixture
def catalog_rows(app_ctx):
    channel = ChannelFactory(name="Blue Note")
    return {
        "title": VideoFactory(title="Midnight LOVE Song", channel=channel),
        "video_id": VideoFactory(video_id="xYz_12-abcd"),
        "asset": VideoFactory(asset_id="A998877"),
        "custom": VideoFactory(custom_id="CUST-42-X"),
        "isrc": VideoFactory(isrc="GBAYE0601498"),
        "upc": VideoFactory(upc="036000291452"),
        "artist": VideoFactory(artist=["Nina Simone", "Ella"]),
        "percent": VideoFactory(title="100% pure_gold"),
    }


@pytest.mark.parametrize(
    ("query", "key"),
    [("love", "title"), ("XYZ_12", "video_id"), ("a9988", "asset"), ("cust-42", "custom"),
     ("aye06", "isrc"), ("600029", "upc"), ("simone", "artist")],
)  # fmt: skip
def test_search_matches_every_identifier_case_insensitively(catalog_rows, query, key):
    assert ids(state(q=query)) == [catalog_rows[key].id]


def test_search_treats_wildcards_literally(catalog_rows):
    assert ids(state(q="0% p")) == [catalog_rows["percent"].id]
    assert ids(state(q="pur__gold")) == []  # "_" is not "any character"


def test_filters(app_ctx):
    channel, category = ChannelFactory(), CategoryFactory()
    match = VideoFactory(
        channel=channel, category_id=category.id, claimed_status="dispute",
        claimed_by_another_owner="Yes", privacy_status="unlisted",
        effective_policy="Monetize in all countries", asset_id="A1", is_short=True,
        is_live_stream=True, administered=True, prerolls_enabled="No",
    )  # fmt: skip
    VideoFactory(channel=channel, prerolls_enabled="Yes")
    VideoFactory(claimed_status="claim", privacy_status="public")
    hidden = VideoFactory(hidden=True, channel=channel)
    checks = [
        state(channel=channel.id, claim="dispute"),
        state(category=category.id),
        state(claim="dispute"),
        state(another_owner="Yes"),
        state(privacy="unlisted"),
        state(policy="monetize in ALL"),
        state(has_asset="yes", channel=channel.id),
        state(short="yes"),
        state(live="yes"),
        state(administered="yes"),
        state(monetization={"prerolls_enabled": "No"}),
    ]
    for check in checks:
        assert ids(check) == [match.id], check
    assert hidden.id not in ids(state(channel=channel.id))
    assert ids(state(channel=channel.id, hidden="yes")) == [hidden.id]
    assert hidden.id in ids(state(channel=channel.id, hidden="all"))
    assert set(ids(state(channel=channel.id, has_asset="no"))) == {
        v.id for v in db.session.scalars(select(Video).where(Video.channel_id == channel.id,
                                                               Video.asset_id.is_(None),
                                                               Video.hidden.is_(False)))
    }  # fmt: skip


def _walk(start: queries.ListState) -> list[int]:
    seen, current = [], start
    while True:
        page = queries.list_page(current)
        seen += [row.Video.id for row in page.rows]
        if not page.next_cursor:
            return seen
        current = queries.ListState(**{**current.__dict__, "after": page.next_cursor})


@pytest.mark.parametrize("sort", queries.SORTS)
@pytest.mark.parametrize("desc", [False, True])
def test_keyset_pages_cover_every_row_once_in_order(app_ctx, sort, desc):
    channel = ChannelFactory()
    names = ["b", None, "a", "c", "a", None, "B"]
    for i, name in enumerate(names * 2):
        VideoFactory(
            channel=channel, title=name, views=None if name is None else i,
            claimed_status=None if name is None else "claim", artist=[name] if name else [],
        )  # fmt: skip
    everything = state(channel=channel.id, sort=sort, desc=desc)
    key = Video.id if sort == "added" else SORT_KEYS[sort]
    expected = db.session.scalars(
        select(Video.id).where(Video.channel_id == channel.id)
        .order_by(key.desc() if desc else key, Video.id.desc() if desc else Video.id)
    ).all()  # fmt: skip
    walked = _walk(queries.ListState(**{**everything.__dict__, "size": 25}))
    assert walked == expected
    small_pages = _walk(queries.ListState(**{**everything.__dict__, "size": 3}))
    # size 3 is not an allowed page size; parse_state would refuse it, ListState does not.
    assert small_pages == expected


def test_pages_stay_stable_when_rows_are_added(app_ctx):
    channel = ChannelFactory()
    VideoFactory.create_batch(60, channel=channel)
    first = queries.list_page(state(channel=channel.id))
    for _ in range(5):  # newer rows would come first in the default order
        VideoFactory(channel=channel)
    second = queries.list_page(state(channel=channel.id, after=first.next_cursor))
    assert not {r.Video.id for r in first.rows} & {r.Video.id for r in second.rows}
    assert second.rows[0].Video.id < first.rows[-1].Video.id
    back = queries.list_page(state(channel=channel.id, before=second.prev_cursor))
    assert [r.Video.id for r in back.rows] == [r.Video.id for r in first.rows]


def test_latest_change_shows_the_newest_audit_row(app_ctx):
    first, second = UserFactory(), UserFactory()
    video = VideoFactory()
    service.update_video(video, {"title": "One"}, expected_version=video.version, actor=first)
    service.update_video(video, {"title": "Two"}, expected_version=video.version, actor=second)
    # Both rows carry the transaction's time: the later row is the later change.
    [row] = queries.list_page(state(q=video.video_id.lower())).rows
    assert row.changed_by == second.email


def test_count_is_exact_for_one_page_and_beyond(app_ctx):
    channel = ChannelFactory()
    VideoFactory.create_batch(3, channel=channel)
    page = queries.list_page(state(channel=channel.id))
    assert page.total == queries.Total(3, True, 10_000)  # the page holds the whole list
    VideoFactory.create_batch(30, channel=channel)
    page = queries.list_page(state(channel=channel.id))
    assert page.next_cursor
    assert page.total is None  # more than a page: count_matching says
    assert queries.count_matching(state(channel=channel.id)) == queries.Total(33, True, 10_000)


def test_above_the_exact_limit_the_total_is_an_estimate(app, app_ctx, monkeypatch):
    channel = ChannelFactory()
    VideoFactory.create_batch(30, channel=channel)
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 29)
    total = queries.count_matching(state(channel=channel.id))
    assert not total.exact
    assert total.limit == 29
    assert total.count >= 30  # never fewer than the count that stopped past the limit
    monkeypatch.setitem(app.config, "LIST_EXACT_LIMIT", 30)
    assert queries.count_matching(state(channel=channel.id)) == queries.Total(30, True, 30)


def test_foreign_or_malformed_cursors_are_ignored(app_ctx):
    VideoFactory.create_batch(3)
    for cursor in ["garbage", encode_cursor("text", 5), "eyJhIjoxfQ", encode_cursor(1.5, 2)]:
        assert queries.list_page(state(sort="views", after=cursor)).rows


def test_parse_state_round_trips_through_the_url(app_ctx):
    args = {"q": "love", "channel": "3", "claim": "appeal", "hidden": "all", "sort": "views",
            "dir": "asc", "size": "50", "prerolls_enabled": "Yes"}  # fmt: skip
    parsed = queries.parse_state(args)
    assert {k: str(v) for k, v in parsed.view_args().items()} == args
    junk = queries.parse_state({"size": "7", "sort": "nope", "claim": "x", "channel": "abc"})
    assert (junk.size, junk.sort, junk.claim, junk.channel) == (25, "added", "", None)


def test_list_page_over_http(client, sign_in_as):
    sign_in_as("viewer")
    VideoFactory(title="Searchable <b>Title</b>")
    html = client.get("/videos?q=searchable").get_data(as_text=True)
    assert "Searchable &lt;b&gt;Title&lt;/b&gt;" in html
    assert re.search(r"1 video\b", html)
    assert "Bulk edit" not in html  # a viewer sees no edit controls


def test_channel_filter_finds_channels_as_you_type(client, sign_in_as):
    from tests.factories import ChannelFactory

    sign_in_as("viewer")
    wanted = ChannelFactory(name="Blue Harbor Records")
    ChannelFactory(name="Elsewhere")
    html = client.get("/videos/channel-options?channel_q=harbor&claim=appeal").get_data(
        as_text=True
    )
    assert "Blue Harbor Records" in html
    assert "Elsewhere" not in html
    assert f"channel={wanted.id}" in html
    assert "claim=appeal" in html  # the other filters are kept
    listed = client.get(f"/videos?channel={wanted.id}").get_data(as_text=True)
    assert 'data-testid="channel-chip"' in listed
    assert "Blue Harbor Records" in listed
