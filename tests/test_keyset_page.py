"""web/pagination.keyset_page(): the keyset mechanics the video and channel lists share."""

from sqlalchemy import func, select

from catalog.models import Channel
from catalog.web.pagination import Keyset, encode_cursor, keyset_page
from tests.factories import ChannelFactory


def _walk(keyset: Keyset):
    key = func.coalesce(Channel.subscriber_count, -1)
    statement = select(Channel.id, key.label("sort_key")).where(Channel.country == "IS")
    return keyset_page(
        statement, key, Channel.id, keyset, position=lambda row: (row.sort_key, row.id)
    )


def test_forwards_and_back_through_equal_keys(app_ctx):
    # Two pairs share a key: the id breaks the tie, so no row is skipped or seen twice.
    counts = [5, 5, 9, 1, 1]
    channels = [ChannelFactory(country="IS", subscriber_count=n) for n in counts]
    expected = [c.id for c in sorted(channels, key=lambda c: (-c.subscriber_count, -c.id))]

    first = _walk(Keyset(2, desc=True))
    assert [row.id for row in first.rows] == expected[:2]
    assert (first.prev_cursor, first.whole) == (None, False)
    second = _walk(Keyset(2, desc=True, after=first.next_cursor))
    assert [row.id for row in second.rows] == expected[2:4]
    last = _walk(Keyset(2, desc=True, after=second.next_cursor))
    assert [row.id for row in last.rows] == expected[4:]
    assert (last.next_cursor is None, bool(last.prev_cursor)) == (True, True)
    back = _walk(Keyset(2, desc=True, before=last.prev_cursor))
    assert [row.id for row in back.rows] == expected[2:4]
    assert (bool(back.next_cursor), bool(back.prev_cursor)) == (True, True)
    ascending = _walk(Keyset(10, desc=False))
    assert [row.id for row in ascending.rows] == list(reversed(expected))
    assert (ascending.whole, ascending.next_cursor) == (True, None)


def test_a_cursor_of_another_key_type_starts_over(app_ctx):
    ChannelFactory(country="IS", subscriber_count=3)
    for token in (encode_cursor("text", 1), "garbage"):
        page = _walk(Keyset(5, desc=True, after=token))
        assert (len(page.rows), page.whole, page.prev_cursor) == (1, True, None)
