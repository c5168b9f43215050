"""The reader's time zone: every page shows times in it and every form reads times in it;
the database and the audit log stay in UTC.

A user's zone is a setting on their account (`users.time_zone`, an IANA name such as
"Europe/Berlin"). Until it is set, times are shown in UTC and every label says so; the
browser offers its own zone on the first page (static/js/timezone.js)."""

from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import g, has_request_context
from flask_security import current_user
from markupsafe import Markup, escape

DEFAULT = "UTC"
# The menu lists the canonical zones of these areas (old aliases such as US/Pacific are still
# accepted, e.g. from a browser, but not offered).
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
         "Europe", "Indian", "Pacific")  # fmt: skip


@lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """Every zone a user may choose, sorted; UTC first."""
    zones = {name for name in available_timezones() if name.split("/")[0] in AREAS}
    return (DEFAULT, *sorted(zones))


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset({DEFAULT, *available_timezones()})


def is_valid(name: str | None) -> bool:
    """A zone name the zone database knows (old aliases such as "US/Pacific" included)."""
    return bool(name) and name in _known()


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def current_name() -> str:
    """The signed-in user's zone name, UTC when they have none (or outside a request)."""
    if not has_request_context():
        return DEFAULT
    # Read once per request: a list page shows a time in every row, and each read of
    # current_user goes through two proxies and the login manager.
    name = g.get("time_zone_name")
    if name is None:
        name = DEFAULT
        if current_user and current_user.is_authenticated:
            chosen = getattr(current_user, "time_zone", None)
            name = chosen if is_valid(chosen) else DEFAULT
        g.time_zone_name = name
    return name


def forget_current() -> None:
    """The user's zone changed during this request: read it again when next needed."""
    if has_request_context():
        g.pop("time_zone_name", None)


def current() -> tzinfo:
    return _zone(current_name())


def zone(name: str | None) -> tzinfo:
    """The zone called `name`, or the current user's when it is not a valid name."""
    return _zone(name) if is_valid(name) else current()


def local(value: datetime, name: str | None = None) -> datetime:
    """An aware time (naive ones are UTC) in the user's zone, or in the zone `name`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(name))


def to_utc(value: datetime, name: str | None = None) -> datetime:
    """A wall-clock time read in the user's zone (or `name`) → the same instant in UTC.
    An aware time keeps its own offset. A wall time that a clock change skips or repeats
    is read with Python's rule (fold 0: the first of two, a skipped one moved forward)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(name))
    return value.astimezone(UTC)


# How pages write a time (text, when), in the reader's zone.
TO_THE_MINUTE = "%Y-%m-%d %H:%M"
TO_THE_SECOND = "%Y-%m-%d %H:%M:%S"
# How a datetime-local input shows a time: to the second, so a save keeps the seconds.
INPUT_FORMAT = "%Y-%m-%dT%H:%M:%S"


def aware(value: datetime | str) -> datetime:
    """A datetime or ISO 8601 string as an aware datetime; without an offset it is UTC (as
    the database and the audit log keep times)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def text(value: datetime | str | None, seconds: bool = False, zone: bool = True) -> str:
    """A time as text in the reader's zone, naming the zone ("2024-10-15 11:29 PDT") unless
    `zone` is false (a list's column whose header names it)."""
    if value is None:
        return ""
    shown = local(aware(value))
    shown_text = shown.strftime(TO_THE_SECOND if seconds else TO_THE_MINUTE)
    return f"{shown_text} {shown.tzname() or current_name()}" if zone else shown_text


def input_value(value: datetime | None) -> str:
    """A time as a datetime-local input's value, in the reader's zone, to the second."""
    return "" if value is None else local(aware(value)).strftime(INPUT_FORMAT)


def when(value: datetime | str | None, seconds: bool = False, brief: bool = False) -> Markup:
    """A <time> element in the reader's zone, rendered here so that it needs no script;
    the UTC time is its tooltip (audit and database times are UTC). `brief`
    (a list's column of times): no tooltip when the reader reads UTC already."""
    if value is None:
        return Markup("")
    # A list shows one in every row: formatted in one pass (what text() says), the zone
    # looked up once; of the values put in, only the zone's abbreviation needs escaping.
    utc = aware(value).astimezone(UTC)
    shown = utc.astimezone(current())
    local_text = shown.strftime(TO_THE_SECOND if seconds else TO_THE_MINUTE)
    zone_name = escape(shown.tzname() or current_name())
    title = "" if brief and current_name() == DEFAULT else f' title="{utc:%Y-%m-%d %H:%M:%S} UTC"'
    stamp = utc.isoformat(timespec="seconds")
    return Markup(  # noqa: S704  (dates formatted here; the one outside text is escaped)
        f'<time datetime="{stamp}"{title}>{local_text} {zone_name}</time>'
    )
