"""Drafts made and edited in Catalog: the service's checks (nothing written, no audit row on a
refusal), one audit row per save, what may change past draft, and the pages."""

import re

import pytest
from sqlalchemy import func, select, update

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.task import Task
from catalog.production import drafts
from catalog.rules import RuleError
from tests.factories import ChannelFactory, UserFactory
from tests.helpers import csrf_token

PAGE = "0123456789abcdef0123456789abcdef"
DASHED = "01234567-89ab-cdef-0123-456789abcdef"


def task_rows(session=None) -> list[MetadataSync]:
    session = session or db.session
    return session.scalars(
        select(MetadataSync).where(MetadataSync.entity_type == "task").order_by(MetadataSync.id)
    ).all()


def task_count(session=None) -> int:
    return (session or db.session).scalar(select(func.count()).select_from(Task))


@pytest.mark.parametrize(
    "text",
    [PAGE, PAGE.upper(), DASHED, f"  {DASHED}  ",
     f"https://www.notion.so/team/My-Video-{PAGE}",
     f"https://www.notion.so/{PAGE}?pvs=4",
     f"https://www.notion.so/ffffffffffffffffffffffffffffffff?v=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee&p={PAGE}",
     f"https://team.notion.site/Video-{PAGE}"],
)  # fmt: skip
def test_a_page_id_is_taken_as_the_id_with_or_without_dashes_or_as_the_pages_url(text):
    assert drafts.normalise_page_id(text) == PAGE


@pytest.mark.parametrize(
    "text",
    ["", "0123", PAGE + "0", PAGE[:-1] + "g", f"https://example.com/{PAGE}",
     "https://www.notion.so/team/No-id-here", None, 12],
)  # fmt: skip
def test_anything_else_is_not_a_page_id(text):
    assert drafts.normalise_page_id(text) is None


def values(channel, **changes) -> dict:
    return {
        "notion_page_id": DASHED, "title": "  How rivers carve canyons ", "topic": "Geology",
        "story_direction": "Start at the rim.", "channel_id": channel.id, "priority": "high",
        **changes,
    }  # fmt: skip


def test_a_draft_is_made_normalised_with_one_audit_row_of_its_values(app_ctx):
    channel = ChannelFactory()
    editor = UserFactory(roles=["editor"])
    task = drafts.create_draft(values(channel, topic=""), actor=editor)
    assert (task.status, task.notion_page_id, task.title, task.topic) == (
        "draft", PAGE, "How rivers carve canyons", None,
    )  # fmt: skip
    [row] = task_rows()
    assert (row.action, row.source, row.user_id, row.entity_id, row.entity_key) == (
        "create", "web", editor.id, task.id, PAGE,
    )  # fmt: skip
    assert row.changes == {
        "notion_page_id": [None, PAGE], "title": [None, "How rivers carve canyons"],
        "story_direction": [None, "Start at the rim."], "channel": [None, channel.channel_id],
        "priority": [None, "high"], "status": [None, "draft"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("notion_page_id", "not-an-id", "32 hexadecimal"),
     ("title", "   ", "needs a title"),
     ("title", "T" * 256, "at most 255"),
     ("topic", "t" * 501, "at most 500"),
     ("story_direction", "s" * 20_001, "at most 20,000"),
     ("channel_id", 2**31 - 1, "not in the catalog"),
     ("channel_id", None, "Choose the channel"),
     ("priority", "urgent", "one of high, normal, low")],
)  # fmt: skip
def test_a_draft_that_breaks_a_rule_is_refused_and_nothing_is_written(app_ctx, field, value, words):
    channel = ChannelFactory()
    with pytest.raises(RuleError, match=words) as refused:
        drafts.create_draft(values(channel, **{field: value}), actor=None)
    assert refused.value.field == field
    assert task_count() == 0
    assert task_rows() == []


def test_a_page_makes_one_task_only(app_ctx):
    channel = ChannelFactory()
    first = drafts.create_draft(values(channel), actor=None)
    with pytest.raises(RuleError, match=f"Task #{first.id} .* already made") as refused:
        drafts.create_draft(values(channel, notion_page_id=PAGE.upper(), title="Other"), actor=None)
    assert refused.value.field == "notion_page_id"
    assert task_count() == 1


def test_an_edit_writes_one_audit_row_of_what_changed_and_none_when_nothing_did(app_ctx):
    home, other = ChannelFactory(), ChannelFactory()
    task = drafts.create_draft(values(home), actor=None)
    changes = drafts.update_draft(
        task, values(other, title="How rivers carve canyons", topic=" Rivers "), actor=None
    )
    assert changes == {"topic": ["Geology", "Rivers"], "channel_id": [home.id, other.id]}
    assert drafts.update_draft(task, values(other, topic="Rivers"), actor=None) == {}
    _create, edit = task_rows()
    assert edit.action == "update"
    assert edit.changes == {
        "topic": ["Geology", "Rivers"], "channel": [home.channel_id, other.channel_id],
    }  # fmt: skip


