"""The one step by which a view writes: run a service call, commit once, or roll back and
explain. (In the spirit of indico's request handler, which commits once or rolls back.)

    outcome = commit_or_explain(lambda: service.rename(channel, form.name.data, actor=...),
                                form=form)
    if outcome:
        flash(...)
        return redirect(...)
    return render_template(..., form=form), 422

The service call is the whole unit of work: it runs in db_retry.run_in_transaction, so a
deadlock or serialization failure runs it again from the start, and it commits once. A
RuleError rolls everything back: nothing is written, no audit row; its message goes on the
form field it names (or the form's `default_field`), or, without a form, into a flash.
Any other exception rolls back and propagates (to the error pages, or to a view that
answers it itself, such as a video's version conflict)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from catalog.extensions import db
from catalog.rules import RuleError
from catalog.web import db_retry
from catalog.web.text import plural


@dataclass(frozen=True)
class Outcome:
    """What a write came to: true when it was committed. `value` is what the service call
    returned; `error` the refusal when it was rolled back; `sent` false when there was
    nothing to write (a form shown, or sent with invalid input: save_form)."""

    value: Any = None
    error: RuleError | None = None
    sent: bool = True

    def __bool__(self) -> bool:
        return self.sent and self.error is None


def commit_or_explain(
    work: Callable[[], Any],
    *,
    form: FlaskForm | None = None,
    default_field: str | None = None,
    flash_prefix: str = "",
    refused: tuple[type[Exception], ...] = (),
    reworded: Mapping[type[Exception], str] | None = None,
    propagate: tuple[type[Exception], ...] = (),
    show: bool = True,
    attempts: int = db_retry.ATTEMPTS,
) -> Outcome:
    """Run `work`, commit, and return Outcome(value). Refused (a RuleError, or one of the
    `refused` exception types a caller treats the same way): roll back, put the message on
    the form (its field, else `default_field`) or flash it as a warning (prefixed with
    `flash_prefix`), and return Outcome(error=...).

    `reworded` maps exception types, refusals too, to the message people see instead of the
    exception's own (a version conflict: "look again"). `propagate` names RuleErrors that
    are not this page's to explain (an error handler answers them): they roll back and
    are raised, as is any other exception. `show=False` leaves showing the refusal to the
    page, which reads it from the outcome. `attempts=1` when `work` cannot run twice (it
    reads an upload's stream)."""
    reworded = dict(reworded or {})
    try:
        return Outcome(value=db_retry.run_in_transaction(work, attempts=attempts))
    except (RuleError, *refused, *reworded) as exc:
        db.session.rollback()
        if isinstance(exc, propagate):
            raise
        message = next((m for t, m in reworded.items() if isinstance(exc, t)), None)
        if message is not None:
            error = RuleError(message)
        else:
            error = exc if isinstance(exc, RuleError) else RuleError(str(exc))
        if show:
            explain(error, form=form, default_field=default_field, flash_prefix=flash_prefix)
        return Outcome(error=error)
    except BaseException:
        # Nothing of a failed unit of work may stay in the session for the page to commit.
        db.session.rollback()
        raise


def save_form(form: FlaskForm, work: Callable[[], Any], **options: Any) -> Outcome:
    """A form page's write in one step: when the form was posted and is valid, run `work`
    through commit_or_explain (refusals on the form's fields); otherwise a false Outcome
    with nothing sent, and the page shows the form (again, with its errors)."""
    if not form.validate_on_submit():
        return Outcome(sent=False)
    return commit_or_explain(work, form=form, **options)


def form_status(form: FlaskForm) -> int:
    """The status of a form page shown: 400 when it is shown again after a refused POST."""
    return 400 if form.is_submitted() else 200


def explain(
    error: RuleError,
    *,
    form: FlaskForm | None = None,
    default_field: str | None = None,
    flash_prefix: str = "",
) -> None:
    """Show a refusal where the user will look: on its form field, else as a flash."""
    if form is not None:
        name = error.field if error.field in form else default_field
        if name in form:
            form[name].errors = [*form[name].errors, *error.messages]
            return
    flash(f"{flash_prefix}{' '.join(error.messages)}", "warning")


NOTHING_SAVED = "Nothing changed, so nothing was saved."


def flash_saved(
    value: Any, saved: Callable[[Any], str] | None = None, unchanged: str | None = NOTHING_SAVED
) -> None:
    """The flash after a save: `saved(value)`, by default how many values changed (`value`:
    the changes, or their number); or `unchanged` when the value is empty (an edit that
    changed nothing) and `unchanged` is given."""
    if value or unchanged is None:
        if saved is None:
            count = value if isinstance(value, int) else len(value)
            flash(f"Saved {plural(count, 'change')}.", "success")
        else:
            flash(saved(value), "success")
    else:
        flash(unchanged, "info")
