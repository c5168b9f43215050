"""The signed-in user's own settings page; any signed-in user, for their own account only."""

from datetime import UTC, datetime

from flask import request, url_for
from flask_security import auth_required
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from catalog.accounts import bp, preferences
from catalog.permissions import signed_in_user
from catalog.web import timezones
from catalog.web.actions import commit_or_explain
from catalog.web.pages import form_page


class SettingsForm(FlaskForm):
    time_zone = SelectField("Time zone", validate_choice=False)


def _zone_choices(current: str | None) -> list[SelectChoice]:
    names = list(timezones.names())
    if current and current not in names:  # an alias the browser reported, e.g. US/Pacific
        names.insert(1, current)
    return [SelectChoice(name, name.replace("_", " ")) for name in names]


# Signed-in is all these need: each acts only on the signed-in user's own account.
@bp.route("/settings", methods=["GET", "POST"])
@auth_required("session")
def settings():
    user = signed_in_user()
    form = SettingsForm(data={"time_zone": user.time_zone or timezones.DEFAULT})
    form.time_zone.choices = _zone_choices(user.time_zone)
    return form_page(
        "accounts/settings.html", form,
        lambda: preferences.set_time_zone(user, form.time_zone.data, actor=user),
        saved=lambda _: f"Times are now shown in {user.time_zone}.",
        then=url_for("accounts.settings"),
        context=lambda: {"chosen": user.time_zone is not None, "now": datetime.now(UTC)},
        default_field="time_zone",
    )  # fmt: skip


@bp.post("/settings/browser-time-zone")
@auth_required("session")
def browser_time_zone():
    """The zone the browser reports (static/js/timezone.js), kept for a user without one."""
    user = signed_in_user()
    commit_or_explain(
        lambda: preferences.adopt_browser_time_zone(
            user, request.form.get("time_zone", ""), actor=user
        ),
        show=False,  # nobody reads the answer: the page goes on without it
    )
    return "", 204