def test_past_draft_only_the_priority_changes(app_ctx):
    task = drafts.create_draft(values(ChannelFactory()), actor=None)
    db.session.execute(update(Task).where(Task.id == task.id).values(status="queued"))
    db.session.refresh(task)
    with pytest.raises(RuleError, match="queued, past draft: only its priority") as refused:
        drafts.update_draft(task, {"title": "Renamed", "priority": "low"}, actor=None)
    assert refused.value.field == "title"
    assert drafts.update_draft(task, {"priority": "low"}, actor=None) == {
        "priority": ["high", "low"]
    }
    assert len(task_rows()) == 2


# -- the pages ------------------------------------------------------------------------------


def form_data(token: str, channel, **changes) -> dict:
    return {"csrf_token": token, **values(channel), **changes}


def test_an_editor_makes_a_draft_and_a_bad_save_writes_nothing(client, db_session, sign_in_as):
    sign_in_as("editor")
    channel = ChannelFactory(name="Rivers & Co")
    page = client.get("/production/tasks/new")
    assert page.status_code == 200
    assert "Rivers &amp; Co" in page.get_data(as_text=True)
    token = csrf_token(client.get("/production/tasks/new"))

    bad = client.post(
        "/production/tasks/new",
        data=form_data(token, channel, notion_page_id="nope", title="", topic="t" * 501),
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "nothing was saved" in html
    assert "32 hexadecimal characters" in html
    assert "A task needs a title." in html
    assert "Field cannot be longer than 500 characters." in html
    assert task_count(db_session) == 0
    assert task_rows(db_session) == []

    good = client.post("/production/tasks/new", data=form_data(token, channel))
    assert good.status_code == 303
    task = db_session.scalars(select(Task)).one()
    assert good.headers["Location"] == f"/production/tasks/{task.id}"
    assert len(task_rows(db_session)) == 1
    shown = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "How rivers carve canyons" in shown
    assert len(re.findall(r'data-testid="change-row"', shown)) == 1


def test_a_second_draft_of_the_same_page_is_refused_on_the_field(client, db_session, sign_in_as):
    sign_in_as("editor")
    channel = ChannelFactory()
    token = csrf_token(client.get("/production/tasks/new"))
    assert client.post("/production/tasks/new", data=form_data(token, channel)).status_code == 303
    again = client.post("/production/tasks/new", data=form_data(token, channel, title="Again"))
    assert again.status_code == 422
    assert "already made from this Notion page" in again.get_data(as_text=True)
    assert task_count(db_session) == 1
    assert len(task_rows(db_session)) == 1


def test_an_edit_saves_once_and_a_task_past_draft_offers_only_its_priority(
    client, db_session, sign_in_as
):
    sign_in_as("editor")
    channel = ChannelFactory()
    token = csrf_token(client.get("/production/tasks/new"))
    client.post("/production/tasks/new", data=form_data(token, channel))
    task = db_session.scalars(select(Task)).one()
    url = f"/production/tasks/{task.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'value="How rivers carve canyons"' in form
    saved = client.post(url, data=form_data(token, channel, title="Canyons, carved"))
    assert saved.status_code == 303
    db_session.expire_all()
    assert task.title == "Canyons, carved"
    assert [row.changes for row in task_rows(db_session)][-1] == {
        "title": ["How rivers carve canyons", "Canyons, carved"]
    }

    db_session.execute(update(Task).where(Task.id == task.id).values(status="queued"))
    form = client.get(url).get_data(as_text=True)
    assert 'name="priority"' in form
    assert 'name="title"' not in form
    assert client.post(url, data={"csrf_token": token, "priority": "low"}).status_code == 303
    db_session.expire_all()
    assert (task.priority, task.title) == ("low", "Canyons, carved")
    assert len(task_rows(db_session)) == 3


def test_readers_see_a_task_but_cannot_make_or_edit_one(client, db_session, sign_in_as):
    sign_in_as("viewer")
    channel = ChannelFactory()
    task = Task(channel_id=channel.id, notion_page_id=PAGE, title="Read only")
    db_session.add(task)
    db_session.flush()
    assert "Read only" in client.get(f"/production/tasks/{task.id}").get_data(as_text=True)
    token = csrf_token(client.get("/production"))
    assert client.post("/production/tasks/new", data=form_data(token, channel)).status_code == 403
    edit = client.post(f"/production/tasks/{task.id}/edit", data=form_data(token, channel))
    assert edit.status_code == 403
    assert client.get(f"/production/tasks/{2**31 - 1}").status_code == 404
    assert client.get(f"/production/tasks/{2**31}").status_code == 404
