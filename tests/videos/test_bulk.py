"""Bulk edit over HTTP: the exact preview, the confirmation that applies exactly what was
previewed, and the flash that offers the batch's undo."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from catalog.models import MetadataSync, Video
from catalog.videos import bulk_edit
from tests.factories import CategoryFactory, CustomFieldFactory, VideoFactory
from tests.helpers import csrf_token
from tests.videos.totals import read_total


def confirm_value(html: str) -> str:
    """The fingerprint a bulk edit's preview puts on its Apply button."""
    match = re.search(r'name="confirm" value="([0-9a-f]+)"', html)
    assert match, "the preview offers no Apply button"
    return match.group(1)


def previewed(html: str) -> int:
    match = re.search(r'data-testid="bulk-count">([\d,]+)<', html)
    assert match, "no preview on the page"
    return int(match.group(1).replace(",", ""))


def bulk_rows(session) -> list[MetadataSync]:
    return list(session.scalars(select(MetadataSync).where(MetadataSync.source == "bulk")))


def form(token: str, scope: str = "all", **values) -> dict:
    data = {"csrf_token": token, "scope": scope}
    for name, value in values.items():
        data |= {f"set_{name}": "y", name: value}
    return data


def test_the_preview_counts_exactly_the_videos_that_would_change_and_writes_nothing(
    db_session, editor_client
):
    category = CategoryFactory()
    already = VideoFactory.create_batch(3, category=category, claimed_status="appeal")
    changing = VideoFactory.create_batch(5, category=category, claimed_status=None)
    VideoFactory.create_batch(2, claimed_status=None)  # another category: not selected
    url = f"/videos/bulk?category={category.id}"
    page = editor_client.get(f"{url}&scope=all").get_data(as_text=True)
    assert "Every video matching the list's filters (8)" in page  # counted, not "about"

    token = csrf_token(editor_client.get("/videos"))
    html = editor_client.post(url, data=form(token, claimed_status="appeal")).get_data(as_text=True)
    assert previewed(html) == 5  # only those whose value differs
    sample = re.search(r'data-testid="bulk-sample">(.*?)</table>', html, re.S).group(1)
    assert sorted(re.findall(r"/videos/([\w-]+)\"", sample)) == sorted(v.video_id for v in changing)
    assert all(v.video_id not in sample for v in already)
    assert sample.count(">appeal<") == 5  # each: Claim, empty → appeal
    assert "Apply to 5 videos" in html
    bulk_form = re.search(r'<form method="post" action="/videos/bulk.*?</form>', html, re.S)
    buttons = re.findall(r"<button[^>]*>", bulk_form.group(0))
    assert 'name="confirm"' not in buttons[0]  # Enter presses the first: it previews again
    db_session.expire_all()
    assert {v.claimed_status for v in changing} == {None}
    assert bulk_rows(db_session) == []


def test_confirming_applies_what_was_previewed_and_offers_the_undo(db_session, editor_client):
    videos = VideoFactory.create_batch(3, title="Confirm me", privacy_status="public")
    token = csrf_token(editor_client.get("/videos"))
    data = form(token, privacy_status="unlisted")
    html = editor_client.post("/videos/bulk?q=confirm+me", data=data).get_data(as_text=True)
    assert previewed(html) == 3
    response = editor_client.post(
        "/videos/bulk?q=confirm+me", data={**data, "confirm": confirm_value(html)}
    )
    assert response.status_code == 302
    rows = bulk_rows(db_session)
    assert len(rows) == 3
    (batch_id,) = {row.batch_id for row in rows}
    listed = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bulk edit saved: 3 videos changed." in listed
    # The undo comes back to this list as it is (its `next`).
    assert (
        f'<a href="/audit/batch/{batch_id}?next=/videos?q%3Dconfirm%2Bme" '
        'data-testid="undo-bulk">Undo…</a>'
    ) in listed
    db_session.expire_all()
    assert {v.privacy_status for v in videos} == {"unlisted"}


