"""The undo pages over HTTP: as of a time, revert a change, restore a deleted video, restore to
a time, undo a batch; who may, CSRF, conflicts and refusals that write nothing."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import MetadataSync, Video
from catalog.revert import states
from catalog.videos import bulk_edit, service
from tests import factories
from tests.changes.conftest import HOUR
from tests.factories import VideoFactory
from tests.factories.audit import past_row
from tests.helpers import csrf_token


@pytest.fixture
def run(app, db_session):
    """Call `fn` as a request would (the app's session, in a short app context) and commit
    it: a savepoint of the test's transaction, seen by the requests that follow."""

    def run(fn, *args, **kwargs):
        with app.app_context():
            factories.use_session(db.session, factories.state.password_hash)
            try:
                result = fn(*args, **kwargs)
                db.session.commit()
            finally:
                factories.use_session(db_session, factories.state.password_hash)
        return result

    return run


def history(video_id: str, **values) -> list[int]:
    """A video made and changed through the service, once per {field: value} in `values`
    order (each pair one change); returns its audit row ids."""
    video = service.create_video({"video_id": video_id, "title": "Old", "label": "L1"}, actor=None)
    for field, value in values.items():
        service.update_video(video, {field: value}, expected_version=video.version, actor=None)
    return [row.id for row in states.history(video_id)]


def edit(video_id: str, **values) -> None:
    video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
    service.update_video(video, values, expected_version=video.version, actor=None)


def delete(video_id: str) -> int:
    video = db.session.scalars(select(Video).where(Video.video_id == video_id)).one()
    service.delete_video(video, actor=None)
    return states.history(video_id)[-1].id


def state(session, video_id: str) -> dict | None:
    session.expire_all()
    video = session.scalars(select(Video).where(Video.video_id == video_id)).first()
    return None if video is None else {"title": video.title, "label": video.label,
                                       "version": video.version}  # fmt: skip


def revert_rows(session) -> int:
    return session.scalar(select(func.count()).where(MetadataSync.source == "revert"))


def test_detail_page_offers_as_of_and_revert_to_editors(client, run, sign_in_as):
    sign_in_as("editor")
    ids = run(history, "detail00001", title="New")
    html = client.get("/videos/detail00001").get_data(as_text=True)
    assert 'data-testid="as-of-form"' in html
    assert 'type="datetime-local"' in html
    assert f'href="/audit/{ids[1]}/revert"' in html
    assert "/videos/detail00001/as-of?at=" in html


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_see_as_of_but_no_revert(client, run, sign_in_as, role):
    sign_in_as(role)
    run(history, "detail00002", title="New")
    html = client.get("/videos/detail00002").get_data(as_text=True)
    assert 'data-testid="as-of-form"' in html
    assert "/revert" not in html
    assert client.get("/videos/detail00002/as-of?at=2030-01-01T00:00").status_code == 200


def test_as_of_shows_the_video_as_it_was_and_what_changed_since(
    client, db_session, run, sign_in_as
):
    sign_in_as("viewer")
    video = VideoFactory(video_id="asof0000001", title="Third", label="Now")

    def earlier():
        past_row(video, "update", {"title": ["First", "Second"]}, 3 * HOUR)
        past_row(video, "update", {"title": ["Second", "Third"], "label": ["Then", "Now"]}, HOUR)

    run(earlier)
    at = (datetime.now(UTC) - 2 * HOUR).strftime("%Y-%m-%dT%H:%M:%S")  # a datetime-local value
    html = client.get(f"/videos/asof0000001/as-of?at={at}").get_data(as_text=True)
    assert re.search(r'data-field="title">\s*Second', html)
    assert re.search(r'data-field="label">\s*Then', html)
    assert html.count('data-testid="change-row"') == 1  # the change made since
    assert "Restore to this time" not in html  # viewers do not restore


def test_as_of_an_unknown_video_is_a_404_that_says_so(client, db_session, sign_in_as):
    sign_in_as("viewer")
    response = client.get("/videos/nosuchvideo/as-of?at=2025-01-01T00:00")
    assert response.status_code == 404
    assert "No video with the id" in response.get_data(as_text=True)


def test_as_of_before_the_video_existed_says_so(client, run, sign_in_as):
    sign_in_as("viewer")
    run(history, "asof0000002")
    response = client.get("/videos/asof0000002/as-of?at=2001-01-01T00:00")
    assert response.status_code == 200
    assert 'data-testid="did-not-exist"' in response.get_data(as_text=True)


def test_as_of_needs_a_time(client, run, sign_in_as):
    sign_in_as("viewer")
    run(history, "asof0000003")
    assert client.get("/videos/asof0000003/as-of?at=yesterday").status_code == 400


def test_a_deleted_video_is_reachable_and_can_be_restored(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    video = VideoFactory(video_id="gone0000001", title="Last title")
    # Created two hours ago (rows of one transaction share its time: this test's are "now").
    run(past_row, video, "create", {"video_id": [None, "gone0000001"]}, 2 * HOUR)
    deletion = run(delete, "gone0000001")

    detail = client.get("/videos/gone0000001")
    assert detail.status_code == 404
    page = detail.get_data(as_text=True)
    assert "was deleted" in page
    assert f"/audit/{deletion}/restore" in page
    link = re.search(r'href="(/videos/gone0000001/as-of\?at=[^"]+)"', page).group(1)
    before = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'data-field="title">\s*Last title', before)
    assert 'data-testid="deleted"' in before

    preview = client.get(f"/audit/{deletion}/restore").get_data(as_text=True)
    assert "Last title" in preview
    token = csrf_token(client.get("/videos"))
    response = client.post(f"/audit/{deletion}/restore", data={"csrf_token": token})
    assert response.status_code == 302
    assert state(db_session, "gone0000001")["title"] == "Last title"
    restored = states_of(db_session, "gone0000001")[-1]
    assert (restored.action, restored.source, restored.reverts_id) == ("create", "revert", deletion)


def states_of(session, video_id: str) -> list[MetadataSync]:
    return session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_key == video_id)
        .order_by(MetadataSync.chain_seq)
    ).all()


