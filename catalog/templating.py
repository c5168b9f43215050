"""Template filters and globals shared by every page."""

from datetime import UTC, datetime

from flask import Flask
from markupsafe import Markup, escape

from catalog.changes import diffs
from catalog.permissions import Permission, can


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(can=can, Permission=Permission)
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["show"] = show
    app.jinja_env.filters["reject_key"] = reject_key
    # An audit row's changes as FieldChanges (label, before/after, word diff tokens).
    app.jinja_env.filters["field_changes"] = diffs.field_changes
    app.jinja_env.filters["display"] = diffs.display
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def when(value: datetime | str | None) -> Markup:
    """A <time> element in UTC; static/js/app.js rewrites it in the reader's time zone."""
    if value is None:
        return Markup("")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    iso = value.isoformat(timespec="seconds")
    text = value.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, text, text)


def show(value) -> str:
    """A field value for reading: lists joined, booleans as Yes/No, nothing as a dash."""
    if value is None or value in ("", []):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(str(escape(v)) for v in value)
    return str(value)


def reject_key(args: dict, key: str) -> dict:
    """URL arguments without one of them (e.g. to remove a filter)."""
    return {name: value for name, value in args.items() if name != key}