def test_a_set_that_changed_since_the_preview_is_said_and_nothing_is_written(
    db_session, editor_client
):
    videos = VideoFactory.create_batch(3, title="Moving set", label=None)
    token = csrf_token(editor_client.get("/videos"))
    data = form(token, label="New label")
    html = editor_client.post("/videos/bulk?q=moving+set", data=data).get_data(as_text=True)
    assert previewed(html) == 3
    fingerprint = confirm_value(html)
    # Meanwhile someone gives one of them that label, and a new video joins the set.
    videos[0].label = "New label"
    VideoFactory(title="Moving set too")
    db_session.flush()

    response = editor_client.post(
        "/videos/bulk?q=moving+set", data={**data, "confirm": fingerprint}
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    assert previewed(html) == 3  # two of the old ones and the new one
    assert bulk_rows(db_session) == []
    db_session.expire_all()
    assert [v.label for v in videos[1:]] == [None, None]

    # Confirming the new preview applies it.
    response = editor_client.post(
        "/videos/bulk?q=moving+set", data={**data, "confirm": confirm_value(html)}
    )
    assert response.status_code == 302
    assert len(bulk_rows(db_session)) == 3


def test_values_changed_after_the_preview_are_not_applied_unseen(db_session, editor_client):
    video = VideoFactory(title="Fickle", privacy_status="public")
    token = csrf_token(editor_client.get("/videos"))
    html = editor_client.post(
        "/videos/bulk?q=fickle", data=form(token, privacy_status="unlisted")
    ).get_data(as_text=True)
    fingerprint = confirm_value(html)
    # The form is edited after the preview, then Apply is pressed.
    response = editor_client.post(
        "/videos/bulk?q=fickle",
        data={**form(token, privacy_status="private"), "confirm": fingerprint},
    )
    assert response.status_code == 409
    db_session.expire_all()
    assert video.privacy_status == "public"
    assert bulk_rows(db_session) == []


def test_nothing_to_change_offers_no_apply(db_session, editor_client):
    VideoFactory.create_batch(2, title="Settled", privacy_status="public")
    token = csrf_token(editor_client.get("/videos"))
    html = editor_client.post(
        "/videos/bulk?q=settled", data=form(token, privacy_status="public")
    ).get_data(as_text=True)
    assert previewed(html) == 0
    assert 'name="confirm"' not in html
    assert "Nothing would change" in html


def test_a_custom_value_is_previewed_and_applied_like_the_others(db_session, editor_client):
    mood = CustomFieldFactory(
        name="Mood", field_type="select", config={"options": ["calm", "wild"]}
    )
    videos = VideoFactory.create_batch(2, title="Moody")
    token = csrf_token(editor_client.get("/videos"))
    data = {"csrf_token": token, "scope": "all", f"set_cf_{mood.id}": "y", f"cf_{mood.id}": "wild"}
    html = editor_client.post("/videos/bulk?q=moody", data=data).get_data(as_text=True)
    assert previewed(html) == 2
    assert html.count(">Mood</td>") == 2
    editor_client.post("/videos/bulk?q=moody", data={**data, "confirm": confirm_value(html)})
    changes = sorted((row.entity_key, row.changes) for row in bulk_rows(db_session))
    assert changes == sorted((v.video_id, {"field:Mood": [None, "wild"]}) for v in videos)
    # Again: nothing differs now.
    assert (
        previewed(editor_client.post("/videos/bulk?q=moody", data=data).get_data(as_text=True)) == 0
    )


def test_the_write_locks_the_rows_it_changes_in_id_order(app_ctx):
    """Two bulk edits over the same videos queue behind one another instead of deadlocking:
    both lock in id order, before they write."""
    from catalog.extensions import db

    captured = []

    def capture(conn, cursor, statement, *args):
        captured.append(statement)

    from sqlalchemy import event

    videos = VideoFactory.create_batch(2)
    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", capture)
    try:
        bulk_edit.bulk_update(
            select(Video.id).where(Video.id.in_([v.id for v in videos])), {"notes": "n"},
            actor=None,
        )  # fmt: skip
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    plan = next(s for s in captured if "FOR UPDATE OF videos" in s)
    assert re.search(r"ORDER BY videos\.id\s+FOR UPDATE OF videos", plan)
    write = captured.index(next(s for s in captured if s.lstrip().startswith("UPDATE videos")))
    assert captured.index(plan) < write


def test_the_numbers_on_demo_data_agree(demo_session, demo_client, demo_sign_in_as):
    """The issue's examples on the demo catalog (tests/conftest.py's, in the test's own
    transaction): the list's total, the videos it lists, the preview's count, what is written
    and what the flash says are one number."""
    from catalog.demo import data as demo

    db_session, editor_client = demo_session, demo_client
    demo_sign_in_as("editor")
    public_by_category = db_session.execute(
        select(Video.category_id, func.count())
        .where(Video.privacy_status == "public", Video.category_id.is_not(None))
        .group_by(Video.category_id)
        .order_by(func.count().desc())
    ).first()
    token = csrf_token(editor_client.get("/videos"))
    examples = [
        {"category": public_by_category[0], "privacy": "public"},
        {"q": "rain"},
        {"claim": "claim"},
        {"hidden": "all"},  # the whole catalog, hidden videos included
    ]
    for n, filters in enumerate(examples):
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        listed, total = walk_list(editor_client, f"/videos?size=100&{query}")
        assert total == f"{listed:,} video{'s' if listed != 1 else ''}", filters
        note = f"Reviewed {n}"  # a value no video has: every matching video changes
        data = form(token, notes=note)
        url = f"/videos/bulk?{query}"
        html = editor_client.post(url, data=data).get_data(as_text=True)
        assert previewed(html) == listed, filters
        response = editor_client.post(url, data={**data, "confirm": confirm_value(html)})
        flashed = editor_client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"Bulk edit saved: {listed:,} video{'s' if listed != 1 else ''} changed" in flashed
        written = db_session.scalar(select(func.count()).where(Video.notes == note))
        assert written == listed, filters
    assert listed == demo.VIDEO_COUNT  # the last example: the whole catalog


def walk_list(client, url: str) -> tuple[int, str]:
    """(how many videos the list shows across all its pages, the total its first page says)."""
    total = read_total(client, url)
    html = client.get(url).get_data(as_text=True)
    listed = 0
    while True:
        listed += html.count('<input type="checkbox" name="ids"')
        following = re.search(r'rel="next" href="([^"]+)"', html)
        if not following:
            return listed, total
        html = client.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)


