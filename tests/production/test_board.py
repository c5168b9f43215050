"""The production board: counts by phase, cards in claim order, a column's keyset pages,
the filters, the statements a page costs, and the bulk actions with their count and batch."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, func, select

from catalog.models import Channel, MetadataSync, Task
from catalog.models.task import PHASES
from catalog.production import board_views, queries
from tests import factories
from tests.helpers import csrf_token
from tests.production.claim_data import make_task, make_worker

CARD = re.compile(r'data-testid="card" data-task-id="(\d+)"')


def _column(html: str, phase: str) -> str:
    start = html.index(f'data-phase="{phase}"')
    end = html.find('data-testid="column"', start)
    return html[start : end if end != -1 else None]


def _cards(html: str, phase: str) -> list[int]:
    return [int(n) for n in CARD.findall(_column(html, phase))]


def _count(html: str, phase: str) -> int:
    found = re.search(r'data-testid="phase-count"[^>]*>([\d,]+)<', _column(html, phase))
    return int(found.group(1).replace(",", ""))


@pytest.fixture
def channel(db_session):
    return factories.ChannelFactory(name="River Songs", production_capacity=10)


def test_each_phase_has_its_count_and_its_first_cards_in_claim_order(
    client, db_session, sign_in_as, channel
):
    sign_in_as("viewer")
    other = factories.ChannelFactory(name="Sea Songs")
    low = make_task(channel, "queued", priority="low", age=1)
    old_normal = make_task(channel, "queued", age=2)
    new_normal = make_task(other, "queued", age=3)
    high = make_task(other, "queued", priority="high", age=4)
    worker = make_worker("renderer-7")
    held = make_task(channel, "generating_video", age=5, claimed_by=worker.id)
    review = [make_task(channel, s, age=6 + i) for i, s in enumerate(PHASES["Waiting for review"])]
    make_task(channel, "published", age=20)
    make_task(channel, "asset_error", age=21, failed_from="generating_assets")

    html = client.get("/production").get_data(as_text=True)

    assert _cards(html, "Queued") == [high.id, old_normal.id, new_normal.id, low.id]
    assert _cards(html, "Waiting for review") == [t.id for t in review]
    expected = {"Draft": 0, "Queued": 4, "In production": 1, "Waiting for review": 5,
                "Approved and uploading": 0, "Published": 1, "Errors": 1}  # fmt: skip
    assert {phase: _count(html, phase) for phase in PHASES} == expected
    card = _column(html, "In production")
    assert f'data-task-id="{held.id}"' in card
    assert "River Songs" in card
    assert "renderer-7" in card
    assert "generating video" in card
    assert 'data-testid="card-age"' in card


@pytest.mark.parametrize("with_tasks", [False, True])
def test_a_board_with_no_card_to_show_has_every_column_empty_and_counted(
    client, db_session, sign_in_as, channel, with_tasks
):
    """The counts come with the cards' rows: with none to show, they come alone."""
    sign_in_as("viewer")
    if with_tasks:  # tasks, none of them of the filtered status
        make_task(channel, "queued", age=1)
        make_task(channel, "published", age=2)
    html = client.get("/production?status=final_review").get_data(as_text=True)
    assert {phase: _count(html, phase) for phase in PHASES} == dict.fromkeys(PHASES, 0)
    assert CARD.findall(html) == []
    assert html.count("None.</li>") == len(PHASES)
    if with_tasks:
        everything = client.get("/production").get_data(as_text=True)
        assert (_count(everything, "Queued"), _count(everything, "Published")) == (1, 1)


