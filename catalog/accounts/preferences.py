"""A user's own settings: for now the time zone they read and type times in.

Like every account change it leaves an audit row (entity "user") in the caller's
transaction; nothing here commits."""

from catalog.accounts.service import USER, AccountError
from catalog.models import User
from catalog.web import timezones


def set_time_zone(
    user: User, name: str, *, actor: User | None, source: str = "web"
) -> dict[str, list]:
    """Set `user`'s time zone to the IANA zone `name`; returns the change ({} when none)."""
    if not timezones.is_valid(name):
        raise AccountError("Choose a time zone from the list.", field="time_zone")
    if user.time_zone == name:
        return {}
    changes = {"time_zone": [user.time_zone, name]}
    user.time_zone = name
    timezones.forget_current()  # pages rendered after this, in this request, use the new one
    USER.record(user, "update", changes, actor=actor, source=source)
    return changes


def adopt_browser_time_zone(user: User, name: str, *, actor: User | None) -> dict[str, list]:
    """The zone the browser reports, for a user who has not chosen one; a choice the user
    made is never replaced. A name the zone database does not know becomes UTC, so the
    browser is not asked again on every page."""
    if user.time_zone is not None:
        return {}
    if not timezones.is_valid(name):
        name = timezones.DEFAULT
    return set_time_zone(user, name, actor=actor)
