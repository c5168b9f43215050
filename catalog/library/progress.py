"""How far each person watched: the player's reports, upserted as one row per person and
video. Personal activity, not catalog data: no audit row (reference E).

What a report says and how it is counted:
- `position`: where the player is, in seconds (0 to the video's probed duration).
- `played`: seconds of the video actually played since the page's previous report (the
  player counts them from `timeupdate` while playing; seeking adds nothing). They add up to
  `watched_seconds`, but never faster than the wall clock allows: since the row was last
  written at most MAX_RATE times the seconds that have passed, plus GRACE for the first
  report and for reports that arrive late. A report claiming more is counted at that cap,
  not refused: a stalled network delivers honest reports late.
- `completed`: set when a report's position reaches COMPLETE_AT of the duration, and kept
  once reached (rewatching the opening does not undo it).

Impossible reports change nothing and are refused (the view answers 400): a position below
zero or past the duration, played seconds below zero or more than the whole video, a video
without a file or a duration, values that are not finite numbers, another person's id.
"""

import math

from sqlalchemy import select, text

from catalog.extensions import db
from catalog.models import Video
from catalog.rules import RuleError

COMPLETE_AT = 0.9
# "Resume at 12:34" is offered from this far in, and until this close to the end.
RESUME_FROM = 1.0
RESUME_UNTIL = 0.98
# The fastest playback counted as watching (the player offers up to 2x); GRACE covers one
# report interval (10 s of playing) and a late beacon.
MAX_RATE = 2.0
GRACE = 15.0

# One statement for the whole report: the video is looked up (published, with a file and a
# duration the position fits in) and the row upserted from it; no row back means one of
# those failed, and only then is the video read again to say which (`_refusal`). A beacon
# (`record_beacon`) looks its person up in the same statement: `person` is where the row's
# user id comes from.
_VIDEO = """
        SELECT id, duration_seconds FROM videos
        WHERE {video} AND published AND video_url IS NOT NULL
          AND duration_seconds > 0
          AND :position <= duration_seconds AND :played <= duration_seconds
"""
_UPSERT = """
    WITH v AS ({video}){person}
    INSERT INTO video_progress
        (user_id, video_id, watched_seconds, duration_seconds, last_position, completed)
    SELECT {user_id}, v.id, LEAST(:played, :rate * :grace), v.duration_seconds, :position,
           :position >= :complete_at * v.duration_seconds
    FROM v{people}
    ON CONFLICT (user_id, video_id) DO UPDATE SET
        watched_seconds = video_progress.watched_seconds + LEAST(
            :played,
            :rate * (GREATEST(extract(epoch FROM now() - video_progress.updated_at), 0)
                     + :grace)),
        duration_seconds = EXCLUDED.duration_seconds,
        last_position = EXCLUDED.last_position,
        completed = video_progress.completed OR EXCLUDED.completed,
        updated_at = now()
    RETURNING watched_seconds, last_position, completed
"""
# The beacon's person: still active, still holding a role that may read the catalog, and
# still signed in where the token was issued (signing out renews fs_uniquifier, which the
# token carries a digest of). One look-up by primary key, its roles by roles_users' key.
PERSON = """
    SELECT p.id FROM users p
    WHERE p.id = :user_id AND p.active
      AND left(encode(sha256(convert_to(p.fs_uniquifier, 'UTF8')), 'hex'), :tag_length) = :tag
      AND EXISTS (SELECT FROM roles_users pr JOIN roles r ON r.id = pr.role_id
                  WHERE pr.user_id = p.id AND r.name = ANY(:roles))
"""
_BY_KEY = text(
    _UPSERT.format(
        video=_VIDEO.format(video="video_id = :video_id"), person="", people="",
        user_id=":user_id",
    )
)  # fmt: skip
_BEACON = text(
    _UPSERT.format(
        video=_VIDEO.format(video="id = :video"), person=f", person AS ({PERSON})",
        people=", person", user_id="person.id",
    )
)  # fmt: skip
_PERSON = text(f"SELECT EXISTS ({PERSON})")