def test_a_card_says_how_long_it_has_been_in_its_state(client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    make_task(
        channel, "queued", status_changed_at=datetime.now(UTC) - timedelta(hours=3, minutes=5)
    )
    html = client.get("/production").get_data(as_text=True)
    assert re.search(r'data-testid="card-age"[^>]*>3 h<', _column(html, "Queued"))
    assert queries.duration(timedelta(minutes=12)) == "12 min"
    assert queries.duration(timedelta(days=4, hours=5)) == "4 d"
    assert queries.duration(timedelta(seconds=10)) == "now"


def test_a_column_loads_its_next_pages_by_keyset(client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    tasks = [make_task(channel, "queued", age=i) for i in range(23)]
    tasks.sort(key=lambda t: (t.priority, t.created_at, t.id))
    html = client.get("/production").get_data(as_text=True)
    seen = _cards(html, "Queued")
    assert seen == [t.id for t in tasks[: queries.PAGE_SIZE]]
    column = _column(html, "Queued")
    while 'data-testid="more"' in column:
        url = re.search(r'hx-get="([^"]+)"', column[column.index('data-testid="more"') :])
        response = client.get(url.group(1).replace("&amp;", "&"))
        assert response.status_code == 200
        column = response.get_data(as_text=True)
        seen += [int(n) for n in CARD.findall(column)]
    assert seen == [t.id for t in tasks]  # every task once, in claim order


def test_a_column_page_keeps_the_filters_and_refuses_unknown_phases(
    client, db_session, sign_in_as, channel
):
    sign_in_as("viewer")
    for i in range(12):
        make_task(channel, "queued", age=i, priority="high" if i % 2 else "low")
    html = client.get("/production?priority=high").get_data(as_text=True)
    assert _count(html, "Queued") == 6
    assert 'data-testid="more"' not in _column(html, "Queued")
    assert client.get("/production/column?phase=Nowhere").status_code == 404
    # A cursor that is not one of ours starts the column from its beginning.
    page = client.get("/production/column?phase=Queued&after=garbage").get_data(as_text=True)
    assert len(CARD.findall(page)) == queries.PAGE_SIZE


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel={other}", {"other_queued"}),
        ("priority=high", {"high_draft"}),
        ("status=video_ready", {"video_ready"}),
        ("stage=video", {"video_ready", "video_failed"}),
        ("stage=assets", {"asset_failed"}),
        ("age=1d", {"old_draft"}),
        ("channel={channel}&priority=high", {"high_draft"}),
    ],
)
def test_filters(client, db_session, sign_in_as, channel, query, expected):
    sign_in_as("viewer")
    other = factories.ChannelFactory()
    now = datetime.now(UTC)
    tasks = {
        "other_queued": make_task(other, "queued"),
        "high_draft": make_task(channel, "draft", priority="high"),
        "video_ready": make_task(channel, "video_ready"),
        "video_failed": make_task(channel, "video_error", failed_from="generating_video"),
        "asset_failed": make_task(channel, "asset_error", failed_from="generating_assets"),
        "old_draft": make_task(channel, "draft", status_changed_at=now - timedelta(days=2)),
    }
    url = "/production?" + query.format(channel=channel.id, other=other.id)
    html = client.get(url).get_data(as_text=True)
    shown = {int(n) for n in CARD.findall(html)}
    assert shown == {tasks[name].id for name in expected}
    assert sum(_count(html, phase) for phase in PHASES) == len(expected)


def test_filters_of_one_shape_share_a_statement_and_each_shows_its_own_tasks(
    client, db_session, sign_in_as, channel
):
    """The board's statement is built once per shape of filter; the values are its
    parameters: one channel, priority and age after another show each one's own tasks."""
    sign_in_as("viewer")
    other = factories.ChannelFactory()
    now = datetime.now(UTC)
    ours = make_task(channel, "queued", priority="high", status_changed_at=now - timedelta(hours=2))
    theirs = make_task(other, "queued", priority="low", status_changed_at=now - timedelta(days=2))

    def shown(query: str) -> tuple[set[int], int]:
        html = client.get("/production?" + query).get_data(as_text=True)
        return {int(n) for n in CARD.findall(html)}, _count(html, "Queued")

    queries._board_statement.cache_clear()
    assert shown(f"channel={channel.id}") == ({ours.id}, 1)
    assert shown(f"channel={other.id}") == ({theirs.id}, 1)
    assert shown("priority=high") == ({ours.id}, 1)
    assert shown("priority=low") == ({theirs.id}, 1)
    assert shown("age=1h") == ({ours.id, theirs.id}, 2)
    assert shown("age=1d") == ({theirs.id}, 1)
    assert shown("age=3d") == (set(), 0)
    assert queries._board_statement.cache_info().currsize == 3  # channel, priority, age


