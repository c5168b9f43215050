"""An admin's view of a person's library progress, under their account, and clearing it
(POST only, after a confirmation page)."""

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select

from catalog.library import activity, bp
from catalog.models import User
from catalog.permissions import Permission, require, signed_in_user
from catalog.web.actions import commit_or_explain
from catalog.web.forms import ConfirmForm
from catalog.web.loaders import load_or_404
from catalog.web.text import plural


def _user(user_id: int) -> User:
    return load_or_404(select(User).where(User.id == user_id))


@bp.get("/accounts/users/<id:user_id>/progress")
@require(Permission.USERS_MANAGE)
def user_progress(user_id: int):
    user = _user(user_id)
    total, rows = activity.progress_of(user)
    return render_template(
        "library/user_progress.html", user=user, total=total, rows=rows, shown=activity.SHOWN
    )


@bp.route("/accounts/users/<id:user_id>/progress/clear", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def clear_progress(user_id: int):
    user = _user(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        done = commit_or_explain(lambda: activity.clear_progress(user, actor=signed_in_user()))
        if done:
            if done.value:
                count = plural(done.value, "video")
                flash(f"Cleared the progress of {user.email} on {count}.", "success")
            else:
                flash("Nothing to clear.", "info")
            return redirect(url_for("library.user_progress", user_id=user.id))
    total, _rows = activity.progress_of(user, limit=0)
    return render_template("library/clear_progress.html", user=user, form=form, total=total)
