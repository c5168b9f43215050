"""/library: the hero, a row per active category by views, Continue watching, more of a row
(keyset), search by title and artist; few statements."""

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from catalog.library import queries
from catalog.models import VideoProgress
from catalog.web.pagination import encode_cursor
from tests.factories import CategoryFactory, VideoFactory

CARD = re.compile(r'data-testid="library-card" data-video-id="([^"]+)"')


def cards_of(html: str, row: str) -> list[str]:
    """The video ids of one row's cards, in order."""
    start = html.index(f'data-row="{row}"')
    end = html.find('data-testid="library-row"', start + 1)
    return CARD.findall(html[start : end if end != -1 else len(html)])


@contextmanager
def counted(connection):
    statements = []

    def count(conn, cursor, statement, *args):
        # The test's savepoints stand for the request's transaction: not the page's SQL.
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_rows_follow_the_categories_order_and_views(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    second = CategoryFactory(name="Second", sort_order=2)
    first = CategoryFactory(name="First", sort_order=1)
    inactive = CategoryFactory(name="Retired", sort_order=0, is_active=False)
    low = library_video(category=first, views=10)
    high = library_video(category=first, views=5000, is_hero=True)
    tie_a = library_video(category=first, views=500)
    tie_b = library_video(category=first, views=500)
    uncounted = library_video(category=first, views=None)
    other = library_video(category=second, views=1)
    library_video(category=inactive, views=99)
    VideoFactory(category=first, views=10**6, published=False)  # not in the library
    VideoFactory(category=first, views=10**6, published=True)  # published, but no file
    started = library_video(category=second, views=3)
    db_session.add(
        VideoProgress(user_id=user.id, video_id=started.id, duration_seconds=5, last_position=2,
                      watched_seconds=2)
    )  # fmt: skip
    db_session.flush()

    html = client.get("/library").get_data(as_text=True)
    assert re.findall(r'data-row="([^"]+)"', html) == [
        f"category-{first.id}", f"category-{second.id}", "continue",
    ]  # fmt: skip
    assert cards_of(html, f"category-{first.id}") == [
        high.video_id, tie_b.video_id, tie_a.video_id, low.video_id, uncounted.video_id,
    ]  # fmt: skip
    assert cards_of(html, f"category-{second.id}") == [started.video_id, other.video_id]
    assert cards_of(html, "continue") == [started.video_id]
    hero = html[html.index('data-testid="library-hero"') :]
    assert f"/library/{high.video_id}" in hero[: hero.index("</section>")]
    assert "Retired" not in html


def test_the_page_takes_at_most_five_statements(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    for n in range(4):
        category = CategoryFactory(sort_order=n)
        for views in range(queries.ROW_SIZE + 2):
            video = library_video(category=category, views=views, captions=False)
        db_session.add(
            VideoProgress(user_id=user.id, video_id=video.id, duration_seconds=5,
                          last_position=1)
        )  # fmt: skip
    db_session.flush()
    client.get("/library")
    with counted(db_session.connection()) as statements:
        html = client.get("/library").get_data(as_text=True)
    assert html.count('data-testid="library-row"') == 5
    assert len(statements) <= 5, "\n\n".join(statements)


def test_more_of_a_row_continues_after_its_last_card(client, db_session, sign_in_as, library_video):
    sign_in_as("viewer")
    category = CategoryFactory()
    videos = [library_video(category=category, views=v // 3, captions=False) for v in range(20)]
    videos += [library_video(category=category, views=None, captions=False) for _ in range(10)]
    expected = [v.video_id for v in sorted(videos[:20], key=lambda v: (-v.views, -v.id))]
    expected += [v.video_id for v in sorted(videos[20:], key=lambda v: -v.id)]

    html = client.get("/library").get_data(as_text=True)
    seen = cards_of(html, f"category-{category.id}")
    more = re.compile(rf'hx-get="(/library/rows/category/{category.id}[^"]+)"')
    while found := more.search(html):
        html = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
        seen += CARD.findall(html)
    assert seen == expected
    assert 'data-testid="row-more"' not in html


def test_more_refuses_a_cursor_that_is_not_one(client, db_session, sign_in_as):
    sign_in_as("viewer")
    category = CategoryFactory()
    base = f"/library/rows/category/{category.id}"
    assert client.get(f"{base}?after=nonsense").status_code == 400
    assert client.get(f"{base}?after={encode_cursor('text', 1)}").status_code == 400
    assert client.get(f"{base}?after={encode_cursor(-5, 1)}").status_code == 400
    assert client.get(f"{base}?after={encode_cursor(3, 1)}").status_code == 200
    assert client.get("/library/rows/continue?after=nonsense").status_code == 400
    assert client.get("/library/rows/category/999999?after=x").status_code == 404


def test_continue_watching_is_the_persons_own_unfinished_newest_first(
    client, db_session, sign_in_as, library_video
):
    from tests.factories import UserFactory

    user = sign_in_as("viewer")
    someone = UserFactory()
    now = datetime.now(UTC)
    older, newer, done, theirs = (library_video(captions=False) for _ in range(4))
    rows = [
        (user, older, 1, False, now - timedelta(hours=2)),
        (user, newer, 3, False, now - timedelta(hours=1)),
        (user, done, 4.8, True, now),
        (someone, theirs, 2, False, now),
    ]
    for who, video, position, completed, at in rows:
        db_session.add(
            VideoProgress(user_id=who.id, video_id=video.id, duration_seconds=5,
                          last_position=position, completed=completed, updated_at=at)
        )  # fmt: skip
    db_session.flush()
    html = client.get("/library").get_data(as_text=True)
    assert cards_of(html, "continue") == [newer.video_id, older.video_id]
    assert 'aria-label="60% watched"' in html


def test_search_finds_titles_and_artists_in_the_library(
    client, db_session, sign_in_as, library_video
):
    sign_in_as("viewer")
    by_title = library_video(title="Moonlight Sonata", views=5, captions=False)
    by_artist = library_video(artist=["The Moonwalkers"], views=9, captions=False)
    library_video(title="Other", isrc="MOON12345678", captions=False)  # an identifier only
    VideoFactory(title="Moonrise", published=False)  # not in the library
    html = client.get("/library?q=MOON").get_data(as_text=True)
    assert CARD.findall(html) == [by_artist.video_id, by_title.video_id]
    assert "2 videos for “MOON”" in html
    nothing = client.get("/library?q=100%25_").get_data(as_text=True)
    assert CARD.findall(nothing) == []


def test_continue_watching_loads_more_by_keyset(client, db_session, sign_in_as, library_video):
    user = sign_in_as("viewer")
    now = datetime.now(UTC)
    videos = [library_video(captions=False) for _ in range(queries.ROW_SIZE + 3)]
    for n, video in enumerate(videos):
        db_session.add(
            VideoProgress(user_id=user.id, video_id=video.id, duration_seconds=5,
                          last_position=1, updated_at=now - timedelta(minutes=n % 4))
        )  # fmt: skip
    db_session.flush()
    expected = [
        v.video_id for n, v in sorted(enumerate(videos), key=lambda nv: (nv[0] % 4, -nv[1].id))
    ]
    html = client.get("/library").get_data(as_text=True)
    seen = cards_of(html, "continue")
    more = re.search(r'hx-get="(/library/rows/continue[^"]+)"', html)
    html = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    seen += CARD.findall(html)
    assert seen == expected
    assert "row-more" not in html
