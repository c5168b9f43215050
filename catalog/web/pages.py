"""The two pages every area's writes go through, each in one call: a form page (create or
edit) and a confirmation page (delete, revoke…). Post/redirect/get: the page is shown on
GET; a valid POST runs the service call through commit_or_explain, flashes what it did and
redirects; a refused POST shows the page again with the refusal.

    form = FieldForm()
    return form_page(
        "fields/create.html", form, lambda: service.create_field(form.values(), actor=...),
        saved=lambda field: f"Field {field.name} created.", then=url_for("fields.index"),
    )

`saved` turns what the service call returned into the flash; `then` is where to go next (a
URL, or a function of what the call returned, for a page that did not exist before it);
`context` gives the template's other values, and is called only when the page is shown."""

from collections.abc import Callable, Mapping
from typing import Any

from flask import redirect, render_template, request
from flask_wtf import FlaskForm

from catalog.web.actions import commit_or_explain, flash_saved, form_status, save_form
from catalog.web.forms import ConfirmForm

NO_CONTEXT: Callable[[], Mapping[str, Any]] = dict
Saved = Callable[[Any], str]
Then = str | Callable[[Any], str]


def form_page(
    template: str,
    form: FlaskForm,
    work: Callable[[], Any],
    *,
    saved: Saved | None = None,
    then: Then,
    context: Callable[[], Mapping[str, Any]] = NO_CONTEXT,
    after: Callable[[Any], None] | None = None,
    default_field: str = "name",
    **options: Any,
):
    """Show `form` in `template` (400 when shown again after a refused POST); a valid POST
    runs `work` (refusals on the form's fields, else on `default_field`), flashes `saved` of
    its value, or that nothing changed when the value is empty (an edit that changed
    nothing; `saved` by default counts the changes), and redirects to `then`. `after`, given
    the value once committed, keeps in the session what the next page shows once (a new
    token). `options` go to commit_or_explain."""
    outcome = save_form(form, work, default_field=default_field, **options)
    if outcome:
        if after:
            after(outcome.value)
        return _done(outcome.value, then, saved=saved)
    return render_template(template, form=form, **context()), form_status(form)


def confirm_page(
    template: str,
    work: Callable[[], Any],
    *,
    saved: Saved,
    then: Then,
    unchanged: str | None = None,
    in_use: Callable[[], Any] | None = None,
    context: Callable[[], Mapping[str, Any]] = NO_CONTEXT,
    **options: Any,
):
    """A confirmation page (its form: the CSRF token alone); the confirming POST runs `work`
    (a refusal is flashed), flashes `saved` of its value (or `unchanged` when the value is
    empty and `unchanged` is given: there was nothing to do) and redirects to `then`.

    `in_use` says what still uses the thing the action would delete (empty: nothing); the
    template gets it as `in_use`. While there is some, the page explains instead of asking
    and a POST answers 409; when the service refuses because something started using it
    since (its error among `options`' `refused`), the page shows what uses it now."""
    form = ConfirmForm()
    uses = in_use() if in_use else None
    if not uses and form.validate_on_submit():
        outcome = commit_or_explain(work, **options)
        if outcome:
            return _done(outcome.value, then, saved=saved, unchanged=unchanged)
        if in_use:
            uses = in_use()
    status = 409 if uses and request.method == "POST" else 200
    return render_template(template, form=form, in_use=uses, **context()), status


def _done(value: Any, then: Then, **flash_options: Any):
    flash_saved(value, **flash_options)
    return redirect(then(value) if callable(then) else then)
