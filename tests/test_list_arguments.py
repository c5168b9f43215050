"""The lists read numbers from their URL with Flask's args.get(name, type=int): a value that
is not a number is ignored, as before; and one LIKE pattern serves every search box."""

from werkzeug.datastructures import MultiDict

from catalog.accounts import queries as account_queries
from catalog.channels import queries as channel_queries
from catalog.queue import queries as queue_queries
from catalog.videos import queries as video_queries
from catalog.videos.menus import FieldChoice
from catalog.web.filters import contains_pattern

RATING = FieldChoice(3, "Mood", "rating", {"max_rating": 5}, False)
FLAG = FieldChoice(4, "Live", "boolean", {}, False)


def test_contains_pattern_escapes_the_wildcards():
    assert contains_pattern("50%_Off\\") == "%50\\%\\_off\\\\%"
    assert contains_pattern("Plain") == "%plain%"


def test_video_list_numbers():
    state = video_queries.parse_state(MultiDict({"channel": "12", "category": "x", "size": "50"}))
    assert (state.channel, state.category, state.size) == (12, None, 50)
    junk = video_queries.parse_state(MultiDict({"channel": "", "size": "many"}))
    assert (junk.channel, junk.size) == (None, 25)


def test_a_rating_filter_ignores_what_is_not_a_number():
    fields = {RATING.id: RATING}
    state = video_queries.parse_state(MultiDict([("cf3", "4"), ("cf3_op", "gte")]), fields)
    assert state.custom == (video_queries.CustomFilter(3, "gte", ("4",)),)
    assert video_queries.parse_state(MultiDict({"cf3": "lots"}), fields).custom == ()
    assert video_queries.parse_state(MultiDict({"cf3": "4", "cf3_op": "x"}), fields).custom == ()


def test_sorting_by_a_custom_field_names_it_as_the_headers_do():
    fields = {RATING.id: RATING, FLAG.id: FLAG}
    assert video_queries.parse_state(MultiDict({"sort": "cf3"}), fields).sort == "cf3"
    for sort in ("cf4", "cf9", "cfx", "cf"):  # a boolean, an unknown field, no id
        assert video_queries.parse_state(MultiDict({"sort": sort}), fields).sort == "added"


def test_channel_list_size():
    assert channel_queries.parse_state(MultiDict({"size": "100"})).size == 100
    assert channel_queries.parse_state(MultiDict({"size": "big"})).size == 50


def test_queue_cursors_are_positive_ids():
    parsed = queue_queries.parse_filters(MultiDict({"after": "7", "before": "x"}))
    assert (parsed.after, parsed.before) == (7, None)
    parsed = queue_queries.parse_filters(MultiDict({"after": "0", "before": "-3"}))
    assert (parsed.after, parsed.before) == (None, None)


def test_user_list_page_number():
    def page(value: str) -> int:
        return account_queries.parse_filters(MultiDict({"page": value})).page

    assert [page("3"), page("x"), page(""), page("0"), page("-2")] == [3, 1, 1, 1, 1]
    assert page("999999999") == account_queries.MAX_PAGE


def test_pages_ignore_a_channel_that_is_not_a_number(client, sign_in_as):
    sign_in_as("viewer")
    assert client.get("/videos?channel=abc").status_code == 200
    assert client.get("/channels?size=abc").status_code == 200
