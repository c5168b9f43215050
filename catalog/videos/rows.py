"""The video list's rows as HTML, written here rather than by the template: the list's one
loop over hundreds of cells a page, and the page's largest cost in the template, where every
cell is its own chain of template lookups, a call to escape and a Markup object (about
1,200 a page of 50 rows). Here each column's cell writer is chosen once a page and each row
is one string: the values escaped as the template escapes them, in the same markup, byte for
byte (tests/videos/test_rows.py renders both). Django's admin writes its result rows in
Python for the same reason (items_for_result).

Rows carry no class or data per cell: a cell's column is its header's (col-<key>), found by
position (static/js/app.js, inplace.js); the cells and rows end where the next begin (HTML's
optional end tags). The header, the empty list and everything around the rows stay in
templates/videos/index.html."""

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from flask import current_app, url_for
from jinja2.filters import do_int, do_truncate
from markupsafe import Markup

from catalog.web import timezones
from catalog.web.text import escape, thousands

NOTES_SHOWN = 60  # characters of the notes a cell shows (whole words, then "...")

Cell = Callable[[Any, Any, dict], str]  # (row, row.Video, card values) -> the cell's HTML


def _attribute(name: str) -> Cell:
    """A cell of the video's text attribute `name` (empty for none)."""
    return lambda row, v, values: f"<td>{escape(text)}" if (text := getattr(v, name)) else "<td>"


def _category(row: Any, v: Any, values: dict) -> str:
    return f"<td>{escape(row.category_name)}" if row.category_name else "<td>"


def _views(row: Any, v: Any, values: dict) -> str:
    return f'<td class="n">{thousands(v.views)}'


def _notes(row: Any, v: Any, values: dict) -> str:
    if not v.notes:
        return "<td>"
    return f"<td>{escape(do_truncate(current_app.jinja_env, v.notes, NOTES_SHOWN, leeway=0))}"


def _changed(zone: tzinfo) -> Cell:
    """The last change: when, in the reader's zone (the header names it), and by whom."""

    def cell(row: Any, v: Any, values: dict) -> str:
        if not row.changed_at:
            return '<td class="s">'
        when = timezones.aware(row.changed_at).astimezone(zone).strftime(timezones.TO_THE_MINUTE)
        return f'<td class="s">{when}<br>{escape(row.changed_by or row.changed_source)}'

    return cell


def _custom(key: str, kind: str, top: int | None) -> Cell:
    """A card field's cell: a rating as stars, a boolean as Yes or No, else its value."""
    field = key[2:]

    def cell(row: Any, v: Any, values: dict) -> str:
        value = values.get(field)
        if value is None:
            return "<td>"
        if top:
            stars = do_int(value)
            return (
                f'<td><span title="{escape(value)} of {top}">{"★" * stars}{"☆" * (top - stars)}'
                "</span>"
            )
        if kind == "bool":
            return "<td>Yes" if value else "<td>No"
        return f"<td>{escape(value)}"

    return cell


def _video_id(detail: str) -> Cell:
    def cell(row: Any, v: Any, values: dict) -> str:
        video_id = escape(v.video_id)
        hidden = ' <span class="badge text-bg-secondary">hidden</span>' if v.hidden else ""
        return f'<td><a href="{detail}{video_id}">{video_id}</a>{hidden}'

    return cell


BUILT_IN: dict[str, Cell] = {
    "title": _attribute("title"),
    "channel": _attribute("channel_display_name"),
    "artist": _attribute("artists"),
    "category": _category,
    "claim": _attribute("claimed_status"),
    "privacy": _attribute("privacy_status"),
    "views": _views,
    "notes": _notes,
}


def _writers(columns: Sequence[tuple]) -> list[Cell]:
    """Each column's cell writer, in the columns' order (columns.ordered's tuples)."""
    detail = escape(url_for("videos.index") + "/")
    zone = timezones.current()  # the reader's, once a page
    writers = []
    for key, _label, kind, _field, top, _sortable, _edits in columns:
        if kind == "video_id":
            writers.append(_video_id(detail))
        elif kind == "changed":
            writers.append(_changed(zone))
        elif kind in BUILT_IN:
            writers.append(BUILT_IN[kind])
        else:
            writers.append(_custom(key, kind, top))
    return writers


def video_rows(rows: Sequence[Any], columns: Sequence[tuple], editable: bool) -> Markup:
    """The <tr> of each row (row.Video: the shown columns, queries.SHOWN), its cells in
    `columns`' order, with the selection box first for an editor."""
    writers = _writers(columns)
    out = []
    for row in rows:
        v = row.Video
        values = getattr(row, "card_values", None) or {}  # none without card columns
        if editable:
            video_id = escape(v.video_id)
            out.append(
                f'<tr><td><input type="checkbox" name="ids" value="{v.id}" '
                f'aria-label="Select {video_id}">'
            )
        else:
            out.append("<tr>")
        out.extend([write(row, v, values) for write in writers])
    return Markup("".join(out))  # noqa: S704 - every value above is escaped
