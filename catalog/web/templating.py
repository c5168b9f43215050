"""Template filters and globals shared by every page."""

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask import Flask
from jinja2.ext import Extension
from markupsafe import Markup, escape

from catalog.changes import history_rows
from catalog.permissions import Permission, can
from catalog.web import timezones
from catalog.web.links import template_url_for, url_pattern
from catalog.web.navigation import NAVIGATION
from catalog.web.text import plural, thousands
from catalog.web.timezones import when


def init_app(app: Flask) -> None:
    # time_zone(): the reader's zone name, for labels ("Published (Europe/Berlin)").
    app.jinja_env.globals.update(can=can, Permission=Permission, time_zone=timezones.current_name)
    app.jinja_env.globals["navigation"] = NAVIGATION
    app.jinja_env.globals["url_pattern"] = url_pattern
    app.jinja_env.globals["url_for"] = template_url_for
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["local_input"] = timezones.input_value
    app.jinja_env.filters["local_text"] = timezones.text
    app.jinja_env.filters["show"] = show
    app.jinja_env.filters["plural"] = plural  # {{ count | plural("video") }}
    app.jinja_env.filters["thousands"] = thousands  # {{ views | thousands }}: "12,345"
    app.jinja_env.filters["reject_key"] = reject_key
    app.jinja_env.filters["option_tags"] = option_tags  # {{ pairs | option_tags(current) }}
    # A table of audit rows, and one row's changes, written in Python.
    app.jinja_env.globals["history_rows"] = history_rows.history_rows
    app.jinja_env.globals["audit_changes"] = history_rows.changes
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension(Unindented)


class Unindented(Extension):
    """Templates are read without the indentation of their lines: it keeps the sources
    readable and is a tenth of a list page's bytes on the wire, where it means nothing (no
    template writes text across lines into a <pre>, a <textarea> or a pre-wrapped
    element; values put in keep their own)."""

    LEADING = re.compile(r"\n[ \t]+")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self.LEADING.sub("\n", source)


def show(value) -> str:
    """A field value for reading: lists joined, booleans as Yes/No, nothing as a dash. Plain
    text: the template escapes it (once: escaped here too, "R&B" read "R&amp;B")."""
    if value is None or value in ("", []):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def option_tags(options: Iterable[tuple[Any, Any]], current: Any) -> Markup:
    """A menu's (value, text) pairs as <option>s, the one whose value reads as `current`
    selected. One call, not a template loop: the 249 countries' loop was a third of the
    channel list's rendering. A menu given as a tuple (a constant, such as the countries) is
    rendered once per process; a list (menus read from the database) each time."""
    try:
        rendered = _kept_options(options)
    except TypeError:  # a list: not hashable, not kept
        rendered = _options(options)
    unselected = f'<option value="{escape(str(current))}">'
    return Markup(rendered.replace(unselected, f"{unselected[:-1]} selected>", 1))  # noqa: S704


def _options(options: Iterable[tuple[Any, Any]]) -> str:
    # (an option's end tag may be left out: the next option or </select> ends it)
    return "".join(f'<option value="{escape(value)}">{escape(text)}' for value, text in options)


_kept_options = lru_cache(maxsize=32)(_options)


def reject_key(args: dict, key: str) -> dict:
    """URL arguments without one of them (e.g. to remove a filter)."""
    return {name: value for name, value in args.items() if name != key}