def test_unknown_filter_values_are_ignored(client, db_session, sign_in_as, channel):
    sign_in_as("viewer")
    make_task(channel, "queued")
    response = client.get("/production?channel=99999999999&priority=urgent&status=x&age=2y")
    assert response.status_code == 200
    assert _count(response.get_data(as_text=True), "Queued") == 1


@pytest.mark.parametrize("query", ["", "?channel={channel}&priority=normal&stage=video&age=1h"])
def test_the_whole_board_takes_two_statements_once_its_menu_is_read(
    app, client, db_session, sign_in_as, channel, query
):
    sign_in_as("viewer")
    for i, status in enumerate(("draft", "queued", "video_ready", "published", "video_error")):
        for _ in range(12):
            make_task(
                channel,
                status,
                age=i,
                failed_from="generating_video" if "error" in status else None,
            )
    url = "/production" + query.format(channel=channel.id)
    client.get(url)  # the session's first request may load what later ones keep
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    # The user (with the menus' versions), and the columns' first cards with the counts.
    assert len(seen) == 2, seen


# -- bulk ---------------------------------------------------------------------------------------


def test_bulk_queue_shows_the_exact_count_then_queues_as_one_batch(
    app, client, db_session, sign_in_as, channel
):
    editor = sign_in_as("editor")
    drafts = [make_task(channel, "draft", priority="high") for _ in range(3)]
    make_task(channel, "draft", priority="low")  # outside the filter
    make_task(channel, "queued", priority="high")  # in the filter, not a draft
    page = client.get("/production/bulk?action=queue&status=draft&priority=high")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'data-testid="bulk-count">This changes <strong>3 tasks</strong>', html)
    token = csrf_token(client.get("/production"))
    response = client.post(
        "/production/bulk?status=draft&priority=high",
        data={"csrf_token": token, "action": "queue", "expected": "3"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/production?")
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 tasks queued." in follow
    statuses = db_session.scalars(select(Task.status).where(Task.id.in_([t.id for t in drafts])))
    assert set(statuses) == {"queued"}
    rows = db_session.scalars(
        select(MetadataSync).where(MetadataSync.entity_id.in_([t.id for t in drafts]),
                                   MetadataSync.entity_type == "task")
    ).all()  # fmt: skip
    assert len(rows) == 3
    assert len({row.batch_id for row in rows}) == 1
    assert rows[0].batch_id is not None
    assert {row.user_id for row in rows} == {editor.id}
    assert all(row.changes == {"status": ["draft", "queued"]} for row in rows)


def test_bulk_refuses_when_the_set_changed_since_the_count(client, db_session, sign_in_as, channel):
    sign_in_as("editor")
    drafts = [make_task(channel, "draft") for _ in range(2)]
    before = db_session.scalar(select(func.count()).select_from(MetadataSync))
    token = csrf_token(client.get("/production"))
    response = client.post(
        "/production/bulk?status=draft",
        data={"csrf_token": token, "action": "queue", "expected": "3"},
    )
    assert response.status_code == 200
    assert "The set has changed" in response.get_data(as_text=True)
    db_session.expire_all()
    assert set(
        db_session.scalars(select(Task.status).where(Task.id.in_([t.id for t in drafts])))
    ) == {"draft"}
    assert db_session.scalar(select(func.count()).select_from(MetadataSync)) == before


def test_bulk_priority_and_retry(client, db_session, sign_in_as, channel):
    sign_in_as("editor")
    queued = [make_task(channel, "queued") for _ in range(2)]
    failed = make_task(channel, "video_error", failed_from="generating_video")
    token = csrf_token(client.get("/production"))
    html = client.get("/production/bulk?action=priority&new_priority=high&status=queued").get_data(
        as_text=True
    )
    assert "<strong>2 tasks</strong>" in html
    response = client.post(
        "/production/bulk?status=queued",
        data={"csrf_token": token, "action": "priority", "new_priority": "high", "expected": "2"},
    )
    assert response.status_code == 303
    response = client.post(
        "/production/bulk?stage=video",
        data={"csrf_token": token, "action": "retry", "expected": "1"},
    )
    assert response.status_code == 303
    db_session.expire_all()
    assert {t.priority for t in queued} == {"high"}
    assert failed.status == "generating_video"


def test_bulk_without_an_action_is_a_bad_request(client, db_session, sign_in_as):
    sign_in_as("editor")
    assert client.get("/production/bulk").status_code == 400
    assert client.get("/production/bulk?action=priority&priority=high").status_code == 400


def _gone_channel(db_session) -> int:
    """The id of a channel deleted since (it had no tasks, so it could go)."""
    gone = factories.ChannelFactory(name="Closed Songs")
    db_session.execute(delete(Channel).where(Channel.id == gone.id))
    return gone.id


def test_a_link_naming_a_deleted_channel_says_so_and_keeps_its_other_filters(
    client, db_session, sign_in_as, channel
):
    sign_in_as("viewer")
    high = make_task(channel, "queued", priority="high")
    normal = make_task(channel, "queued")
    gone = _gone_channel(db_session)

    html = client.get(f"/production?channel={gone}&priority=high").get_data(as_text=True)
    assert "The channel this link names no longer exists: not filtered by it." in html
    assert _cards(html, "Queued") == [high.id]  # the priority still applies
    assert normal.id not in _cards(html, "Queued")
    assert f'<option value="{gone}"' not in html
    # A channel that exists is no such case.
    html = client.get(f"/production?channel={channel.id}").get_data(as_text=True)
    assert "no longer exists" not in html
    assert _cards(html, "Queued") == [high.id, normal.id]


def test_a_saved_view_naming_a_deleted_channel_says_so_and_keeps_its_other_filters(
    editor_client, db_session, channel
):
    high = make_task(channel, "queued", priority="high")
    make_task(channel, "queued")
    closing = factories.ChannelFactory(name="Closing Songs")
    token = csrf_token(editor_client.get("/production"))
    response = editor_client.post(
        "/views/production",
        data={"csrf_token": token, "name": "Closing, urgent",
              "query": f"channel={closing.id}&priority=high"},
    )  # fmt: skip
    view_id = int(re.search(r"view=(\d+)", response.headers["Location"]).group(1))
    db_session.execute(delete(Channel).where(Channel.id == closing.id))

    html = editor_client.get(f"/production?view={view_id}").get_data(as_text=True)
    assert "View: <strong>Closing, urgent</strong>" in html
    assert "no longer applies: what it named was deleted or changed." in html
    assert _cards(html, "Queued") == [high.id]  # the channel part ignored, the priority kept
    assert 'data-testid="unsaved"' not in html  # the view is shown as saved, less what is gone


def test_the_channel_menu_is_rendered_once_and_follows_every_change_of_the_channels(
    app, client, db_session, sign_in_as, channel, monkeypatch
):
    sign_in_as("viewer")
    client.get("/production")
    rendered = []
    read = board_views._read_channel_menu

    def reading():
        rendered.append(read())
        return rendered[-1]

    monkeypatch.setattr(board_views, "_read_channel_menu", reading)
    html = client.get(f"/production?channel={channel.id}").get_data(as_text=True)
    assert f'<option value="{channel.id}" selected>River Songs</option>' in html
    assert rendered == []  # kept, neither read nor rendered again

    def menu() -> str:
        html = client.get("/production").get_data(as_text=True)
        start = html.index('id="f-channel"')
        return html[start : html.index("</select>", start)]

    added = factories.ChannelFactory(name="Brand New Songs")
    assert f'<option value="{added.id}">Brand New Songs</option>' in menu()
    added.name = "Renamed Songs"
    db_session.flush()
    assert ">Renamed Songs<" in menu()
    assert "Brand New Songs" not in menu()
    db_session.execute(delete(Channel).where(Channel.id == added.id))
    assert f'value="{added.id}"' not in menu()
    assert f'<option value="{channel.id}">River Songs</option>' in menu()
    reads = len(rendered)
    channel.production_capacity = 7  # not the menu's: kept
    db_session.flush()
    menu()
    assert len(rendered) == reads