def test_restoring_over_a_video_that_exists_again_is_refused(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    run(history, "gone0000002")
    deletion = run(delete, "gone0000002")
    run(history, "gone0000002")  # someone created it again
    token = csrf_token(client.get("/videos"))
    response = client.post(f"/audit/{deletion}/restore", data={"csrf_token": token})
    assert response.status_code == 409
    assert "exists again" in response.get_data(as_text=True)
    assert revert_rows(db_session) == 0


def test_revert_preview_shows_conflicts_and_keeping_one_keeps_it(
    client, db_session, run, sign_in_as
):
    sign_in_as("editor")
    ids = run(history, "revert00001", label="L2")
    run(edit, "revert00001", title="Edited")
    run(lambda: edit("revert00001", label="L3"))  # the label changed again since
    page = client.get(f"/audit/{ids[1]}/revert").get_data(as_text=True)
    assert 'data-testid="conflicts"' in page
    assert re.search(r'class="table-warning" data-key="label"', page)
    version = state(db_session, "revert00001")["version"]

    token = csrf_token(client.get("/videos"))
    form = {"csrf_token": token, "version": version, "choice-label": "keep", "conflict": "label"}
    response = client.post(f"/audit/{ids[1]}/revert", data=form)
    assert response.status_code == 302
    assert state(db_session, "revert00001")["label"] == "L3"
    assert revert_rows(db_session) == 0  # nothing chosen: nothing written

    form["choice-label"] = "restore"
    response = client.post(f"/audit/{ids[1]}/revert", data=form)
    assert response.status_code == 302
    assert state(db_session, "revert00001")["label"] == "L1"
    [row] = db_session.scalars(select(MetadataSync).where(MetadataSync.source == "revert")).all()
    assert (row.reverts_id, row.changes) == (ids[1], {"label": ["L3", "L1"]})


def test_revert_with_a_stale_version_writes_nothing(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    ids = run(history, "revert00002", title="New")
    version = state(db_session, "revert00002")["version"]
    run(edit, "revert00002", label="Meanwhile")
    token = csrf_token(client.get("/videos"))
    response = client.post(
        f"/audit/{ids[1]}/revert",
        data={"csrf_token": token, "version": version, "choice-title": "restore"},
    )
    assert response.status_code == 409
    assert "changed since you opened" in response.get_data(as_text=True)
    assert state(db_session, "revert00002")["title"] == "New"
    assert revert_rows(db_session) == 0


def test_every_undo_post_needs_a_csrf_token(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    ids = run(history, "csrf0000001", title="New")
    deletion = run(lambda: (history("csrf0000002"), delete("csrf0000002"))[1])
    batch = run(bulk_batch, ["csrf0000001"])
    version = state(db_session, "csrf0000001")["version"]
    posts = [
        (f"/audit/{ids[1]}/revert", {"version": version, "choice-title": "restore"}),
        (f"/audit/{deletion}/restore", {}),
        ("/videos/csrf0000001/restore-to", {"at": "2001-01-01T00:00", "version": version}),
        (f"/audit/batch/{batch}/undo", {"seen": 10**9}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 400, url
    assert state(db_session, "csrf0000001")["title"] == "New"
    assert state(db_session, "csrf0000002") is None
    assert revert_rows(db_session) == 0


def bulk_batch(video_ids: list[str], label: str = "Bulk") -> str:
    selection = select(Video.id).where(Video.video_id.in_(video_ids))
    bulk_edit.bulk_update(selection, {"label": label}, actor=None)
    return str(
        db.session.scalar(
            select(MetadataSync.batch_id).order_by(MetadataSync.chain_seq.desc()).limit(1)
        )
    )


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_readers_cannot_undo_anything(client, db_session, run, sign_in_as, role):
    sign_in_as(role)
    ids = run(history, "readonly001", title="New")
    deletion = run(lambda: (history("readonly002"), delete("readonly002"))[1])
    batch = run(bulk_batch, ["readonly001"])
    version = state(db_session, "readonly001")["version"]
    token = csrf_token(client.get("/videos"))
    posts = [
        (f"/audit/{ids[1]}/revert", {"version": version, "choice-title": "restore"}),
        (f"/audit/{deletion}/restore", {}),
        ("/videos/readonly001/restore-to", {"at": "2001-01-01T00:00", "version": version}),
        (f"/audit/batch/{batch}/undo", {"seen": 10**9}),
    ]
    for url, data in posts:
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
        assert client.get(url).status_code == 403, url
    assert state(db_session, "readonly001") == {"title": "New", "label": "Bulk",
                                                "version": version}  # fmt: skip
    assert state(db_session, "readonly002") is None
    assert revert_rows(db_session) == 0


def test_reverting_a_creation_changed_since_asks_to_confirm(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    ids = run(history, "creation001", title="Worked on")
    page = client.get(f"/audit/{ids[0]}/revert").get_data(as_text=True)
    assert "deletes the video" in page
    assert 'name="confirm"' in page
    version = state(db_session, "creation001")["version"]
    token = csrf_token(client.get("/videos"))
    form = {"csrf_token": token, "version": version, "conflict": "title"}
    assert client.post(f"/audit/{ids[0]}/revert", data=form).status_code == 409
    assert state(db_session, "creation001") is not None
    response = client.post(f"/audit/{ids[0]}/revert", data={**form, "confirm": "y"})
    assert response.status_code == 302
    assert state(db_session, "creation001") is None


def test_a_deletion_row_leads_to_the_restore_page(client, run, sign_in_as):
    sign_in_as("editor")
    run(history, "creation002")
    deletion = run(delete, "creation002")
    response = client.get(f"/audit/{deletion}/revert")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/audit/{deletion}/restore")


def test_restore_to_a_time_previews_then_applies(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    video = VideoFactory(video_id="totime00001", title="Now", label="Kept")
    run(lambda: past_row(video, "update", {"title": ["Then", "Now"]}, HOUR))
    at = (datetime.now(UTC) - 2 * HOUR).isoformat()
    page = client.get("/videos/totime00001/restore-to", query_string={"at": at})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.findall(r'data-key="([^"]+)"', html) == ["title"]
    token = csrf_token(client.get("/videos"))
    response = client.post(
        "/videos/totime00001/restore-to",
        data={
            "csrf_token": token,
            "at": at,
            "version": state(db_session, "totime00001")["version"],
        },
    )
    assert response.status_code == 302
    assert state(db_session, "totime00001")["title"] == "Then"
    row = states_of(db_session, "totime00001")[-1]
    assert (row.source, row.restored_to.isoformat()) == ("revert", at)


def test_restore_to_a_time_needs_a_time_and_a_known_video(client, run, sign_in_as):
    sign_in_as("editor")
    run(history, "totime00002")
    assert client.get("/videos/totime00002/restore-to").status_code == 400
    assert client.get("/videos/nosuchvideo/restore-to?at=2025-01-01T00:00").status_code == 404
    response = client.get("/videos/totime00002/restore-to?at=2001-01-01T00:00")
    assert response.status_code == 409
    assert "did not exist" in response.get_data(as_text=True)


def test_undo_batch_previews_counts_and_conflicts_then_undoes(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    for n in range(3):
        run(history, f"undobatch{n:02d}")
    batch = run(bulk_batch, [f"undobatch{n:02d}" for n in range(3)])
    run(edit, "undobatch00", label="Edited since")

    page = client.get(f"/audit/batch/{batch}/undo").get_data(as_text=True)
    assert re.search(r'data-testid="videos">\s*2<', page)
    assert re.search(r'data-testid="fields">\s*2<', page)
    assert 'data-testid="conflicts"' in page
    assert "Edited since" in page
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)

    token = csrf_token(client.get("/videos"))
    form = {"csrf_token": token, "seen": seen, "conflicts": "skip"}
    response = client.post(f"/audit/batch/{batch}/undo", data=form)
    assert response.status_code == 302
    assert [state(db_session, f"undobatch{n:02d}")["label"] for n in range(3)] == [
        "Edited since", "L1", "L1"
    ]  # fmt: skip
    undo_rows = db_session.scalars(
        select(MetadataSync).where(MetadataSync.source == "revert").order_by(MetadataSync.chain_seq)
    ).all()
    assert len(undo_rows) == 2
    assert len({row.batch_id for row in undo_rows}) == 1
    assert undo_rows[0].batch_size == 2


def test_undo_batch_can_overwrite_conflicts(client, db_session, run, sign_in_as):
    sign_in_as("editor")
    run(history, "overwrite01")
    batch = run(bulk_batch, ["overwrite01"])
    run(edit, "overwrite01", label="Edited since")
    page = client.get(f"/audit/batch/{batch}/undo").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    token = csrf_token(client.get("/videos"))
    client.post(f"/audit/batch/{batch}/undo",
                data={"csrf_token": token, "seen": seen, "conflicts": "overwrite"})  # fmt: skip
    assert state(db_session, "overwrite01")["label"] == "L1"


def test_undo_batch_after_a_change_since_the_preview_writes_nothing(
    client, db_session, run, sign_in_as
):
    sign_in_as("editor")
    run(history, "stalebatch1")
    batch = run(bulk_batch, ["stalebatch1"])
    page = client.get(f"/audit/batch/{batch}/undo").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    run(edit, "stalebatch1", title="Meanwhile")
    token = csrf_token(client.get("/videos"))
    response = client.post(f"/audit/batch/{batch}/undo", data={"csrf_token": token, "seen": seen})
    assert response.status_code == 409
    assert "changed since you looked" in response.get_data(as_text=True)
    assert state(db_session, "stalebatch1")["label"] == "Bulk"
    assert revert_rows(db_session) == 0


def test_undo_of_an_unknown_batch_is_a_404(client, db_session, sign_in_as):
    sign_in_as("editor")
    response = client.get("/audit/batch/00000000-0000-0000-0000-000000000000/undo")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("back", "lands"),
    [
        ("/videos?claim=claim&sort=title", "/videos?claim=claim&sort=title"),
        ("//elsewhere.example/videos", "/videos"),  # not a path of this site
        ("https://elsewhere.example/", "/videos"),
        ("", "/videos"),
    ],
)
def test_an_undone_batch_comes_back_to_the_list_it_was_undone_from(
    client, db_session, run, sign_in_as, back, lands
):
    sign_in_as("editor")
    run(history, "comeback001")
    batch = run(bulk_batch, ["comeback001"])
    # The batch's page (where a bulk edit's "Undo…" leads) hands the list on to the undo.
    batch_page = client.get(f"/audit/batch/{batch}", query_string={"next": back})
    undo_url = re.search(r'href="([^"]+)" data-testid="undo-batch"', batch_page.get_data(True))
    undo_url = undo_url.group(1).replace("&amp;", "&")
    page = client.get(undo_url).get_data(as_text=True)
    assert f'<a class="btn btn-outline-secondary" href="{lands.replace("&", "&amp;")}">' in page
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    kept = re.search(r'name="next" value="([^"]*)"', page).group(1).replace("&amp;", "&")
    response = client.post(
        f"/audit/batch/{batch}/undo",
        data={"csrf_token": csrf_token(page), "seen": seen, "next": kept},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands
    assert state(db_session, "comeback001")["label"] == "L1"