def test_an_unknown_batch_is_404_for_an_editor(db_session, editor_client):
    assert editor_client.get(f"/audit/batch/{uuid.uuid4()}").status_code == 404


def test_a_preview_of_every_kind_of_value_is_confirmed_by_the_write(app_ctx):
    """The preview and the write compute one fingerprint for numbers, booleans, ids, text and
    custom values of each type; a changed old value changes it."""
    from catalog.extensions import db

    category = CategoryFactory()
    stars = CustomFieldFactory(field_type="rating", config={"max_rating": 5})
    ready = CustomFieldFactory(field_type="boolean")
    videos = VideoFactory.create_batch(3, label="Old")
    selection = select(Video.id).where(Video.id.in_([v.id for v in videos]))
    values = {"category_id": category.id, "hidden": True, "label": "New", "notes": None}
    custom = {stars: 4, ready: False}
    preview = bulk_edit.preview_bulk(selection, values, custom=custom)
    assert preview.count == 3
    assert preview.sample[0].changes == {
        "category_id": [None, category.id], "hidden": [False, True], "label": ["Old", "New"],
        stars.audit_key: [None, 4], ready.audit_key: [None, False],
    }  # fmt: skip
    videos[2].label = "Other"
    db.session.flush()
    with pytest.raises(bulk_edit.BulkSetChanged) as changed:
        bulk_edit.apply_bulk(
            selection, values, actor=None, custom=custom, expected=preview.fingerprint
        )
    assert changed.value.preview.count == 3
    done = bulk_edit.apply_bulk(
        selection, values, actor=None, custom=custom, expected=changed.value.preview.fingerprint
    )
    assert done.count == 3
    assert bulk_edit.preview_bulk(selection, values, custom=custom).count == 0
