"""commit_or_explain: a view's one way to write. Committed, or rolled back with the refusal
shown where the user looks (its field, the page's default field, else a flash)."""

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import func, select, text
from wtforms import StringField

from catalog.categories import service as categories
from catalog.extensions import db
from catalog.models import MetadataSync, VideoCategory
from catalog.rules import RuleError
from catalog.web.actions import commit_or_explain, flash_saved
from tests import factories

DEADLOCK = "DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40P01'; END $$"


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Name")
    slug = StringField("Slug")


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(MetadataSync))


def _category_named(name: str) -> VideoCategory | None:
    return db.session.scalar(select(VideoCategory).where(VideoCategory.name == name))


@pytest.fixture
def editor(app_ctx):
    """An admin account acting through the services (the actor of the audit rows)."""
    user = factories.UserFactory(roles=["admin"])
    db.session.commit()
    return user


def test_a_committed_write_keeps_its_change_and_its_audit_row(app, editor):
    before = _audit_rows()
    with app.test_request_context(method="POST"):
        outcome = commit_or_explain(
            lambda: categories.create_category({"name": "Ambient"}, actor=editor)
        )
    assert outcome
    assert outcome.value.name == "Ambient"
    db.session.rollback()  # what was committed stays
    assert _category_named("Ambient") is not None
    assert _audit_rows() == before + 1


def test_a_refusal_writes_nothing_and_no_audit_row(app, editor):
    before = _audit_rows()

    def create_then_refuse():
        categories.create_category({"name": "Doomed"}, actor=editor)
        db.session.flush()  # written to the transaction, audit row included
        raise RuleError("Refused after writing.", "name")

    with app.test_request_context(method="POST"):
        form = NameForm()
        outcome = commit_or_explain(create_then_refuse, form=form)
    assert not outcome
    assert str(outcome.error) == "Refused after writing."
    assert _category_named("Doomed") is None
    assert _audit_rows() == before


def test_the_message_goes_on_the_field_the_refusal_names(app, app_ctx):
    with app.test_request_context(method="POST"):
        form = NameForm()
        outcome = commit_or_explain(_refuse("Taken.", "slug"), form=form, default_field="name")
        assert form.slug.errors == ["Taken."]
        assert not form.name.errors
        assert get_flashed_messages() == []
    assert outcome.error.field == "slug"


def test_a_refusal_of_no_field_of_the_form_goes_on_the_default_field(app, app_ctx):
    with app.test_request_context(method="POST"):
        form = NameForm()
        commit_or_explain(_refuse("Not allowed.", "password"), form=form, default_field="name")
        assert form.name.errors == ["Not allowed."]
        assert not form.slug.errors
        assert get_flashed_messages() == []


def test_every_message_of_a_refusal_is_shown(app, app_ctx):
    with app.test_request_context(method="POST"):
        form = NameForm()
        commit_or_explain(_refuse("Too short. Too common.", "name", ["Too short.", "Too common."]),
                          form=form)  # fmt: skip
        assert form.name.errors == ["Too short.", "Too common."]


def test_without_a_field_to_hold_it_the_refusal_is_flashed(app, app_ctx):
    with app.test_request_context(method="POST"):
        form = NameForm()
        commit_or_explain(_refuse("Not now."), form=form)
        commit_or_explain(_refuse("Already queued."), flash_prefix="Entry #4: ")
        assert not form.name.errors
        assert not form.slug.errors
        assert get_flashed_messages(with_categories=True) == [
            ("warning", "Not now."), ("warning", "Entry #4: Already queued."),
        ]  # fmt: skip


def test_a_page_that_shows_the_refusal_itself_gets_no_flash(app, app_ctx):
    with app.test_request_context(method="POST"):
        outcome = commit_or_explain(_refuse("Shown on the page."), show=False)
        assert get_flashed_messages() == []
    assert str(outcome.error) == "Shown on the page."


def test_other_exception_types_can_count_as_refusals_or_be_reworded(app, editor):
    class Moved(Exception):
        pass

    with app.test_request_context(method="POST"):
        refused = commit_or_explain(_raise(KeyError("gone")), refused=(KeyError,), show=False)
        reworded = commit_or_explain(_raise(Moved("v3")), reworded={Moved: "Look again."},
                                     show=False)  # fmt: skip
    assert str(refused.error) == "'gone'"
    assert str(reworded.error) == "Look again."


def test_a_refusal_to_pass_on_is_rolled_back_and_raised(app, editor):
    class Changed(RuleError):
        pass

    def create_then_raise():
        categories.create_category({"name": "Passed on"}, actor=editor)
        db.session.flush()
        raise Changed("A definition changed.")

    with app.test_request_context(method="POST"), pytest.raises(Changed):
        commit_or_explain(create_then_raise, propagate=(Changed,))
    assert _category_named("Passed on") is None


def test_any_other_exception_rolls_back_and_propagates(app, editor):
    def create_then_fail():
        categories.create_category({"name": "Half done"}, actor=editor)
        db.session.flush()
        raise RuntimeError("bug")

    with app.test_request_context(method="POST"), pytest.raises(RuntimeError):
        commit_or_explain(create_then_fail)
    # Nothing of the failed work is left in the session for a later commit to write.
    db.session.commit()
    assert _category_named("Half done") is None


def test_a_deadlock_victim_runs_again_and_commits_once(app, editor):
    runs = []

    def create_once_lost():
        runs.append(1)
        categories.create_category({"name": f"Attempt {len(runs)}"}, actor=editor)
        db.session.flush()
        if len(runs) == 1:
            db.session.execute(text(DEADLOCK))

    before = _audit_rows()
    with app.test_request_context(method="POST"):
        outcome = commit_or_explain(create_once_lost)
    assert outcome
    assert len(runs) == 2
    assert _category_named("Attempt 1") is None  # the lost run left nothing
    assert _category_named("Attempt 2") is not None
    assert _audit_rows() == before + 1


def test_work_that_cannot_run_twice_is_not_run_again(app, editor):
    from sqlalchemy.exc import OperationalError

    runs = []

    def lose():
        runs.append(1)
        db.session.execute(text(DEADLOCK))

    with app.test_request_context(method="POST"), pytest.raises(OperationalError):
        commit_or_explain(lose, attempts=1)
    assert runs == [1]


def _refuse(message: str, field: str | None = None, messages: list[str] | None = None):
    return _raise(RuleError(message, field, messages=messages))


def _raise(error: Exception):
    def work():
        raise error

    return work


def test_a_save_says_how_many_changes_it_made_or_that_there_were_none(app, app_ctx):
    with app.test_request_context(method="POST"):
        flash_saved(1)
        flash_saved(1200)
        flash_saved(0)
        assert get_flashed_messages(with_categories=True) == [
            ("success", "Saved 1 change."), ("success", "Saved 1,200 changes."),
            ("info", "Nothing changed, so nothing was saved."),
        ]  # fmt: skip
