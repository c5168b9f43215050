"""The player's progress beacons, /api/library/progress: authenticated by the beacon token
the watch page issues (catalog.library.beacons says what it binds and what it trades), not
by the session. No session, no CSRF token (the beacon token stands in for it), no user
loaded from a cookie (catalog.web.headers).

    POST /api/library/progress  token=…&position=12.5&played=10.0[&user_id=…]

Answers: 204 recorded; 400 {"errors"} for an impossible report (nothing written); 401 for
a missing, altered or expired token; 403 when the token's person may no longer report
(deactivated, no longer allowed to read the catalog, signed out since); 404 when the video
is no longer in the library."""

from flask import Blueprint, request

from catalog.extensions import csrf
from catalog.library import beacons, progress
from catalog.permissions import ROLE_PERMISSIONS, Permission
from catalog.web.actions import commit_or_explain

bp = Blueprint("beacons", __name__, url_prefix="/api/library")
csrf.exempt(bp)

FIELDS = {"token", "position", "played", "user_id"}
# The roles whose people may report progress: those that may read the catalog.
ROLES = sorted(role for role, held in ROLE_PERMISSIONS.items() if Permission.CATALOG_READ in held)


def _refused(code: int, *reasons: str):
    return {"errors": list(reasons)}, code


@bp.post("/progress")
def progress_beacon():
    """The player's beacon: 204 when recorded (see the module's docstring for the others)."""
    form = request.form
    beacon = beacons.read(form.get("token", ""))
    if beacon is None:
        return _refused(401, "token: missing, altered or expired; reload the page")
    if unknown := sorted(set(form) - FIELDS):
        return _refused(400, *(f"{name}: not a field of a progress report" for name in unknown))
    try:
        position, played = float(form["position"]), float(form["played"])
        user_id = int(form["user_id"]) if form.get("user_id") else None
    except (KeyError, ValueError):
        return _refused(400, "position, played: numbers of seconds; user_id: a number")
    if user_id is not None and user_id != beacon.user_id:
        return _refused(400, "user_id: a report can only be about your own progress")
    try:
        outcome = commit_or_explain(
            lambda: progress.record_beacon(
                beacon.user_id, beacon.tag, beacon.video, roles=ROLES,
                position=position, played=played,
            ),
            show=False,
        )  # fmt: skip
    except progress.NotAllowed:  # rolled back by commit_or_explain: nothing written
        return _refused(403, "you may no longer report progress; sign in again")
    except progress.NotInLibrary:
        return _refused(404, "this video is no longer in the library")
    if not outcome:
        return _refused(400, f"{outcome.error.field}: {outcome.error}")
    return "", 204