class NotInLibrary(LookupError):
    """No published video has that id: the view answers 404."""


class NotAllowed(PermissionError):
    """A beacon's person is no longer active, no longer may read the catalog, or has signed
    out since the token was issued: the API answers 403."""


def check_report(video: Video, position: float, played: float) -> float:
    """The video's duration when the report is possible for it; else RuleError."""
    if not video.video_url or not video.duration_seconds:
        raise RuleError("This video has no file to watch.", field="position")
    duration = video.duration_seconds
    _check_numbers(position, played)
    if position > duration:
        raise RuleError(f"The position must be between 0 and {duration:g} s.", field="position")
    if played > duration:
        raise RuleError(f"Played seconds must be between 0 and {duration:g}.", field="played")
    return duration


def _check_numbers(position: float, played: float) -> None:
    for name, value in (("position", position), ("played", played)):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise RuleError(f"{name} must be a number of seconds, 0 or more.", field=name)


def record(user_id: int, video_id: str, *, position: float, played: float) -> dict:
    """Upsert the person's progress on the video `video_id` (the YouTube id) from one player
    report (see the module's docstring for the rules); returns the row's watched_seconds,
    last_position and completed. Refuses an impossible report with RuleError and an id that
    is no published video with NotInLibrary, having written nothing."""
    _check_numbers(position, played)
    row = db.session.execute(
        _BY_KEY, {"user_id": user_id, "video_id": video_id, **_rules(position, played)}
    ).first()
    if row is None:
        _refusal(Video.video_id == video_id, video_id, position, played)
    return row._asdict()


def record_beacon(
    user_id: int, tag: str, video: int, *, roles: list[str], position: float, played: float
) -> dict:
    """`record` for a player's beacon (catalog.library.beacons): the video by its primary
    key, and the person checked in the same statement (active, holding one of `roles`, and
    `tag` the digest of their fs_uniquifier), so a beacon costs one statement. Refuses as
    `record` does, and with NotAllowed when the person may no longer report."""
    _check_numbers(position, played)
    params = {"user_id": user_id, "tag": tag, "tag_length": len(tag), "roles": roles}
    row = db.session.execute(
        _BEACON, {**params, "video": video, **_rules(position, played)}
    ).first()
    if row is None:
        if not db.session.scalar(_PERSON, params):
            raise NotAllowed(user_id)
        _refusal(Video.id == video, video, position, played)
    return row._asdict()


def _rules(position: float, played: float) -> dict:
    return {
        "played": played, "position": position, "rate": MAX_RATE, "grace": GRACE,
        "complete_at": COMPLETE_AT,
    }  # fmt: skip


def _refusal(which, video_id: str | int, position: float, played: float) -> None:
    video = db.session.scalars(select(Video).where(which, Video.published.is_(True))).first()
    if video is None:
        raise NotInLibrary(video_id)
    check_report(video, position, played)
    raise RuleError("This report cannot be recorded.", field="position")  # not reached


def progress_of(user_id: int, video_id: int):
    """The person's progress row on the video (last_position, watched_seconds, completed),
    or None when they have not started it."""
    return db.session.execute(
        text(
            "SELECT last_position, watched_seconds, completed, duration_seconds "
            "FROM video_progress WHERE user_id = :user_id AND video_id = :video_id"
        ),
        {"user_id": user_id, "video_id": video_id},
    ).first()


def clock(seconds: float) -> str:
    """12:34, or 1:02:03 past an hour."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def resume_offer(row, duration: float | None) -> dict | None:
    """{"position", "label"} when a started video should offer "Resume at 12:34" or "Start
    over": started far enough in and not already at its end."""
    if row is None or not duration:
        return None
    position = row.last_position
    if position < RESUME_FROM or position >= RESUME_UNTIL * duration:
        return None
    return {"position": round(position, 3), "label": clock(position)}
